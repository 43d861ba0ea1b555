"""Formal notices to the people on a case: decisions, appeal answers, appeal outcomes.

A notice is rendered once, from the same template whichever way it travels
(email, or a direct message from the bot), and the words exactly as sent become
an entry on the case, because a decision notice is itself part of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.actions import contact_route
from core.casework.cases import EntryKind, Source, add_entry, system_entry
from core.casework.correspondence import base_context, queue_email
from core.infra import audit
from core.infra.models import Case, Entry, Party
from core.infra.settings import Settings
from core.infra.templates import render

EMAIL, SLACK = "email", "slack"

# How to act on a notice differs by route; the rest of the words are shared.
HOW_TO_APPEAL = {
    EMAIL: "To appeal, reply to this email and tell us why; your reply joins the same case.",
    SLACK: "To appeal, use the *Appeal this decision* button below and tell us why.",
}
HOW_TO_ADD = {
    EMAIL: "reply to this email.",
    SLACK: "write to the stewards in this conversation.",
}


@dataclass(frozen=True)
class SentNotice:
    """A notice as it was queued: the entry that records it, and the route it took."""

    entry: Entry
    route: str


def route_for(party: Party, prefer: str | None = None) -> str | None:
    """The party's own route, unless they wrote to us another way we can answer on."""
    has_email = bool(party.contact_email or party.person.email)
    if prefer == EMAIL and has_email:
        return EMAIL
    if prefer == SLACK and party.person.slack_user_id:
        return SLACK
    return contact_route(party)


def send_notice(
    session: Session,
    settings: Settings,
    case: Case,
    party: Party,
    template: str,
    *,
    message_code: str,
    entry_kind: EntryKind,
    context: dict[str, Any],
    actor: str = audit.SYSTEM,
    prefer: str | None = None,
    details: dict[str, Any] | None = None,
) -> SentNotice | None:
    """Queue one notice to one party by their route and record it as sent.

    `context` may hold route-dependent values as dicts keyed by route (e.g. how to
    appeal); they are resolved here. Returns None, after noting it on the case, when
    the record holds no way to reach the person.
    """
    route = route_for(party, prefer)
    if route is None:
        system_entry(
            session,
            case,
            f"No {template.replace('_', ' ')} notice could be sent to the {party.role}: "
            "the record has no way to reach them, or they asked not to be contacted.",
            template=template,
            to_role=party.role,
        )
        return None
    values = {k: (v[route] if isinstance(v, dict) else v) for k, v in context.items()}
    if route == EMAIL:
        item = queue_email(session, settings, case, party, template, kind=template, context=values)
        text = str(item.payload["body"])
    else:
        text = render(template, **{**base_context(settings, case), **values}).body
        notify.direct_message(
            session,
            case,
            party.person.slack_user_id or "",
            message_code,
            text=text,
            ref=case.ref,
            case_id=case.id,
            **(details or {}),
        )
    entry = add_entry(
        session,
        case,
        entry_kind,
        Source.SYSTEM,
        text,
        party=party,
        author=actor,
        data={"template": template, "via": route, "to_role": party.role, **(details or {})},
    )
    return SentNotice(entry=entry, route=route)
