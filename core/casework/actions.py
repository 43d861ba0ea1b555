"""What stewards do to a case, and what people on a case send to it.

Every action checks who is acting, changes the record, audits it, and queues
what others must hear (the thread root, a line in the thread, a reply to the
reporter) in the same unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.cases import EntryKind, Role, Source, add_entry, flag, transition
from core.casework.confidentiality import CONFLICTS, RECUSED, ConflictSource, conflicted
from core.casework.correspondence import queue_email
from core.casework.deadlines import (
    FOLLOW_UP_KINDS,
    DeadlineKind,
    cancel,
    cancel_kinds,
    rearm_follow_ups,
)
from core.casework.notify import Notice
from core.casework.status import Status
from core.infra import audit
from core.infra.clock import iso, utcnow
from core.infra.models import Case, Entry, Party
from core.infra.settings import Settings

REMINDERS_OF_OPEN_CASES = (DeadlineKind.ACKNOWLEDGEMENT, DeadlineKind.RESPONSE_DUE)


class NotAllowed(PermissionError):
    """The person may not do this to this case. The message is safe to show them."""


def recused(case: Case) -> list[str]:
    """The stewards with a conflict on the case (declared, named, or its reporter)."""
    return sorted(conflicted(case))


def check_may_act(case: Case, steward_id: str) -> None:
    """A steward who declared a conflict on a case may not see or touch it again."""
    if steward_id in recused(case):
        raise NotAllowed(f"You have declared a conflict on {case.ref}, so it is closed to you.")


def record_read(session: Session, case: Case, steward_id: str, what: str) -> None:
    """Every read of a report's content is audited, so stewards can be accountable."""
    check_may_act(case, steward_id)
    audit.record(session, "case.read", actor=audit.steward_actor(steward_id), case=case, what=what)


def record_refusal(session: Session, case: Case | None, user_id: str, action: str) -> None:
    audit.record(session, "access.refused", actor=f"user:{user_id}", case=case, attempted=action)


def claim(session: Session, case: Case, steward_id: str) -> None:
    check_may_act(case, steward_id)
    case.claimed_by = steward_id
    audit.record(session, "case.claimed", actor=audit.steward_actor(steward_id), case=case)
    if case.status == Status.NEW:
        transition(session, case, Status.TRIAGE, audit.steward_actor(steward_id), "claimed")
        _acknowledged(session, case)
    notify.staff_notice(session, case, Notice.CLAIMED, actor=steward_id)
    _changed(session, case)


def acknowledge(session: Session, case: Case, steward_id: str) -> None:
    """The promise to acknowledge within a day is kept: the reminder is withdrawn."""
    check_may_act(case, steward_id)
    if case.status != Status.NEW:
        raise NotAllowed(f"{case.ref} has already been acknowledged.")
    transition(session, case, Status.TRIAGE, audit.steward_actor(steward_id), "acknowledged")
    _acknowledged(session, case)
    notify.staff_notice(session, case, Notice.ACKNOWLEDGED, actor=steward_id)
    _changed(session, case)


def _acknowledged(session: Session, case: Case) -> None:
    cancel(session, case.id, DeadlineKind.ACKNOWLEDGEMENT, "acknowledged")


def start_investigation(session: Session, case: Case, steward_id: str) -> None:
    check_may_act(case, steward_id)
    transition(session, case, Status.INVESTIGATING, audit.steward_actor(steward_id), "started")
    _changed(session, case)


def recuse(session: Session, case: Case, steward_id: str, reason: str | None = None) -> None:
    """Declare a conflict: the steward loses access, drops the claim if they held it, and
    the case's discussion moves to a restricted room they are not in. No reason is needed."""
    if steward_id in recused(case):
        return
    declare_conflicts(
        session,
        case,
        [steward_id],
        ConflictSource.DECLARED,
        reason=reason,
        actor=audit.steward_actor(steward_id),
    )
    # Queued after the move, so this line is posted in the restricted room, not the shared one.
    notify.staff_notice(session, case, Notice.RECUSED, actor=steward_id)
    _changed(session, case)


def exclude_stewards(session: Session, case: Case, steward_ids: list[str], reason: str) -> None:
    """Keep stewards named in a report away from it, quietly: no thread line says who."""
    declare_conflicts(session, case, steward_ids, ConflictSource.NAMED, reason=reason)


def declare_conflicts(
    session: Session,
    case: Case,
    steward_ids: list[str],
    source: str,
    *,
    reason: str | None = None,
    actor: str = audit.SYSTEM,
) -> list[str]:
    """Put conflicts on the record and move the case out of the shared staff channel.

    The conflicts are listed on the case (who, how it arose, when, and a reason only
    if one was given); the conflicted lose any claim, their Home tab is republished
    without the case, and the discussion moves to a restricted room of the others.
    """
    new = [s for s in dict.fromkeys(steward_ids) if s not in conflicted(case)]
    if not new:
        return []
    listed = list((case.flags or {}).get(CONFLICTS, []))
    now = iso(utcnow())
    listed += [{"steward": s, "source": source, "reason": reason or None, "at": now} for s in new]
    flag(session, case, RECUSED, [*recused(case), *new])
    flag(session, case, CONFLICTS, listed)
    if case.claimed_by in new:
        case.claimed_by = None
    if source == ConflictSource.DECLARED:
        audit.record(session, "case.recused", actor=actor, case=case)
    else:
        audit.record(
            session, "case.stewards_excluded", actor=actor, case=case, count=len(new), reason=reason
        )
    notify.move_to_restricted_room(session, case)
    for steward in new:
        notify.refresh_home(session, steward)
    return new


def close(session: Session, case: Case, steward_id: str, reason: str = "closed") -> None:
    check_may_act(case, steward_id)
    transition(session, case, Status.CLOSED, audit.steward_actor(steward_id), reason)
    # A closed case needs no nudging; a ban's end and an open appeal window still count.
    cancel_kinds(session, case.id, (*FOLLOW_UP_KINDS, *REMINDERS_OF_OPEN_CASES), "closed")
    notify.staff_notice(session, case, Notice.CLOSED, actor=steward_id)
    _changed(session, case)


def reopen(session: Session, case: Case, steward_id: str) -> None:
    check_may_act(case, steward_id)
    transition(session, case, Status.TRIAGE, audit.steward_actor(steward_id), "reopened")
    rearm_follow_ups(session, case)
    notify.staff_notice(session, case, Notice.REOPENED, actor=steward_id)
    _changed(session, case)


def steward_note(
    session: Session, case: Case, steward_id: str, text: str, dedupe_key: str | None
) -> Entry | None:
    """A steward's words typed in the case thread become part of the timeline."""
    if steward_id in recused(case):
        return None
    return add_entry(
        session,
        case,
        EntryKind.STEWARD_NOTE,
        Source.SLACK,
        text,
        author=audit.steward_actor(steward_id),
        dedupe_key=dedupe_key,
    )


def receive_message(
    session: Session,
    case: Case,
    party: Party | None,
    text: str,
    *,
    source: Source,
    kind: EntryKind = EntryKind.REPORTER_MESSAGE,
    full_text: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Entry:
    """Something a person on the case sent later: onto the timeline, and a line in the thread."""
    entry = add_entry(
        session,
        case,
        kind,
        source,
        text,
        party=party,
        full_text=full_text,
        data=data,
        dedupe_key=dedupe_key,
    )
    notice = {
        EntryKind.AUTOMATIC_MAIL: Notice.AUTOMATIC_MAIL,
    }.get(kind)
    if notice is None:
        role = party.role if party is not None else None
        notice = Notice.RESPONDENT_MESSAGE if role == Role.REPORTED else Notice.REPORTER_MESSAGE
    notify.staff_notice(session, case, notice, entry=entry, source=str(source))
    _changed(session, case)
    return entry


def relay(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    party: Party,
    text: str,
    *,
    notice: str = Notice.REPLY_SENT,
) -> Entry:
    """A steward writes to someone on the case, by the way they asked to be reached.

    The message goes out as Steward, never as the steward who wrote it, and the
    entry records who did.
    """
    check_may_act(case, steward_id)
    route = contact_route(party)
    if route is None:
        raise NotAllowed("There is no way to reach this person on the record.")
    entry = add_entry(
        session,
        case,
        EntryKind.RELAY_OUT,
        Source.SYSTEM,
        text,
        party=party,
        author=audit.steward_actor(steward_id),
        data={"to_role": party.role, "via": route},
    )
    audit.record(
        session,
        "case.relayed",
        actor=audit.steward_actor(steward_id),
        case=case,
        entry=entry,
        to_role=party.role,
        via=route,
    )
    if route == "email":
        queue_email(
            session,
            settings,
            case,
            party,
            "relay",
            kind="relay",
            context={"message": text},
        )
    else:
        notify.direct_message(
            session, case, party.person.slack_user_id or "", "relay", text=text, ref=case.ref
        )
    notify.staff_notice(session, case, notice, entry=entry, actor=steward_id, role=party.role)
    _changed(session, case)
    return entry


def contact_route(party: Party) -> str | None:
    """`slack` or `email`, honouring the person's preference when both are possible."""
    has_slack = bool(party.person.slack_user_id)
    has_email = bool(party.contact_email or party.person.email)
    if party.contact_preference == "no_contact":
        return None
    if party.contact_preference == "email" and has_email:
        return "email"
    if has_slack:
        return "slack"
    return "email" if has_email else None


def _changed(session: Session, case: Case) -> None:
    notify.refresh_case(session, case)
    for party in case.parties:
        if party.role == Role.REPORTER and party.person.slack_user_id:
            notify.refresh_home(session, party.person.slack_user_id)
