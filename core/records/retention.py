"""Retention: how long a closed case is kept, and expunging it when that time is up.

Django keeps its records "only as long as necessary". Each outcome has a period
after the case closes (settings, in days, fractions allowed):

- no violation, an overturned decision, or no decision: `retention_dismissed_days`;
- a temporary ban: its end date plus `retention_after_ban_days`;
- a permanent ban: kept;
- anything else (a correction, a warning, ...): `retention_warning_days`.

The dates are deadline rows like every other promise (fired once, surviving
restarts): `expunge_notice` some days before, which offers *Keep longer* in the
case thread, and `expunge` itself. Closing a case schedules `retention_starts`,
due at once, because the periods are settings and closing happens in places
that do not carry them. A new report about the same person pushes back the
expunge dates of that person's earlier cases: a pattern must stay visible.

Expunging deletes the content, the identities, the files and the raw mail, and
queues the clean-up of what Steward posted in chat (`notify.clear_thread`), and
keeps a tombstone for statistics: the case row (reference, code name, dates,
source, category), its decisions' outcomes and appeal results, and the audit
trail, whose rows hold no content, so the trail stays whole and verifiable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.codenames import new_token
from core.casework.deadlines import DeadlineKind, cancel_kinds, move, pending, schedule
from core.casework.notify import Notice
from core.infra import audit
from core.infra.clock import iso, utcnow
from core.infra.models import (
    Appeal,
    Attachment,
    Case,
    Deadline,
    Decision,
    Entry,
    InboundMessage,
    MailReference,
    MessageSnapshot,
    OutboxItem,
    Party,
    Person,
    SnapshotFile,
    Submission,
)
from core.infra.settings import Settings
from core.policy.code import Need
from core.policy.record import case_code

DISMISSED = frozenset({"no_violation"})
# A `retention_starts` payload flag: plan with the full notice (see `plan`).
FULL_NOTICE = "full_notice"
PERMANENT = frozenset({"permanent_ban", "expulsion"})
OVERTURN = "overturn"
RETENTION_KINDS = (
    DeadlineKind.RETENTION_STARTS,
    DeadlineKind.EXPUNGE_NOTICE,
    DeadlineKind.EXPUNGE,
)


class KeepLongerRefused(PermissionError):
    """Keep longer cannot apply. The message is safe to show the steward."""


def is_expunged(case: Case) -> bool:
    """An expunged case is a tombstone: there is no content left to read or hand over."""
    return bool((case.flags or {}).get("expunged_at"))


def _decisions(session: Session, case_id: int) -> tuple[Decision | None, Decision | None]:
    """The latest decision on the ladder and the latest decision on its appeal."""
    rows = list(
        session.scalars(select(Decision).where(Decision.case_id == case_id).order_by(Decision.id))
    )
    first = next((d for d in reversed(rows) if d.stage == "decision"), None)
    final = next(
        (d for d in reversed(rows) if d.stage == "appeal" and first and d.id > first.id), None
    )
    return first, final


def period_end(session: Session, settings: Settings, case: Case) -> datetime | None:
    """When a closed case is due to be expunged; None while open or when it is kept."""
    if case.closed_at is None:
        return None
    first, final = _decisions(session, case.id)
    terms = final if final is not None and final.outcome else first
    if final is not None and not final.outcome and final.appeal_result == OVERTURN:
        terms = None
    outcome = terms.outcome if terms is not None else None
    if outcome in PERMANENT or _open_ended(session, settings, case, terms):
        return None
    if terms is not None and terms.ban_until is not None:
        start = max(terms.ban_until, case.closed_at)
        return start + timedelta(days=settings.retention_after_ban_days)
    if outcome is None or outcome in DISMISSED:
        return case.closed_at + timedelta(days=settings.retention_dismissed_days)
    return case.closed_at + timedelta(days=settings.retention_warning_days)


def _open_ended(session: Session, settings: Settings, case: Case, terms: Decision | None) -> bool:
    """A measure that can run until a date but was given none (a ban "for as long as it
    takes", an expulsion from events) stands indefinitely: kept, like a permanent ban,
    whatever the code's own name for it."""
    if terms is None or terms.outcome is None or terms.ban_until is not None:
        return False
    option = case_code(session, settings, case).option(terms.outcome)
    return option is not None and option.end_date != Need.NEVER


def on_closed(session: Session, case: Case, now: datetime) -> None:
    """Start the retention clock of a case that just closed (its dates come when it fires)."""
    schedule(session, case, DeadlineKind.RETENTION_STARTS, now)


def on_reopened(session: Session, case: Case) -> None:
    """A reopened case is live again: nothing about it may be expunged."""
    cancel_kinds(session, case.id, RETENTION_KINDS, "case reopened")


def plan(
    session: Session, settings: Settings, case: Case, now: datetime, *, full_notice: bool = False
) -> datetime | None:
    """Schedule the notice and the expunge for a closed case; returns the expunge date.

    `full_notice` is for a case planned long after it closed (one closed before
    retention existed): a period that already ran out would delete it the moment the
    stewards are told, so it is expunged a full notice period from now instead, and
    they still have the time to choose *Keep longer*.
    """
    cancel_kinds(session, case.id, (DeadlineKind.EXPUNGE_NOTICE, DeadlineKind.EXPUNGE), "replanned")
    due = period_end(session, settings, case)
    if due is None:
        audit.record(session, "retention.kept", case=case)
        return None
    if full_notice:
        due = max(due, now + timedelta(days=settings.expunge_notice_days))
    return _schedule_pair(session, settings, case, due, now)


def _schedule_pair(
    session: Session, settings: Settings, case: Case, due: datetime, now: datetime
) -> datetime:
    notice_at = max(due - timedelta(days=settings.expunge_notice_days), now)
    schedule(session, case, DeadlineKind.EXPUNGE_NOTICE, notice_at, {"expunge_at": iso(due)})
    schedule(session, case, DeadlineKind.EXPUNGE, due)
    return due


def expunge_row(session: Session, case_id: int) -> Deadline | None:
    return next((d for d in pending(session, case_id) if d.kind == DeadlineKind.EXPUNGE), None)


def postpone(
    session: Session,
    settings: Settings,
    case: Case,
    due: datetime,
    now: datetime,
    *,
    actor: str,
    reason: str,
) -> bool:
    """Move a case's expunge date later (never earlier), with a fresh notice before it."""
    current = expunge_row(session, case.id)
    if current is None or current.due_at >= due:
        return False
    if not move(session, current, due, actor=actor, reason=reason):
        return False
    cancel_kinds(session, case.id, (DeadlineKind.EXPUNGE_NOTICE,), reason)
    notice_at = max(due - timedelta(days=settings.expunge_notice_days), now)
    schedule(session, case, DeadlineKind.EXPUNGE_NOTICE, notice_at, {"expunge_at": iso(due)})
    return True


def keep_longer(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> datetime:
    """*Keep longer*: another retention period of the case's outcome, counted from now.

    The steward's reason is content (it may name people), so it goes on the
    case's timeline, which expunging clears; the audit row only points at it.
    """
    now = now or utcnow()
    if not reason.strip():
        raise KeepLongerRefused("Say why the case should be kept longer.")
    current = expunge_row(session, case.id)
    period = period_end(session, settings, case)
    if current is None or period is None or case.closed_at is None:
        raise KeepLongerRefused(f"{case.ref} is not due to be expunged.")
    due = now + (period - case.closed_at)
    actor = audit.steward_actor(steward_id)
    entry = Entry(case=case, kind="system", source="system", text=reason.strip(), author=actor)
    session.add(entry)
    if not postpone(session, settings, case, due, now, actor=actor, reason="kept longer"):
        raise KeepLongerRefused(f"{case.ref} is already kept until after {iso(due)}.")
    audit.record(session, "retention.kept_longer", actor=actor, case=case, entry=entry)
    notify.staff_notice(
        session,
        case,
        Notice.SYSTEM,
        actor=steward_id,
        summary=f"<@{steward_id}> kept {case.ref} longer: it will now be expunged on "
        f"{due.date().isoformat()}.",
    )
    return due


def push_back_for(session: Session, settings: Settings, case: Case, now: datetime) -> int:
    """A new report names someone again: their earlier cases are kept a full period from now.

    People are matched by `find_or_create_person` when the parties are added, so
    the same person is the same `Person` row here.
    """
    people = {p.person_id for p in case.parties if p.role == "reported"}
    if not people:
        return 0
    named = select(Party.case_id).where(
        Party.person_id.in_(people), Party.role == "reported", Party.case_id != case.id
    )
    earlier = session.scalars(select(Case).where(Case.id.in_(named)).order_by(Case.id))
    moved = 0
    for other in earlier:
        period = period_end(session, settings, other)
        if period is None or other.closed_at is None:
            continue
        due = now + (period - other.closed_at)
        if postpone(session, settings, other, due, now, actor=audit.SYSTEM, reason="new report"):
            audit.record(session, "retention.pushed_back", case=other, by_case=case.ref)
            moved += 1
    return moved


def expunge(session: Session, case: Case, now: datetime | None = None) -> None:
    """Delete what the case says and who it is about; keep the tombstone and the audit trail."""
    now = now or utcnow()
    case_id = case.id
    cleanup = notify.clear_thread(session, case, iso(now))  # reads the rows deleted below
    session.flush()
    for model in (InboundMessage, Attachment, MailReference):
        session.execute(delete(model).where(model.case_id == case_id))
    snapshots = select(MessageSnapshot.id).where(MessageSnapshot.case_id == case_id)
    session.execute(delete(SnapshotFile).where(SnapshotFile.snapshot_id.in_(snapshots)))
    session.execute(delete(MessageSnapshot).where(MessageSnapshot.case_id == case_id))
    session.execute(
        delete(OutboxItem).where(OutboxItem.case_id == case_id, OutboxItem.id != cleanup.id)
    )
    session.execute(update(Submission).where(Submission.case_id == case_id).values(payload={}))
    session.execute(
        update(Entry)
        .where(Entry.case_id == case_id)
        .values(text="", full_text=None, data={}, author=None)
    )
    session.execute(
        update(Decision)
        .where(Decision.case_id == case_id)
        .values(
            other_description=None,
            remove_roles=None,
            public_statement=None,
            rationale="",
            message_to_reported="",
            message_to_reporter="",
        )
    )
    session.execute(update(Appeal).where(Appeal.case_id == case_id).values(accept_reason=None))
    _forget_people(session, case)
    case.flags = {"expunged_at": iso(now)}
    case.root_message_id = None
    case.claimed_by = None
    session.flush()
    audit.record(session, "case.expunged", case=case)
    notify.refresh_views(session, case)


def _forget_people(session: Session, case: Case) -> None:
    """No identity stays with the case. A person named only here keeps their row with its
    sealed name, address and Slack ID (and so their lookup hashes) emptied; a person
    other cases still name is left to those cases, and the party points at a blank
    person instead, so nothing links the tombstone to them."""
    for party in case.parties:
        if _named_elsewhere(session, party.person_id, case.id):
            blank = Person()
            session.add(blank)
            party.person = blank
        else:
            _blank(party.person)
        party.contact_email = None
        party.contact_preference = None
        party.reply_token = new_token(16)


def _named_elsewhere(session: Session, person_id: int, case_id: int) -> bool:
    return (
        session.scalar(
            select(Party.id).where(Party.person_id == person_id, Party.case_id != case_id).limit(1)
        )
        is not None
    )


def _blank(person: Person) -> None:
    """Setting the sealed columns also empties their hashes (`core.infra.sealed.hashed_lookups`)."""
    person.display_name = None
    person.email = None
    person.slack_user_id = None
