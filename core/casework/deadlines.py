"""Deadlines: the promises a code of conduct makes, kept as rows in our own tables.

A scheduler only wakes the worker; the rows are the truth. Firing is a
conditional update on `fired_at IS NULL`, so however many workers race, each
deadline has its effect once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.infra import audit
from core.infra.clock import utcnow
from core.infra.models import Case, Deadline


class DeadlineKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement_due"
    STALE = "stale_case"
    CHECK_IN = "reporter_check_in"
    APPEAL_WINDOW = "appeal_window_closes"
    BAN_ENDS = "temporary_ban_ends"
    NO_CONTACT_ENDS = "no_contact_ends"
    RESPONSE_DUE = "respondent_response_due"
    RETENTION_STARTS = "retention_starts"
    EXPUNGE_NOTICE = "expunge_notice"
    EXPUNGE = "expunge"


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


class NextDeadline(NamedTuple):
    kind: str
    due_at: datetime


def next_pending_by_case(session: Session, case_ids: list[int]) -> dict[int, NextDeadline]:
    """The next pending deadline of each of many cases, in one query that returns one row
    per case: lists of cases (`steward cases list`, App Home) would otherwise pay a round
    trip per case, or load every pending deadline of every listed case."""
    if not case_ids:
        return {}
    ranked = (
        select(
            Deadline.case_id,
            Deadline.kind,
            Deadline.due_at,
            func.row_number()
            .over(partition_by=Deadline.case_id, order_by=(Deadline.due_at, Deadline.id))
            .label("rank"),
        )
        .where(
            Deadline.case_id.in_(case_ids),
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.case_id, ranked.c.kind, ranked.c.due_at).where(ranked.c.rank == 1)
    )
    return {case_id: NextDeadline(kind, due_at) for case_id, kind, due_at in rows}


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


# The clocks every open case runs on, re-armed each time they fire; their interval is
# kept in the payload so a reopened case can restart them with the same rhythm.
FOLLOW_UP_KINDS = (DeadlineKind.STALE, DeadlineKind.CHECK_IN)


def opening_clocks(
    *, ack_hours: float, stale_days: float, checkin_days: float, now: datetime
) -> list[tuple[DeadlineKind, datetime, dict[str, Any]]]:
    """The promises that start when a case opens: acknowledge it, and the follow-up clocks.

    One definition, so a case opened in bulk runs on exactly the clocks of one opened alone.
    """
    return [
        (DeadlineKind.ACKNOWLEDGEMENT, after(hours=ack_hours, now=now), {}),
        (DeadlineKind.STALE, after(days=stale_days, now=now), {"every_days": stale_days}),
        (DeadlineKind.CHECK_IN, after(days=checkin_days, now=now), {"every_days": checkin_days}),
    ]


def rearm_follow_ups(session: Session, case: Case, now: datetime | None = None) -> list[Deadline]:
    """Restart the follow-up clocks of a reopened case with the interval they last had."""
    running = {d.kind for d in pending(session, case.id)}
    armed = []
    for kind in FOLLOW_UP_KINDS:
        if str(kind) in running:
            continue
        last = session.scalars(
            select(Deadline)
            .where(Deadline.case_id == case.id, Deadline.kind == str(kind))
            .order_by(Deadline.id.desc())
            .limit(1)
        ).first()
        days = (last.payload or {}).get("every_days") if last is not None else None
        if days:
            armed.append(
                schedule(session, case, kind, after(days=float(days), now=now), dict(last.payload))
            )
    return armed


def cancel_kinds(
    session: Session, case_id: int, kinds: tuple[DeadlineKind, ...], reason: str
) -> int:
    """Withdraw several kinds at once, e.g. every follow-up once a decision is sent."""
    return sum(cancel(session, case_id, kind, reason) for kind in kinds)


def move(
    session: Session,
    deadline: Deadline,
    due_at: datetime,
    *,
    actor: str = audit.SYSTEM,
    reason: str,
) -> bool:
    """Move a pending deadline, conditionally, so a move never revives a fired one.

    The scheduler notices the new `due_at` on its next resync and moves its job.
    """
    previous = deadline.due_at
    result = session.execute(
        update(Deadline)
        .where(
            Deadline.id == deadline.id,
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .values(due_at=due_at)
    )
    if (result.rowcount or 0) != 1:
        return False
    session.refresh(deadline)
    audit.record(
        session,
        "deadline.moved",
        actor=actor,
        case=deadline.case,
        kind=deadline.kind,
        deadline_id=deadline.id,
        previous=previous.isoformat(),
        due_at=due_at.isoformat(),
        reason=reason,
    )
    return True
