"""Cases: opening them, adding to their timeline, moving them through their lifecycle.

Every function here works inside the caller's unit of work (a `Session`), so an
adapter can make "store the evidence, add the entry, queue the acknowledgement"
one atomic commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.codenames import free_code_names, new_token
from core.casework.deadlines import opening_clocks, schedule
from core.casework.notify import Notice
from core.casework.people import Contact, find_or_create_person
from core.casework.status import Status, check_transition
from core.infra import audit
from core.infra.clock import utcnow
from core.infra.crypto import lookup_hashes
from core.infra.models import Case, Entry, MailReference, Party
from core.infra.settings import Settings
from core.policy.record import code_in_force, pin
from core.records import retention

REF_PATTERN = re.compile(r"\bCOC-(\d{1,9})\b", re.IGNORECASE)


class Role(StrEnum):
    REPORTER = "reporter"
    REPORTED = "reported"
    AFFECTED = "affected"
    WITNESS = "witness"


class EntryKind(StrEnum):
    REPORT = "report"
    INBOUND_MAIL = "inbound_mail"
    AUTOMATIC_MAIL = "automatic_mail"
    REPORTER_MESSAGE = "reporter_message"
    RESPONDENT_MESSAGE = "respondent_message"
    STEWARD_NOTE = "steward_note"
    RELAY_OUT = "relay_out"
    SYSTEM = "system"
    DECISION = "decision"
    DECISION_NOTICE = "decision_notice"
    APPEAL = "appeal"
    APPEAL_NOTICE = "appeal_notice"
    APPEAL_DECISION = "appeal_decision"
    CHECKLIST = "checklist"


class Source(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    SYSTEM = "system"


@dataclass
class ReportDraft:
    """A report as an adapter hands it to the core, before any case exists."""

    source: Source
    text: str
    reporter: Contact
    full_text: str | None = None
    anonymous: bool = False
    reporter_reply_address: str | None = None
    contact_preference: str | None = None
    category: str | None = None
    severity: str | None = None
    when: str | None = None
    where: str | None = None
    ongoing: bool = False
    immediate_danger: bool = False
    involved: list[tuple[Role, Contact]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    root_message_id: str | None = None
    escalate: bool = False


class CaseNotFound(LookupError):
    """No case has that reference."""


def parse_ref(text: str) -> int | None:
    """The case number in a `COC-n` reference, or None."""
    match = REF_PATTERN.search(text or "")
    return int(match.group(1)) if match else None


def get_case(session: Session, ref: str | int) -> Case:
    number = ref if isinstance(ref, int) else parse_ref(ref)
    if number is None and isinstance(ref, str) and ref.isdigit():
        number = int(ref)
    case = session.get(Case, number) if number is not None else None
    if case is None:
        raise CaseNotFound(f"no case {ref}")
    return case


@dataclass
class OpenedCase:
    """What opening a case created, so callers need not query for it again."""

    case: Case
    reporter: Party
    report: Entry


def open_case(session: Session, draft: ReportDraft, settings: Settings) -> OpenedCase:
    """Open a case from a report: the record, its people, its first entry, its first deadline.

    Objects are linked by relationship and flushed once, which keeps intake cheap
    enough for a busy mailbox.
    """
    now = utcnow()
    code = code_in_force(settings)
    timing = code.timing(settings)
    case = _new_case(session, draft, now)
    pin(session, case, code)
    reporter = add_party(
        session,
        case,
        Role.REPORTER,
        draft.reporter,
        anonymous=draft.anonymous,
        contact_email=draft.reporter_reply_address,
        contact_preference=draft.contact_preference,
        known_new=True,
    )
    for role, contact in draft.involved:
        if not contact.normalised().is_empty:
            add_party(session, case, role, contact)
    report = add_entry(
        session,
        case,
        EntryKind.REPORT,
        draft.source,
        draft.text,
        party=reporter,
        full_text=draft.full_text,
        data=report_data(draft),
        dedupe_key=draft.dedupe_key,
    )
    for kind, due_at, payload in opening_clocks(
        ack_hours=timing.ack_hours,
        stale_days=timing.stale_days,
        checkin_days=timing.checkin_days,
        now=now,
    ):
        schedule(session, case, kind, due_at, payload)
    audit.record(session, "case.opened", actor=REPORTER_ACTOR, case=case, source=str(draft.source))
    session.flush()
    retention.push_back_for(session, settings, case, now)
    _tell_the_stewards(session, case, reporter, report)
    return OpenedCase(case=case, reporter=reporter, report=report)


def report_data(draft: ReportDraft) -> dict[str, Any]:
    """What the report entry records beyond its text: the adapter's data and the form's facts."""
    data = dict(draft.data)
    data.update({k: v for k, v in (("when", draft.when), ("where", draft.where)) if v is not None})
    data.update(ongoing=draft.ongoing, immediate_danger=draft.immediate_danger)
    return data


def _tell_the_stewards(session: Session, case: Case, reporter: Party, report: Entry) -> None:
    """A new case gets its thread root; danger mentions every steward at once."""
    notify.refresh_case(session, case)
    if case.immediate_danger:
        notify.staff_notice(session, case, Notice.DANGER, entry=report, mention_stewards=True)
    if reporter.person.slack_user_id:
        notify.refresh_home(session, reporter.person.slack_user_id)


REPORTER_ACTOR = "reporter"


def _new_case(session: Session, draft: ReportDraft, now: Any) -> Case:
    """A new case row with a code name not yet taken.

    Two intakes racing for the same free name is possible but rare (one in tens of
    thousands, times the concurrency); the loser's commit fails on the unique
    constraint and its sender is asked to retry, so nothing is lost.
    """
    (code_name,) = free_code_names(session.connection(), 1)
    case = Case(
        code_name=code_name,
        status=str(Status.NEW),
        source=str(draft.source),
        category=draft.category,
        severity=draft.severity or ("urgent" if draft.immediate_danger else None),
        anonymous=draft.anonymous,
        immediate_danger=draft.immediate_danger,
        escalated=draft.escalate,
        root_message_id=draft.root_message_id,
        flags={},
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    session.add(case)
    return case


def add_party(
    session: Session,
    case: Case,
    role: Role,
    contact: Contact,
    *,
    anonymous: bool = False,
    contact_email: str | None = None,
    contact_preference: str | None = None,
    known_new: bool = False,
) -> Party:
    """Put a person on the case in a role; the same person and role is added once."""
    person = find_or_create_person(session, contact)
    for existing in [] if known_new else case.parties:
        if existing.person is person and existing.role == str(role):
            return existing
    party = Party(
        case=case,
        person=person,
        role=str(role),
        reply_token=new_token(),
        contact_email=(contact_email or "").strip().lower() or None,
        contact_preference=contact_preference,
        anonymous=anonymous,
    )
    session.add(party)
    audit.record(session, "party.added", case=case, role=str(role))
    return party


def add_entry(
    session: Session,
    case: Case,
    kind: EntryKind | str,
    source: Source | str,
    text: str,
    *,
    party: Party | None = None,
    author: str | None = None,
    full_text: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Entry:
    """Append to the timeline and mark the case active, so the stale reminder restarts."""
    now = utcnow()
    entry = Entry(
        case=case,
        kind=str(kind),
        source=str(source),
        party=party,
        author=author,
        text=text or "",
        full_text=full_text,
        data=data or {},
        dedupe_key=dedupe_key,
        created_at=now,
    )
    session.add(entry)
    case.last_activity_at = now
    case.updated_at = now
    actor = author or (f"party:{party.role}" if party else audit.SYSTEM)
    audit.record(session, "entry.added", actor=actor, case=case, entry=entry, kind=str(kind))
    return entry


def system_entry(session: Session, case: Case, text: str, **data: Any) -> Entry:
    """A note from Steward itself: something the stewards should know happened."""
    return add_entry(session, case, EntryKind.SYSTEM, Source.SYSTEM, text, data=data)


def transition(session: Session, case: Case, target: Status | str, actor: str, reason: str) -> None:
    """Move a case, checked against the lifecycle, and audit who moved it and why."""
    previous = case.status
    new = check_transition(previous, str(target))
    case.status = str(new)
    case.updated_at = utcnow()
    case.closed_at = case.updated_at if new == Status.CLOSED else None
    if new == Status.CLOSED:
        retention.on_closed(session, case, case.updated_at)
    elif previous == Status.CLOSED:
        retention.on_reopened(session, case)
    audit.record(
        session,
        "case.status",
        actor=actor,
        case=case,
        previous=previous,
        status=str(new),
        reason=reason,
    )


def flag(session: Session, case: Case, name: str, value: Any) -> None:
    """Set a flag on the case (a copy, so SQLAlchemy sees the JSON change)."""
    flags = dict(case.flags or {})
    flags[name] = value
    case.flags = flags
    audit.record(session, "case.flagged", case=case, flag=name)


def party_by_token(session: Session, token: str) -> Party | None:
    wanted = lookup_hashes(token.lower())
    return session.scalars(select(Party).where(Party.reply_token_hash.in_(wanted))).first()


def reachable_at(party: Party, address: str) -> bool:
    """Whether the address is one the record knows for this party (email or reply address)."""
    return address.strip().lower() in (party.person.email, party.contact_email)


def parties_with_address(session: Session, case_id: int, address: str) -> list[Party]:
    """The parties on a case reachable at an address."""
    parties = session.scalars(select(Party).where(Party.case_id == case_id)).all()
    return [p for p in parties if reachable_at(p, address)]


def case_for_our_message_ids(session: Session, message_ids: list[str]) -> MailReference | None:
    """The first of our own sent Message-IDs among those given, if any."""
    wanted = [m for m in message_ids if m]
    if not wanted:
        return None
    return session.scalars(
        select(MailReference).where(MailReference.message_id.in_(wanted)).limit(1)
    ).first()


def reporter_of(case: Case) -> Party | None:
    return next((p for p in case.parties if p.role == Role.REPORTER), None)
