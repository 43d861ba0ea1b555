"""Reading the record for display in Slack: the facts each builder needs.

Kept apart from the builders so that they stay pure functions of plain data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, or_, select, union_all
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, load_only, selectinload

from core.casework import checklist
from core.casework.actions import contact_route
from core.casework.cases import Role
from core.casework.confidentiality import conflicted, conflicts, may_see
from core.casework.deadlines import DeadlineKind, NextDeadline, next_pending, next_pending_by_case
from core.casework.status import OPEN_STATUSES, Status
from core.decisions.appeals import LATE
from core.infra.clock import human, utcnow
from core.infra.crypto import lookup_hashes
from core.infra.models import (
    Appeal,
    Attachment,
    Case,
    Deadline,
    Entry,
    MessageSnapshot,
    Party,
    Person,
)
from core.infra.sealed import plaintext_size
from core.infra.settings import Settings
from core.policy.record import case_code
from core.records.patterns import earlier_cases
from slackapp.blocks import case_view
from slackapp.blocks.case_view import CaseReport, EntryLine, EntrySize, PersonLine
from slackapp.blocks.home import DeskLine, HomeCase, StewardDesk
from slackapp.blocks.thread import RootFacts, StepLine
from slackapp.files import size_text

DEADLINE_LABELS = {
    "acknowledgement_due": "acknowledge",
    "stale_case": "stale check",
    "reporter_check_in": "update the reporter",
    "appeal_window_closes": "appeal window closes",
    "temporary_ban_ends": "ban ends",
    "no_contact_ends": "no-contact term ends",
    "respondent_response_due": "their side due",
    "retention_starts": "retention starts",
    "expunge_notice": "expunge notice",
    "expunge": "expunged",
}


def next_deadline_text(session: Session, case: Case) -> str | None:
    return _deadline_text(next_pending(session, case.id))


def _deadline_text(upcoming: Deadline | NextDeadline | None) -> str | None:
    if upcoming is None:
        return None
    return f"{DEADLINE_LABELS.get(upcoming.kind, upcoming.kind)} by {human(upcoming.due_at)}"


def root_facts(session: Session, case: Case, settings: Settings) -> RootFacts:
    respondents = [p for p in case.parties if p.role == Role.REPORTED]
    code = case_code(session, settings, case)
    ticks = checklist.state(session, case)
    return RootFacts(
        case_id=case.id,
        ref=case.ref,
        code_name=case.code_name,
        source=case.source,
        category=case.category,
        category_label=code.category_label(case.category),
        severity=case.severity,
        status=case.status,
        claimed_by=case.claimed_by,
        next_deadline=next_deadline_text(session, case),
        escalated=case.escalated,
        immediate_danger=case.immediate_danger,
        has_respondent_contact=any(contact_route(p) for p in respondents),
        anonymous=case.anonymous,
        conflicts=len(conflicted(case)),
        late_appeal_waiting=session.scalar(
            select(Appeal.id).where(Appeal.case_id == case.id, Appeal.status == LATE).limit(1)
        )
        is not None,
        steps=tuple(StepLine(s.id, s.text, ticks.get(s.id, False)) for s in code.checklist),
    )


def person_name(party: Party | None) -> str:
    """How a person appears to stewards; an anonymous reporter never has a name."""
    if party is None:
        return "an unknown sender"
    if party.anonymous:
        return "the anonymous reporter"
    person = party.person
    if person.slack_user_id:
        return f"<@{person.slack_user_id}>"
    return person.display_name or person.email or "someone without a name"


def case_report(
    session: Session, case: Case, settings: Settings, viewer: str | None = None, page: int = 0
) -> CaseReport:
    """Page `page` of the report as `viewer` may read it, with the earlier cases they are
    allowed to see. Only the entries that page shows are opened: the pages are planned
    from the stored sizes of the others (`case_view.report_plan`), so a page of a case
    with a thousand entries costs about what a page of a short case does."""
    report = _report_entry(session, case)
    facts = _report_facts(report.data or {} if report is not None else {})
    if conflicts(case):
        facts.append("Conflicts: " + ", ".join(_conflict_line(c) for c in conflicts(case)))
    snapshot = session.scalars(
        select(MessageSnapshot).where(MessageSnapshot.case_id == case.id).limit(1)
    ).first()
    attachments = [
        f"{a.filename} ({a.content_type}, {size_text(a.size)}, SHA-256 {a.sha256[:16]}…)"
        for a in session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    ]
    ids, sizes = _entry_sizes(session, case.id)
    shown = CaseReport(
        case_id=case.id,
        ref=case.ref,
        code_name=case.code_name,
        status=case.status,
        category=case.category,
        category_label=case_code(session, settings, case).category_label(case.category),
        facts=facts,
        people=[PersonLine(p.role, _plain_name(p)) for p in case.parties],
        snapshot=dict(snapshot.data) if snapshot else None,
        entries=[],
        attachments=attachments,
        earlier=[e.line() for e in earlier_cases(session, case, viewer)],
        sizes=sizes,
    )
    _, numbers = case_view.entries_on_page(shown, page)
    shown.entries = _entry_lines(session, case, [ids[n] for n in numbers])
    return shown


def _report_entry(session: Session, case: Case) -> Entry | None:
    """The case's first report entry (its facts head the modal), without the others."""
    return session.scalars(
        select(Entry).where(Entry.case_id == case.id, Entry.kind == "report").order_by(Entry.id)
    ).first()


def _report_facts(data: dict) -> list[str]:
    facts = []
    if data.get("when"):
        facts.append(f"When: {data['when']}")
    if data.get("where"):
        facts.append(f"Where: {data['where']}")
    if data.get("ongoing"):
        facts.append("It is still going on.")
    if data.get("immediate_danger"):
        facts.append("The reporter says someone may be in immediate danger.")
    if data.get("people_text"):
        facts.append(f"Others named by the reporter: {data['people_text']}")
    for answer in data.get("questions") or []:
        facts.append(f"{answer.get('label')}: {answer.get('answer')}")
    if data.get("subject"):
        facts.append(f"Subject: {data['subject']}")
    return facts


def _sizes_query() -> Select[tuple[int, int, int | None]]:
    text, full = plaintext_size(Entry.text), plaintext_size(Entry.full_text)
    return (
        select(
            Entry.id,
            # Shown is `text`, or `full_text` where `text` is empty (`_entry_line`).
            sql_case((text > 0, text), else_=func.coalesce(full, 0)),
            plaintext_size(Entry.data),
        )
        .where(Entry.case_id == bindparam("case_id"))
        .order_by(Entry.id)
    )


# Built once: a long case's page is read often, and building the query was a tenth of it.
ENTRY_SIZES = _sizes_query()


def _entry_sizes(session: Session, case_id: int) -> tuple[list[int], list[EntrySize]]:
    """Every entry's id and size, in timeline order, from stored lengths: nothing opened.
    A plain Core query, as a long case has thousands of rows and no objects are needed."""
    ids, sizes = [], []
    for entry_id, shown, data in session.connection().execute(ENTRY_SIZES, {"case_id": case_id}):
        ids.append(entry_id)
        sizes.append(EntrySize(shown, _extra_bound(data or 0)))
    return ids, sizes


def _extra_bound(data_bytes: int) -> int:
    """At most how many characters `_entry_extra` can make of data this size: each item
    it shows comes from the data, with a label; an empty document (`{}`) shows none."""
    return 0 if data_bytes <= 2 else 2 * data_bytes + case_view.EXTRA_LABEL_CHARS


def _entry_lines(session: Session, case: Case, ids: list[int]) -> list[EntryLine]:
    """These entries, opened, in the order given. Their parties are the case's, already
    loaded for its people; of each entry only what the modal shows is read."""
    if not ids:
        return []
    parties = {p.id: p for p in case.parties}
    loaded = session.scalars(
        select(Entry).where(Entry.id.in_(ids)).options(load_only(*SHOWN_ENTRY_COLUMNS))
    )
    by_id = {e.id: e for e in loaded}
    lines = []
    # An entry expunged since its size was read is simply no longer shown.
    for entry in (by_id[i] for i in ids if i in by_id):
        party = None
        if entry.party_id is not None:
            party = parties.get(entry.party_id) or session.get(Party, entry.party_id)
        lines.append(_entry_line(entry, party))
    return lines


SHOWN_ENTRY_COLUMNS = (
    Entry.id,
    Entry.kind,
    Entry.party_id,
    Entry.author,
    Entry.text,
    Entry.full_text,
    Entry.data,
    Entry.created_at,
)


def _entry_line(e: Entry, party: Party | None) -> EntryLine:
    return EntryLine(
        kind=e.kind,
        who=person_name(party) if party is not None else (e.author or "Steward"),
        when=human(e.created_at),
        text=e.text or e.full_text or "",
        extra=_entry_extra(e.data or {}),
    )


CONFLICT_SOURCES = {
    "declared": "declared a conflict",
    "named": "named in the report",
    "reporter": "filed the report",
}


def _conflict_line(conflict: dict) -> str:
    """One conflict as the case lists it; the reason only if the steward gave one."""
    how = CONFLICT_SOURCES.get(conflict.get("source", ""), "conflict")
    reason = (
        f": {conflict['reason']}"
        if conflict.get("reason") and conflict.get("source") == "declared"
        else ""
    )
    return f"<@{conflict['steward']}> ({how}{reason})"


def _plain_name(party: Party) -> str:
    if party.anonymous:
        return "anonymous (sealed)"
    person = party.person
    parts = [person.display_name, person.email]
    if person.slack_user_id:
        parts.insert(0, f"<@{person.slack_user_id}>")
    return " · ".join(p for p in parts if p) or "unnamed"


def _entry_extra(data: dict) -> list[str]:
    extra = []
    if data.get("sender_verified") is False:
        extra.append("sender not verified (DKIM/DMARC did not pass)")
    if data.get("sender_differs_from_party"):
        extra.append("sent from a different address than the one on record")
    if data.get("automatic"):
        extra.append(f"automatic mail: {data['automatic']}")
    if data.get("public_statement"):
        extra.append(f"public statement: {data['public_statement']}")
    for refused in data.get("files_refused") or []:
        extra.append(f"file not kept: {refused.get('name')} ({refused.get('reason')})")
    if data.get("defects"):
        extra.append(f"{len(data['defects'])} MIME defects recorded")
    return extra


OPEN = [str(status) for status in OPEN_STATUSES]
HOME_CASES = 40  # as many as App Home lists (`slackapp/blocks/home.py`)


def _cases_of(slack_user_id: str, role: Role) -> Select[tuple[Case]]:
    """Cases on which this Slack user is a party in `role`, newest first."""
    # The person first (by keyed hash), then their parties (ix_parties_person_id): asking
    # each party whether its person matches reads every party of every case.
    person_ids = select(Person.id).where(
        Person.slack_user_id_hash.in_(lookup_hashes(slack_user_id))
    )
    return (
        select(Case)
        .join(Party, Party.case_id == Case.id)
        .where(Party.role == role, Party.person_id.in_(person_ids))
        .order_by(Case.id.desc())
    )


def own_cases(session: Session, slack_user_id: str) -> list[HomeCase]:
    """A member's own reports; their category is not shown (it is the stewards' triage)."""
    rows = session.scalars(_cases_of(slack_user_id, Role.REPORTER).limit(20)).all()
    return [HomeCase(c.ref, c.code_name, c.status, human(c.created_at)) for c in rows]


def open_cases(
    session: Session, steward_id: str, stewards: Iterable[str], settings: Settings
) -> list[HomeCase]:
    """The oldest open cases this steward may see, by the one rule every surface follows,
    at most `HOME_CASES`. Read a page at a time, so a record of many thousands of open
    cases costs App Home no more than a page or two (`bench/scale.py`)."""
    stewards = frozenset(stewards)
    shown: list[Case] = []
    after = 0
    while len(shown) < HOME_CASES:
        page = _oldest_open(session, after, HOME_CASES)
        if not page:
            break
        shown += [c for c in page if may_see(c, steward_id, stewards)]
        after = page[-1].id
    shown = shown[:HOME_CASES]
    upcoming = next_pending_by_case(session, [c.id for c in shown])
    return [
        HomeCase(
            c.ref,
            c.code_name,
            c.status,
            human(c.created_at),
            claimed_by=c.claimed_by,
            next_deadline=_deadline_text(upcoming.get(c.id)),
            category=case_code(session, settings, c).category_label(c.category),
        )
        for c in shown
    ]


HOME_COLUMNS = (
    Case.id,
    Case.code_name,
    Case.status,
    Case.created_at,
    Case.claimed_by,
    Case.category,
    Case.flags,
    Case.conduct_version,
)


def _oldest_open(session: Session, after: int, limit: int) -> list[Case]:
    """The `limit` oldest open cases numbered above `after`. One short range of the
    (status, id) index per open status, rather than one sort of every open case, all
    in one statement (a round trip each cost more than the ranges)."""
    ranges = [
        select(Case.id)
        .where(Case.status == status, Case.id > after)
        .order_by(Case.id)
        .limit(limit)
        .subquery()
        for status in OPEN
    ]
    ids = session.scalars(union_all(*[select(r.c.id) for r in ranges])).all()
    wanted = sorted(ids)[:limit]
    if not wanted:
        return []
    # Only what App Home shows and what the who-may-see rule reads (the flags, and each
    # party's person's Slack id, loaded for the page at once): of the sealed values, only
    # those Slack ids are opened.
    return list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(wanted))
            .order_by(Case.id)
            .options(
                load_only(*HOME_COLUMNS),
                selectinload(Case.parties)
                .load_only(Party.case_id, Party.person_id)
                .joinedload(Party.person)
                .load_only(Person.slack_user_id),
            )
        )
    )


def steward_desk(
    session: Session,
    steward_id: str,
    stewards: Iterable[str],
    settings: Settings,
    now: datetime | None = None,
) -> StewardDesk:
    """The steward's lists for App Home, only of the cases they may see (the one rule)."""
    now = now or utcnow()
    stewards = frozenset(stewards)

    def line(case: Case, when: str) -> DeskLine:
        return DeskLine(case.ref, case.code_name, when)

    def allowed(case: Case) -> bool:
        return may_see(case, steward_id, stewards)

    waiting = session.scalars(
        select(Case).where(Case.status.in_(OPEN), Case.claimed_by == steward_id).order_by(Case.id)
    )
    overdue = session.execute(
        select(Case, func.min(Deadline.due_at))
        .join(Deadline, Deadline.case_id == Case.id)
        .where(
            Case.status == Status.NEW,
            Deadline.kind == DeadlineKind.ACKNOWLEDGEMENT,
            Deadline.cancelled_at.is_(None),
            # Due by now, or its reminder has already gone out.
            or_(Deadline.due_at <= now, Deadline.fired_at.is_not(None)),
        )
        .group_by(Case.id)
        .order_by(Case.id)
    )
    horizon = now + timedelta(days=settings.expunge_notice_days)
    expunging = session.execute(
        select(Case, Deadline.due_at)
        .join(Deadline, Deadline.case_id == Case.id)
        .where(
            Deadline.kind == DeadlineKind.EXPUNGE,
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at <= horizon,
        )
        .order_by(Deadline.due_at)
    )
    return StewardDesk(
        waiting_on_you=[
            line(c, next_deadline_text(session, c) or "no deadline") for c in waiting if allowed(c)
        ],
        overdue_acknowledgements=[
            line(c, f"acknowledgement was due {human(due)}") for c, due in overdue if allowed(c)
        ],
        expunge_due=[line(c, f"expunged {human(due)}") for c, due in expunging if allowed(c)],
    )


def latest_open_case_reported_by(session: Session, slack_user_id: str) -> Case | None:
    query = _cases_of(slack_user_id, Role.REPORTER).where(Case.status.in_(OPEN))
    return session.scalars(query.limit(1)).first()


def latest_open_case_asking(session: Session, slack_user_id: str) -> Case | None:
    """The newest open case that asked this person, as the reported person, for their side."""
    query = (
        _cases_of(slack_user_id, Role.REPORTED)
        .join(Entry, Entry.party_id == Party.id)
        .where(Entry.kind == "relay_out", Case.status.in_(OPEN))
    )
    return session.scalars(query.limit(1)).first()


def case_by_thread(session: Session, channel: str, thread_ts: str) -> Case | None:
    return session.scalars(
        select(Case).where(Case.slack_channel == channel, Case.slack_thread_ts == thread_ts)
    ).first()
