"""Mail from Steward to the people on a case, queued through the outbox.

The rules that keep mail safe live here, once: mail goes only to addresses on
the case record, every message carries the case's thread (References include
its root), and every Message-ID we send is remembered so replies thread back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import outbox
from core.cases import parties_with_address
from core.clock import count_text
from core.codenames import new_token
from core.models import Case, MailReference, OutboxItem, Party
from core.settings import Settings
from core.templates import render

EMAIL = "email"


class NotOnRecord(PermissionError):
    """Refused: the address is not on this case's record. Names no address."""


def new_message_id(domain: str) -> str:
    """A random Message-ID on our domain that says nothing about the case or the people."""
    return f"<{new_token(16)}@{domain}>"


def reply_address(settings: Settings, party: Party) -> str:
    """The plus-address whose token routes a reply to this party's case."""
    return f"{settings.conduct_local}+{party.reply_token}@{settings.conduct_domain}"


def is_on_record(session: Session, case_id: int, address: str) -> bool:
    return bool(parties_with_address(session, case_id, address))


def queue_email(
    session: Session,
    settings: Settings,
    case: Case,
    party: Party,
    template: str,
    *,
    kind: str,
    to: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    automatic: bool = False,
    context: dict[str, Any] | None = None,
) -> OutboxItem:
    """Render a template for one party and queue it; refuse any address not on the record."""
    recipient = (to or party.contact_email or party.person.email or "").strip().lower()
    if not recipient or not is_on_record(session, case.id, recipient):
        raise NotOnRecord(f"recipient is not on the record of {case.ref}")
    rendered = render(template, **base_context(settings, case), **(context or {}))
    message_id = new_message_id(settings.conduct_domain)
    chain = [m for m in [case.root_message_id, *(references or []), in_reply_to] if m]
    payload = {
        "to": recipient,
        "subject": rendered.subject,
        "body": rendered.body,
        "message_id": message_id,
        "in_reply_to": in_reply_to or case.root_message_id,
        "references": list(dict.fromkeys(chain)),
        "reply_to": reply_address(settings, party),
        "automatic": automatic,
        "case_ref": case.ref,
    }
    session.add(MailReference(message_id=message_id, case_id=case.id, party_id=party.id))
    return outbox.enqueue(
        session,
        EMAIL,
        kind,
        payload,
        case_id=case.id,
        recipient=recipient,
        ordering_key=f"mail:{case.id}:{party.id}",
    )


def base_context(settings: Settings, case: Case) -> dict[str, Any]:
    return {
        "ref": case.ref,
        "code_name": case.code_name,
        "community": settings.community_name,
        "appeal_days": count_text(settings.appeal_days),
    }
