"""Mail from Steward to the people on a case, queued through the outbox.

The rules that keep mail safe live here, once: mail goes only to addresses on
the case record, every message carries the case's thread (References include
its root), and every Message-ID we send is remembered so replies thread back.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from core.casework.cases import parties_with_address
from core.casework.codenames import new_token
from core.infra import outbox
from core.infra.models import Case, MailReference, OutboxItem, Party
from core.infra.settings import Settings
from core.infra.templates import render
from core.policy.record import code_in_force
from core.policy.wording import appeal_promise

EMAIL = "email"


class NotOnRecord(PermissionError):
    """Refused: the address is not on this case's record. Names no address."""


def new_message_id(domain: str) -> str:
    """A random Message-ID on our domain that says nothing about the case or the people."""
    return f"<{new_token(16)}@{domain}>"


def reply_address(settings: Settings, party: Party) -> str:
    """The plus-address whose token routes a reply to this party's case."""
    return _reply_address(settings, party.reply_token)


def _reply_address(settings: Settings, reply_token: str) -> str:
    return f"{settings.conduct_local}+{reply_token}@{settings.conduct_domain}"


def mail_thread_key(case_id: int, party_id: int) -> str:
    """One outbox ordering key per correspondent, so our mails to them leave in order."""
    return f"mail:{case_id}:{party_id}"


class CaseHeading(Protocol):
    """What a message needs to know about its case: a `Case`, or a case just opened in bulk."""

    id: int
    code_name: str
    root_message_id: str | None

    @property
    def ref(self) -> str: ...


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
    payload = compose(
        settings,
        case,
        party.reply_token,
        recipient,
        template,
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
        context=context,
    )
    session.add(MailReference(message_id=payload["message_id"], case_id=case.id, party_id=party.id))
    return outbox.enqueue(
        session,
        EMAIL,
        kind,
        payload,
        case_id=case.id,
        recipient=recipient,
        ordering_key=mail_thread_key(case.id, party.id),
    )


def compose(
    settings: Settings,
    case: CaseHeading,
    reply_token: str,
    recipient: str,
    template: str,
    *,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    automatic: bool = False,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One message's outbox payload: rendered text, a fresh Message-ID, the case's thread.

    The caller has already checked that `recipient` is on the record.
    """
    rendered = render(template, **{**base_context(settings, case), **(context or {})})
    chain = [m for m in [case.root_message_id, *(references or []), in_reply_to] if m]
    return {
        "to": recipient,
        "subject": rendered.subject,
        "body": rendered.body,
        "message_id": new_message_id(settings.conduct_domain),
        "in_reply_to": in_reply_to or case.root_message_id,
        "references": list(dict.fromkeys(chain)),
        "reply_to": _reply_address(settings, reply_token),
        "automatic": automatic,
        "case_ref": case.ref,
    }


def base_context(settings: Settings, case: CaseHeading) -> dict[str, Any]:
    """What every message may say. The community and the appeal promise come from the
    code in force; a decision's notices pass the case's own code instead."""
    code = code_in_force(settings)
    return {
        "ref": case.ref,
        "code_name": case.code_name,
        "community": code.community_name(settings),
        "appeal_promise": appeal_promise(code, settings),
    }
