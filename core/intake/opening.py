"""Opening plain cases in bulk, so a busy conduct@ mailbox can commit before it answers.

`cases.open_case` opens any case, one at a time, through the ORM. Most mail that
opens a case is plain: one reporter known by address, a report, the clocks every
case runs on, and a thread root for the stewards. For a group of such reports
this module writes exactly the rows `open_case` would, with one multi-row
statement per table instead of one ORM object per row. That difference is most
of the cost of taking in a message, and the gateway pays it before every 250.

Anything out of the ordinary (people named in the report, danger, a Slack
reporter, anonymity, escalation) goes through `open_case`; `is_plain` says which
is which. `tests/core/test_opening.py` holds both paths to the same record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from core.casework import notify
from core.casework.cases import REPORTER_ACTOR, EntryKind, ReportDraft, Role, report_data
from core.casework.codenames import free_code_names, new_token
from core.casework.deadlines import DeadlineKind, opening_clocks
from core.casework.people import Contact
from core.casework.status import Status
from core.infra.auditchain import link_new_cases
from core.infra.clock import utcnow
from core.infra.crypto import hash_index
from core.infra.models import AuditEvent, Case, Deadline, Entry, OutboxItem, Party, Person
from core.infra.settings import Settings
from core.policy.record import code_in_force, register

_INSERT_CASES = insert(Case).returning(Case.id, sort_by_parameter_order=True)
_INSERT_PEOPLE = insert(Person).returning(Person.id, sort_by_parameter_order=True)
_INSERT_PARTIES = insert(Party).returning(Party.id, sort_by_parameter_order=True)
_INSERT_ENTRIES = insert(Entry).returning(Entry.id, sort_by_parameter_order=True)
_INSERT_DEADLINES = insert(Deadline)
_INSERT_AUDIT = insert(AuditEvent)
_INSERT_OUTBOX = insert(OutboxItem)
_PEOPLE_BY_EMAIL = (
    select(Person.id, Person.email_hash, Person.display_name)
    .where(Person.email_hash.in_(bindparam("hashes", expanding=True)))
    .order_by(Person.id)
)
_NAME_PEOPLE = (
    update(Person)
    .where(Person.id == bindparam("person_id"), Person.display_name.is_(None))
    .values(display_name=bindparam("name"))
)


@dataclass(frozen=True)
class OpenedRecord:
    """A case opened in bulk, as its ids; enough to queue its mail and keep its evidence."""

    id: int
    code_name: str
    root_message_id: str | None
    reporter_party_id: int
    reply_token: str
    report_entry_id: int
    ack_due: datetime

    @property
    def ref(self) -> str:
        return f"COC-{self.id}"


def is_plain(draft: ReportDraft) -> bool:
    """A report this module opens exactly as `open_case` would."""
    reporter = draft.reporter.normalised()
    return (
        bool(reporter.email)
        and not reporter.slack_user_id
        and not draft.involved
        and not draft.anonymous
        and not draft.immediate_danger
        and not draft.escalate
    )


def open_plain_cases(
    conn: Connection,
    drafts: Sequence[ReportDraft],
    settings: Settings,
    more_outbox: Callable[[list[OpenedRecord]], list[dict[str, Any]]] | None = None,
) -> list[OpenedRecord]:
    """Open one case per draft in the caller's transaction, in order; drafts must be plain.

    `more_outbox` gives further outbox rows for the opened cases (the gateway's
    acknowledgements); they go in the same statement as the thread roots, after them,
    so the caller's mail costs no statement, and no round trip to the server, of its own.
    """
    if not drafts:
        return []
    if not all(is_plain(d) for d in drafts):
        raise ValueError("only plain reports can be opened in bulk")
    now = utcnow()
    code = code_in_force(settings)
    timing = code.timing(settings)
    register(conn, code)
    names = free_code_names(conn, len(drafts))
    people = _people(conn, [d.reporter.normalised() for d in drafts], now)
    case_ids = _insert_ids(
        conn,
        _INSERT_CASES,
        [_case_row(d, n, code.version, now) for d, n in zip(drafts, names, strict=True)],
    )
    tokens = [new_token() for _ in drafts]
    party_ids = _insert_ids(
        conn,
        _INSERT_PARTIES,
        [
            _reporter_row(d, case_id, person_id, token, now)
            for d, case_id, person_id, token in zip(drafts, case_ids, people, tokens, strict=True)
        ],
    )
    entry_ids = _insert_ids(
        conn,
        _INSERT_ENTRIES,
        [_report_row(d, c, p, now) for d, c, p in zip(drafts, case_ids, party_ids, strict=True)],
    )
    clocks = opening_clocks(
        ack_hours=timing.ack_hours,
        stale_days=timing.stale_days,
        checkin_days=timing.checkin_days,
        now=now,
    )
    conn.execute(
        _INSERT_DEADLINES,
        [
            {"case_id": c, "kind": str(kind), "due_at": due, "payload": payload, "created_at": now}
            for c in case_ids
            for kind, due, payload in clocks
        ],
    )
    conn.execute(
        _INSERT_AUDIT,
        link_new_cases(
            [
                row
                for d, c, e in zip(drafts, case_ids, entry_ids, strict=True)
                for row in _audit_rows(d, c, e, clocks, now)
            ]
        ),
    )
    ack_due = next(due for kind, due, _ in clocks if kind == DeadlineKind.ACKNOWLEDGEMENT)
    opened = [
        OpenedRecord(c, name, d.root_message_id, p, token, e, ack_due)
        for d, c, name, p, token, e in zip(
            drafts, case_ids, names, party_ids, tokens, entry_ids, strict=True
        )
    ]
    roots = [notify.case_root_row(c) for c in case_ids]
    conn.execute(_INSERT_OUTBOX, roots + (more_outbox(opened) if more_outbox else []))
    return opened


def _insert_ids(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> list[int]:
    return list(conn.execute(statement, rows).scalars())


def _people(conn: Connection, contacts: list[Contact], now: datetime) -> list[int]:
    """One person per address: the one already on record, else a new one (as
    `people.find_or_create_person` does, name filled in if the record had none)."""
    emails = list(dict.fromkeys(c.email for c in contacts if c.email))
    known: dict[str, tuple[int, str | None]] = {}
    by_hash = hash_index(emails)
    for person_id, email_hash, name in conn.execute(_PEOPLE_BY_EMAIL, {"hashes": list(by_hash)}):
        known.setdefault(by_hash[email_hash], (person_id, name))
    named = [
        {"person_id": known[c.email][0], "name": c.display_name}
        for c in contacts
        if c.email in known and known[c.email][1] is None and c.display_name
    ]
    if named:
        conn.execute(_NAME_PEOPLE, list({r["person_id"]: r for r in named}.values()))
    first = {}
    for contact in contacts:
        if contact.email not in known:
            first.setdefault(contact.email, contact)
    if first:
        names = free_code_names(conn, len(first), people=True)
        rows = [
            {
                "email": c.email,
                "slack_user_id": None,
                "display_name": c.display_name,
                "code_name": name,
                "created_at": now,
            }
            for c, name in zip(first.values(), names, strict=True)
        ]
        for email, person_id in zip(first, _insert_ids(conn, _INSERT_PEOPLE, rows), strict=True):
            known[email] = (person_id, None)
    return [known[c.email][0] for c in contacts]


def _case_row(draft: ReportDraft, code_name: str, version: str, now: datetime) -> dict[str, Any]:
    return {
        "code_name": code_name,
        "conduct_version": version,
        "status": str(Status.NEW),
        "source": str(draft.source),
        "category": draft.category,
        "severity": draft.severity,
        "anonymous": False,
        "immediate_danger": False,
        "escalated": False,
        "root_message_id": draft.root_message_id,
        "flags": {},
        "created_at": now,
        "updated_at": now,
        "last_activity_at": now,
    }


def _reporter_row(
    draft: ReportDraft, case_id: int, person_id: int, token: str, now: datetime
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "person_id": person_id,
        "role": str(Role.REPORTER),
        "reply_token": token,
        "contact_email": (draft.reporter_reply_address or "").strip().lower() or None,
        "contact_preference": draft.contact_preference,
        "anonymous": False,
        "created_at": now,
    }


def _report_row(draft: ReportDraft, case_id: int, party_id: int, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "kind": str(EntryKind.REPORT),
        "source": str(draft.source),
        "party_id": party_id,
        "author": None,
        "text": draft.text or "",
        "full_text": draft.full_text,
        "data": report_data(draft),
        "dedupe_key": draft.dedupe_key,
        "created_at": now,
    }


def _audit_rows(
    draft: ReportDraft,
    case_id: int,
    entry_id: int,
    clocks: list[tuple[DeadlineKind, datetime, dict[str, Any]]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The trail `open_case` leaves: the reporter added, the report, each clock, the opening."""

    def event(action: str, actor: str, entry: int | None = None, **detail: Any) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "entry_id": entry,
            "actor": actor,
            "action": action,
            "detail": detail,
            "created_at": now,
        }

    reporter = str(Role.REPORTER)
    return [
        event("party.added", "system", role=reporter),
        event("entry.added", f"party:{reporter}", entry_id, kind=str(EntryKind.REPORT)),
        *[
            event("deadline.scheduled", "system", kind=str(kind), due_at=due.isoformat())
            for kind, due, _ in clocks
        ],
        event("case.opened", REPORTER_ACTOR, source=str(draft.source)),
    ]
