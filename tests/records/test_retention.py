"""Retention: closed cases are expunged after their outcome's period, through the scheduler.

Periods are settings in days that accept fractions, so a "six-month" period here
lasts seconds; the scheduler, the SMTP gateway and the Slack emulator are real.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.casework import cases as case_service
from core.casework import followups
from core.casework.deadlines import DeadlineKind, pending
from core.casework.people import Contact, is_contact
from core.decisions.decisions import record_decision
from core.infra.clock import utcnow
from core.infra.crypto import lookup_hashes
from core.infra.db import Database
from core.infra.models import (
    Attachment,
    AuditEvent,
    Base,
    Decision,
    InboundMessage,
    OutboxItem,
    Person,
)
from core.infra.settings import Settings
from core.policy import load_code
from core.records.patterns import earlier_cases
from core.records.retention import expunge, is_expunged
from core.records.transparency import Period, figures
from mailgateway.server import MailServer
from tests.followups.conftest import (
    QUIET,
    audits,
    deadlines,
    open_case,
    reminders,
    seconds,
    slack_draft,
    start_scheduler,  # noqa: F401 - fixture
    wait_until,
)
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import cli_result, send

STEWARD = "U_STEW1"
MESSAGES = {
    "rationale": "The remarks were confirmed by two witnesses.",
    "message_to_reported": "Please keep to the code.",
    "message_to_reporter": "We have acted on your report.",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Short periods: a closed case lives seconds; the notice comes just after it closes."""
    return replace(
        settings,
        **{**QUIET, "appeal_days": seconds(0.3)},
        retention_dismissed_days=seconds(2.5),
        retention_warning_days=seconds(8),
        retention_after_ban_days=seconds(3),
        expunge_notice_days=seconds(6),
    )


def reason_values(text: str) -> dict:
    return {"reason": {"reason": {"type": "plain_text_input", "value": text}}}


def decide(db: Database, settings: Settings, case_id: int, outcome: str, **terms) -> None:
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        record_decision(session, settings, case, STEWARD, outcome, **MESSAGES, **terms)


def expunged(db: Database, case_id: int) -> bool:
    with db.session() as session:
        return is_expunged(case_service.get_case(session, case_id))


def whole_record(db: Database) -> str:
    """Every row of every table, unsealed: what the keys would still reveal after expunging."""
    with db.engine.connect() as conn:
        return "\n".join(
            repr(row)
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table))
        )


def test_a_mailed_case_is_expunged_to_a_tombstone_after_its_period(
    gateway: MailServer,
    db: Database,
    mail_settings: Settings,
    start_scheduler,  # noqa: F811 - fixture
    tmp_path: Path,
) -> None:
    assert send(gateway.address[1], corpus.attachment_non_ascii())[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        case.category = "harassment"
        report_text = case.entries[0].text
        reporter_email = case.parties[0].person.email
    decide(db, mail_settings, 1, "no_violation")
    start_scheduler(db, mail_settings)
    [notice] = wait_until(lambda: reminders(db, 1, DeadlineKind.EXPUNGE_NOTICE))
    assert notice["details"]["keep_longer"] is True and notice["details"]["snooze"] is False
    assert notice["details"]["summary"].startswith("COC-1 will be expunged on ")
    wait_until(lambda: expunged(db, 1), timeout=15)

    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert (case.ref, case.source, case.category, case.status) == (
            "COC-1",
            "email",
            "harassment",
            "closed",
        )
        assert case.code_name and case.created_at and case.closed_at
        assert all(e.text == "" and e.full_text is None and e.data == {} for e in case.entries)
        assert all(p.person.email is None and p.contact_email is None for p in case.parties)
        for model in (Attachment, InboundMessage):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        with_email = Person.email_hash.in_(lookup_hashes(reporter_email))
        assert session.scalar(select(func.count()).where(with_email)) == 0
        [decision] = session.scalars(select(Decision)).all()
        assert (decision.outcome, decision.rationale, decision.message_to_reporter) == (
            "no_violation",
            "",
            "",
        )
        trail = [(a.action, a.detail) for a in session.scalars(select(AuditEvent))]
        outbox = [o.payload for o in session.scalars(select(OutboxItem))]
    assert ("case.expunged", {}) in trail
    for leftover in (json.dumps(trail), json.dumps(outbox), whole_record(db)):
        assert report_text[:20] not in leftover
        assert reporter_email not in leftover
        assert MESSAGES["rationale"] not in leftover
    verified = cli_result(mail_settings.database_url, tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit trail intact: ")

    refused = cli_result(mail_settings.database_url, tmp_path, "export", "COC-1", "--out", "x")
    assert (refused.returncode, refused.stderr) == (
        1,
        "steward export: COC-1 has been expunged under the retention rules; only its "
        "statistics are kept, so there is no case file to export.\n",
    )
    today = utcnow().date()
    with db.session() as session:
        code = load_code(mail_settings.code_of_conduct)
        kept = figures(session, code, "Example", Period(today, today))
    assert {r.key: r.count for r in kept.outcomes}["no_violation"] == 1
    assert {r.key: r.count for r in kept.by_category}["harassment"] == 1


def test_each_outcome_has_its_own_period(db: Database, settings: Settings) -> None:
    ban_until = utcnow() + timedelta(seconds=20)
    outcomes = {
        "no_violation": {},
        "warning": {},
        "temporary_ban": {"ban_until": ban_until},
        "permanent_ban": {},
    }
    ids = {}
    for outcome, terms in outcomes.items():
        ids[outcome] = open_case(db, settings)
        decide(db, replace(settings, appeal_days=seconds(0.01)), ids[outcome], outcome, **terms)
    now = utcnow() + timedelta(seconds=3)  # appeal windows end on a whole second
    followups.fire_due(db, settings, now)  # the appeal windows close
    followups.fire_due(db, settings, now)  # the retention clocks start
    with db.session() as session:
        expunge = {
            o: [d.due_at for d in pending(session, i) if d.kind == DeadlineKind.EXPUNGE]
            for o, i in ids.items()
        }
        closed = {o: case_service.get_case(session, i).closed_at for o, i in ids.items()}
    assert expunge["no_violation"] == [closed["no_violation"] + timedelta(seconds=2.5)]
    assert expunge["warning"] == [closed["warning"] + timedelta(seconds=8)]
    [ban] = expunge["temporary_ban"]
    assert abs((ban - (ban_until + timedelta(seconds=3))).total_seconds()) < 0.01
    assert expunge["permanent_ban"] == []
    [kept] = [a for a in audits(db, "retention.kept")]
    assert kept.case_id == ids["permanent_ban"]


def test_a_ban_with_no_end_date_under_a_code_that_allows_one_is_kept(
    db: Database, settings: Settings
) -> None:
    """The Alliance of Civic Technologists' serious ban may run until a date or not at
    all: one without a date stands indefinitely, so its case is kept like a permanent
    ban; one with a date gets the after-ban period, whatever the code calls it."""
    act = replace(settings, code_of_conduct="act")
    ban_until = utcnow() + timedelta(seconds=20)
    indefinite, dated = open_case(db, act), open_case(db, act)
    decide(db, replace(act, appeal_days=seconds(0.01)), indefinite, "serious_ban")
    decide(db, replace(act, appeal_days=seconds(0.01)), dated, "serious_ban", ban_until=ban_until)
    now = utcnow() + timedelta(seconds=3)  # appeal windows end on a whole second
    followups.fire_due(db, act, now)  # the appeal windows close
    followups.fire_due(db, act, now)  # the retention clocks start
    with db.session() as session:
        kept = [d for d in pending(session, indefinite) if d.kind == DeadlineKind.EXPUNGE]
        [until] = [d.due_at for d in pending(session, dated) if d.kind == DeadlineKind.EXPUNGE]
    assert kept == []
    assert abs((until - (ban_until + timedelta(seconds=3))).total_seconds()) < 0.01
    assert [a.case_id for a in audits(db, "retention.kept")] == [indefinite]


def test_a_new_report_about_the_same_person_pushes_back_earlier_cases(
    stack: Stack,
) -> None:
    db, settings = stack.db, stack.settings
    stack.report("U_ALEX", reported=["U_BLAIR"])
    stack.report("U_BLAIR", reported=["U_ALEX"])
    decide(db, settings, 1, "warning")
    decide(db, settings, 2, "warning")
    now = utcnow() + timedelta(seconds=3)  # appeal windows end on a whole second
    followups.fire_due(db, settings, now)
    followups.fire_due(db, settings, now)
    [first] = [d for d in deadlines(db, 1, DeadlineKind.EXPUNGE)]
    [other] = [d for d in deadlines(db, 2, DeadlineKind.EXPUNGE)]

    stack.report("U_ALEX", reported=["U_BLAIR"])  # Blair reported again

    [moved] = [d for d in deadlines(db, 1, DeadlineKind.EXPUNGE)]
    assert moved.id == first.id and moved.due_at > first.due_at
    [same] = [d for d in deadlines(db, 2, DeadlineKind.EXPUNGE)]
    assert same.due_at == other.due_at
    [pushed] = audits(db, "retention.pushed_back")
    assert (pushed.case_id, pushed.detail) == (1, {"by_case": "COC-3"})
    notices = [d for d in deadlines(db, 1, DeadlineKind.EXPUNGE_NOTICE) if d.cancelled_at is None]
    assert len(notices) == 1 and notices[0].due_at < moved.due_at


def test_keep_longer_from_the_thread_needs_a_reason_and_moves_the_date(
    stack: Stack,
    start_scheduler,  # noqa: F811 - fixture
) -> None:
    db, settings = stack.db, stack.settings
    stack.report("U_ALEX", reported=["U_BLAIR"])
    decide(db, settings, 1, "warning")
    start_scheduler(db, settings)
    wait_until(lambda: reminders(db, 1, DeadlineKind.EXPUNGE_NOTICE))
    [planned] = [d for d in deadlines(db, 1, DeadlineKind.EXPUNGE)]
    stack.drain()
    line = next(m for m in stack.staff_messages() if "will be expunged" in m.get("text", ""))
    buttons = [e for b in line["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["case_keep_longer"]

    opened = stack.emulator.click(
        "U_STEW1", "case_keep_longer", channel="G_STAFF", message_ts=line["ts"], value="1"
    )
    [view] = opened["views"]
    empty = stack.emulator.submit("U_STEW1", view["id"], reason_values(" "))
    assert empty["body"] == {
        "response_action": "errors",
        "errors": {"reason": "Say why the case should be kept longer."},
    }
    reason = "Blair's second case is still being heard."
    answer = stack.emulator.submit("U_STEW1", view["id"], reason_values(reason))
    assert (answer["status"], answer["body"], answer["view_closed"]) == (200, None, True)

    [kept] = audits(db, "retention.kept_longer")
    assert kept.actor == "steward:U_STEW1" and kept.detail == {}
    [moved] = [d for d in deadlines(db, 1, DeadlineKind.EXPUNGE)]
    assert moved.id == planned.id and moved.due_at > planned.due_at
    with db.session() as session:
        case = case_service.get_case(session, 1)
        assert [e.text for e in case.entries if e.id == kept.entry_id] == [reason]
    wait_until(lambda: utcnow() > planned.due_at + timedelta(seconds=1), timeout=15)
    assert not expunged(db, 1)
    wait_until(lambda: expunged(db, 1), timeout=20)
    stack.drain()
    [root] = [m for m in stack.staff_messages() if "replies" in m]
    assert root["text"].startswith("COC-1 (") and " was expunged on " in root["text"]
    assert not [m for m in root["replies"] if m.get("bot_id")]


def test_expunging_unlinks_a_person_other_cases_name_and_empties_one_named_only_there(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    open_case(db, settings, slack_draft())  # Alex reports Blair
    open_case(db, settings, slack_draft(reporter=Contact(slack_user_id="U_CASEY")))
    with db.session() as session:
        expunge(session, case_service.get_case(session, 1))
    with db.session() as session:
        first = case_service.get_case(session, 1)
        second = case_service.get_case(session, 2)
        people = {p.role: p.person for p in first.parties}
        blair = next(p.person for p in second.parties if p.role == "reported")
        assert (blair.slack_user_id, people["reported"].id != blair.id) == ("U_BLAIR", True)
        for person in people.values():
            assert (person.slack_user_id, person.slack_user_id_hash) == (None, None)
            assert not is_contact(person, Contact(slack_user_id="U_BLAIR"))
            assert not is_contact(person, Contact(slack_user_id="U_ALEX"))
        assert is_contact(blair, Contact(slack_user_id="U_BLAIR"))
        alex = Person.slack_user_id_hash.in_(lookup_hashes("U_ALEX"))
        assert session.scalar(select(func.count()).where(alex)) == 0
        assert earlier_cases(session, second, None) == []
    verified = cli_result(settings.database_url, tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
