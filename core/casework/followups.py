"""What each deadline does when it falls due, and what stewards do with reminders.

`fire` is the one entry point the scheduler calls. It claims the deadline with
the conditional update (`fired_at IS NULL`) and applies its effect in the same
transaction, so however many workers race for a deadline, it has its effect
once. Recurring follow-ups (stale case, reporter check-in) re-arm themselves as
a new row, so each row fires once and the table is the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.actions import NotAllowed, check_may_act, contact_route, relay
from core.casework.cases import EntryKind, Role, reporter_of, system_entry, transition
from core.casework.deadlines import DeadlineKind, claim_firing, move, pending, schedule
from core.casework.notify import Notice
from core.casework.status import Status
from core.decisions.decisions import latest_decision
from core.infra import audit
from core.infra.clock import human_exact, iso, utcnow
from core.infra.db import Database
from core.infra.logs import about
from core.infra.models import Case, Deadline, Entry
from core.infra.settings import Settings
from core.policy.record import case_code
from core.records import retention

log = logging.getLogger(__name__)

FIRED, GONE, NOT_DUE, MOVED = "fired", "gone", "not_due", "moved"

# Snooze offers these (days); any positive number is accepted.
SNOOZE_CHOICES: tuple[float, ...] = (1.0, 3.0, 7.0)
# Reminders to stewards may be snoozed; the appeal window is a promise to the people
# on the case, so it never moves at a steward's convenience.
SNOOZABLE = frozenset(
    {
        DeadlineKind.ACKNOWLEDGEMENT,
        DeadlineKind.STALE,
        DeadlineKind.CHECK_IN,
        DeadlineKind.BAN_ENDS,
        DeadlineKind.NO_CONTACT_ENDS,
        DeadlineKind.RESPONSE_DUE,
    }
)
QUIET = frozenset({Status.AWAITING_APPEAL, Status.CLOSED})
# Entries that record what Steward sent a person, not what they said.
OUTGOING = (EntryKind.RELAY_OUT, EntryKind.DECISION_NOTICE, EntryKind.APPEAL_NOTICE)


@dataclass(frozen=True)
class FireResult:
    """What became of one attempt: fired, gone (fired, cancelled or missing elsewhere),
    not due yet, or moved (a stale clock pushed back by activity); `due_at` when pending."""

    deadline_id: int
    outcome: str
    due_at: datetime | None = None
    kind: str | None = None


Effect = Callable[[Session, Settings, Case, Deadline, datetime], None]


def fire(
    session: Session, settings: Settings, deadline_id: int, now: datetime | None = None
) -> FireResult:
    """Fire one deadline if it is due and nobody has; its effect commits with the claim."""
    now = now or utcnow()
    deadline = session.get(Deadline, deadline_id)
    if deadline is None or deadline.fired_at is not None or deadline.cancelled_at is not None:
        return FireResult(deadline_id, GONE)
    if deadline.due_at > now:
        return FireResult(deadline_id, NOT_DUE, deadline.due_at)
    case = deadline.case
    settings = case_code(session, settings, case).timing(settings)  # the case's own deadlines
    if deadline.kind == DeadlineKind.STALE and case.status not in QUIET:
        quiet_until = case.last_activity_at + timedelta(days=_every(deadline, settings.stale_days))
        if quiet_until > now:
            moved = move(session, deadline, quiet_until, reason="activity on the case")
            return FireResult(deadline_id, MOVED if moved else GONE, quiet_until)
    if not claim_firing(session, deadline_id, now):
        return FireResult(deadline_id, GONE)
    audit.record(session, "deadline.fired", case=case, kind=deadline.kind, deadline_id=deadline_id)
    EFFECTS[DeadlineKind(deadline.kind)](session, settings, case, deadline, now)
    notify.refresh_views(session, case)
    log.info(
        "deadline %s (%s) fired for %s",
        deadline_id,
        deadline.kind,
        case.ref,
        extra=about(case.ref, deadline_id=deadline_id, kind=deadline.kind),
    )
    return FireResult(deadline_id, FIRED, kind=deadline.kind)


def fire_due(db: Database, settings: Settings, now: datetime | None = None) -> list[int]:
    """Fire everything due by `now`, each in its own transaction; returns what fired here."""
    now = now or utcnow()
    with db.session() as session:
        due = [d.id for d in pending(session) if d.due_at <= now]
    fired = []
    for deadline_id in due:
        with db.session() as session:
            if fire(session, settings, deadline_id, now).outcome == FIRED:
                fired.append(deadline_id)
    return fired


def remind(
    session: Session,
    case: Case,
    deadline: Deadline,
    summary: str,
    *,
    mention_stewards: bool = False,
    snooze: bool = True,
    **details: object,
) -> None:
    """One reminder line in the case thread; it names the deadline so Snooze can move it."""
    notify.staff_notice(
        session,
        case,
        Notice.REMINDER,
        mention_stewards=mention_stewards,
        kind=deadline.kind,
        deadline_id=deadline.id,
        due_at=iso(deadline.due_at),
        snooze=snooze and DeadlineKind(deadline.kind) in SNOOZABLE,
        summary=summary,
        **details,
    )


def _acknowledgement(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """24 h: remind the thread. 48 h: mention every steward. Nothing once acknowledged."""
    if case.status != Status.NEW:
        return
    hours = max(1, round((now - case.created_at).total_seconds() / 3600))
    if (deadline.payload or {}).get("escalate"):
        remind(
            session,
            case,
            deadline,
            f"{case.ref} is still not acknowledged, {hours} h after it arrived. "
            "All stewards: please pick it up.",
            mention_stewards=True,
            snooze=False,
            escalation=True,
        )
        return
    remind(
        session,
        case,
        deadline,
        f"{case.ref} has not been acknowledged yet ({hours} h). Claim or acknowledge it.",
    )
    escalated = any(
        (d.payload or {}).get("escalate")
        for d in session.scalars(
            select(Deadline).where(
                Deadline.case_id == case.id, Deadline.kind == str(DeadlineKind.ACKNOWLEDGEMENT)
            )
        )
    )
    if not escalated and settings.ack_escalate_hours > settings.ack_hours:
        due = case.created_at + timedelta(hours=settings.ack_escalate_hours)
        schedule(session, case, DeadlineKind.ACKNOWLEDGEMENT, due, {"escalate": True})


def _stale(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    if case.status in QUIET:
        return
    every = _every(deadline, settings.stale_days)
    remind(
        session,
        case,
        deadline,
        f"Nothing has happened on {case.ref} since {human_exact(case.last_activity_at)}.",
    )
    schedule(session, case, DeadlineKind.STALE, now + timedelta(days=every), {"every_days": every})


def _check_in(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """Every `checkin_days` while open: the reporter deserves to hear how it goes."""
    if case.status in QUIET:
        return
    reporter = reporter_of(case)
    if reporter is None or contact_route(reporter) is None:
        return
    every = _every(deadline, settings.checkin_days)
    remind(
        session,
        case,
        deadline,
        f"Time to update the reporter of {case.ref} on how the case is going.",
    )
    schedule(
        session, case, DeadlineKind.CHECK_IN, now + timedelta(days=every), {"every_days": every}
    )


def _appeal_window(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """No appeal came: the case closes by itself, and the thread says so."""
    session.refresh(case, with_for_update=True)  # serialise with an appeal arriving now
    closes = human_exact(deadline.due_at)
    decision = latest_decision(session, case.id)
    if decision is None or decision.id != (deadline.payload or {}).get("decision_id"):
        return  # a superseded decision's window: the case has moved on
    if case.status == Status.AWAITING_APPEAL:
        transition(session, case, Status.CLOSED, audit.SYSTEM, "appeal window closed")
        system_entry(
            session,
            case,
            f"The appeal window closed on {closes} with no appeal, so the case is closed.",
            deadline_id=deadline.id,
        )
        remind(
            session,
            case,
            deadline,
            f"The appeal window of {case.ref} closed on {closes} with no appeal. "
            "The case is closed.",
            snooze=False,
            closed=True,
        )
    elif case.status == Status.CLOSED:
        system_entry(session, case, f"The appeal window closed on {closes}.")


def _ban_ends(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    remind(
        session,
        case,
        deadline,
        f"The temporary ban in {case.ref} ends {human_exact(deadline.due_at)}. Please lift it.",
    )


def _no_contact_ends(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    remind(
        session,
        case,
        deadline,
        f"The no-contact term in {case.ref} ends {human_exact(deadline.due_at)}.",
    )


def _response_due(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """Remind only if the reported person has not answered since they were asked."""
    party_id = (deadline.payload or {}).get("party_id")
    asked_at = deadline.created_at
    answered = session.scalar(
        select(Entry.id).where(
            Entry.case_id == case.id,
            Entry.party_id == party_id,
            Entry.created_at >= asked_at,
            Entry.kind.notin_([str(k) for k in OUTGOING]),
        )
    )
    if answered is not None or case.status in QUIET:
        return
    remind(
        session,
        case,
        deadline,
        f"The reported person's answer in {case.ref} was due "
        f"{human_exact(deadline.due_at)}, and none has arrived.",
    )


def _retention_starts(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """The case closed: its expunge date follows from its outcome and the settings.
    A case closed before retention existed (migration 0018) gets the full notice."""
    if case.status == Status.CLOSED and not retention.is_expunged(case):
        full_notice = bool((deadline.payload or {}).get(retention.FULL_NOTICE))
        retention.plan(session, settings, case, now, full_notice=full_notice)


def _expunge_notice(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    """Warn the stewards before a case goes, and offer *Keep longer*."""
    due = retention.expunge_row(session, case.id)
    if case.status != Status.CLOSED or retention.is_expunged(case) or due is None:
        return
    remind(
        session,
        case,
        deadline,
        f"{case.ref} will be expunged on {human_exact(due.due_at)} under the retention rules: "
        "its content, names and files will be deleted. Use *Keep longer* to keep it, "
        "with a reason.",
        snooze=False,
        keep_longer=True,
        expunge_at=iso(due.due_at),
    )


def _expunge(
    session: Session, settings: Settings, case: Case, deadline: Deadline, now: datetime
) -> None:
    if case.status == Status.CLOSED and not retention.is_expunged(case):
        retention.expunge(session, case, now)


EFFECTS: dict[DeadlineKind, Effect] = {
    DeadlineKind.ACKNOWLEDGEMENT: _acknowledgement,
    DeadlineKind.STALE: _stale,
    DeadlineKind.CHECK_IN: _check_in,
    DeadlineKind.APPEAL_WINDOW: _appeal_window,
    DeadlineKind.BAN_ENDS: _ban_ends,
    DeadlineKind.NO_CONTACT_ENDS: _no_contact_ends,
    DeadlineKind.RESPONSE_DUE: _response_due,
    DeadlineKind.RETENTION_STARTS: _retention_starts,
    DeadlineKind.EXPUNGE_NOTICE: _expunge_notice,
    DeadlineKind.EXPUNGE: _expunge,
}


def snooze(
    session: Session,
    deadline_id: int,
    steward_id: str,
    days: float,
    *,
    now: datetime | None = None,
) -> Deadline:
    """*Snooze* on a reminder: it comes back `days` from now. Audited.

    A pending reminder simply moves. One that already fired comes back: its
    re-armed successor moves if it has one, otherwise a new row is made, so the
    fired row stays in the record as it happened.
    """
    now = now or utcnow()
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        raise NotAllowed("That reminder no longer exists.")
    case = deadline.case
    check_may_act(case, steward_id)
    if DeadlineKind(deadline.kind) not in SNOOZABLE:
        raise NotAllowed("The appeal window is promised to the people on the case; it stays.")
    if days <= 0:
        raise NotAllowed("Choose how long to snooze for.")
    if deadline.cancelled_at is not None:
        raise NotAllowed("That reminder was withdrawn, so there is nothing to snooze.")
    due = now + timedelta(days=days)
    actor = audit.steward_actor(steward_id)
    target = deadline if deadline.fired_at is None else _successor(session, deadline)
    if target is None or not move(session, target, due, actor=actor, reason="snoozed"):
        payload = {**(deadline.payload or {}), "snoozed_from": deadline.id}
        target = schedule(session, case, DeadlineKind(deadline.kind), due, payload)
    session.flush()
    audit.record(
        session,
        "deadline.snoozed",
        actor=actor,
        case=case,
        kind=deadline.kind,
        deadline_id=target.id,
        snoozed=deadline.id,
        days=days,
        due_at=due.isoformat(),
    )
    notify.staff_notice(
        session,
        case,
        Notice.SNOOZED,
        actor=steward_id,
        kind=deadline.kind,
        deadline_id=target.id,
        due_at=iso(due),
        summary=f"Reminder snoozed until {human_exact(due)}.",
    )
    notify.refresh_views(session, case)
    return target


def _successor(session: Session, deadline: Deadline) -> Deadline | None:
    """The pending row a fired recurring reminder re-armed (same kind and purpose)."""
    escalate = (deadline.payload or {}).get("escalate")
    return next(
        (
            d
            for d in pending(session, deadline.case_id)
            if d.kind == deadline.kind
            and d.id > deadline.id
            and (d.payload or {}).get("escalate") == escalate
        ),
        None,
    )


def ask_respondent(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    text: str,
    respond_by: datetime | None = None,
    *,
    party_id: int | None = None,
    now: datetime | None = None,
) -> Entry:
    """*Ask reported person for their side*: a notice with a reply path (their reply
    token, or the bot's DM), and, if the steward sets one, a response deadline."""
    now = now or utcnow()
    party = next(
        (
            p
            for p in case.parties
            if p.role == Role.REPORTED and (party_id is None or p.id == party_id)
        ),
        None,
    )
    if party is None:
        raise NotAllowed("There is no reported person on the record of this case.")
    if respond_by is not None and respond_by <= now:
        raise NotAllowed("The response deadline must be in the future.")
    body = text.strip()
    if respond_by is not None:
        body += f"\n\nPlease answer by {human_exact(respond_by)}."
    entry = relay(session, settings, case, steward_id, party, body, notice=Notice.RESPONDENT_ASKED)
    if respond_by is not None:
        session.flush()
        payload = {"party_id": party.id, "asked_entry_id": entry.id}
        current = next(
            (d for d in pending(session, case.id) if d.kind == DeadlineKind.RESPONSE_DUE), None
        )
        actor = audit.steward_actor(steward_id)
        if current is None or not move(
            session, current, respond_by, actor=actor, reason="asked again"
        ):
            schedule(session, case, DeadlineKind.RESPONSE_DUE, respond_by, payload)
        notify.refresh_views(session, case)
    return entry


def _every(deadline: Deadline, default: float) -> float:
    return float((deadline.payload or {}).get("every_days") or default)
