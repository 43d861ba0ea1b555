"""Deadlines: the promises a code of conduct makes, kept as rows in our own tables.

A scheduler only wakes the worker; the rows are the truth. Firing is a
conditional update on `fired_at IS NULL`, so however many workers race, each
deadline has its effect once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.clock import utcnow
from core.models import Case, Deadline


class DeadlineKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement_due"
    STALE = "stale_case"
    CHECK_IN = "reporter_check_in"
    APPEAL_WINDOW = "appeal_window_closes"
    BAN_ENDS = "temporary_ban_ends"
    NO_CONTACT_ENDS = "no_contact_ends"
    RESPONSE_DUE = "respondent_response_due"


def schedule(
    session: Session,
    case: Case,
    kind: DeadlineKind,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> Deadline:
    deadline = Deadline(case=case, kind=str(kind), due_at=due_at, payload=payload or {})
    session.add(deadline)
    audit.record(
        session, "deadline.scheduled", case=case, kind=str(kind), due_at=due_at.isoformat()
    )
    return deadline


def after(hours: float = 0.0, days: float = 0.0, now: datetime | None = None) -> datetime:
    """A due time counted from now; fractions are welcome (tests use seconds-long windows)."""
    return (now or utcnow()) + timedelta(hours=hours, days=days)


def pending(session: Session, case_id: int | None = None) -> list[Deadline]:
    query = select(Deadline).where(Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
    if case_id is not None:
        query = query.where(Deadline.case_id == case_id)
    return list(session.scalars(query.order_by(Deadline.due_at)))


def next_pending(session: Session, case_id: int) -> Deadline | None:
    upcoming = pending(session, case_id)
    return upcoming[0] if upcoming else None


def cancel(session: Session, case_id: int, kind: DeadlineKind, reason: str) -> int:
    """Withdraw the open deadlines of one kind, e.g. the acknowledgement once it is given."""
    result = session.execute(
        update(Deadline)
        .where(
            Deadline.case_id == case_id,
            Deadline.kind == str(kind),
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .values(cancelled_at=utcnow())
    )
    count = result.rowcount or 0
    if count:
        audit.record(
            session,
            "deadline.cancelled",
            case=session.get(Case, case_id),
            kind=str(kind),
            reason=reason,
        )
    return count


def claim_firing(session: Session, deadline_id: int, now: datetime | None = None) -> bool:
    """Mark a deadline fired if, and only if, nobody has yet. True means: do its effect."""
    result = session.execute(
        update(Deadline)
        .where(
            Deadline.id == deadline_id,
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .values(fired_at=now or utcnow())
    )
    return (result.rowcount or 0) == 1
