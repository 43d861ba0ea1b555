"""The audit trail: every change and every read of a case, with who did it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.infra import auditchain  # noqa: F401 - links every event into its case's chain
from core.infra.models import AuditEvent, Case, Entry

SYSTEM = "system"


def steward_actor(user_id: str) -> str:
    return f"steward:{user_id}"


def party_actor(party_id: int) -> str:
    return f"party:{party_id}"


def operator_actor(login: str) -> str:
    """Someone at the server's command line (an export, a check): named by their login."""
    return f"operator:{login}"


def record(
    session: Session,
    action: str,
    actor: str = SYSTEM,
    case: Case | None = None,
    entry: Entry | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append an audit event in the caller's unit of work, so it commits with the change.

    It takes objects rather than ids so that recording never forces an early flush.
    """
    event = AuditEvent(case=case, entry=entry, actor=actor, action=action, detail=detail)
    session.add(event)
    return event
