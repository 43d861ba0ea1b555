"""Decisions and appeals by email, over real SMTP: the running gateway, a real sink.

An appeal by mail is a reply to the decision mail (reply token or our
Message-ID) or a new mail with the case tag from a person on the case.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from core.casework import cases as case_service
from core.casework.actions import NotAllowed
from core.casework.cases import Role
from core.casework.deadlines import DeadlineKind
from core.casework.followups import ask_respondent, fire_due
from core.casework.people import Contact
from core.decisions import appeals
from core.decisions.decisions import record_appeal_decision, record_decision
from core.infra.clock import human_exact, utcnow
from core.infra.db import Database
from core.infra.outbox import OutboxWorker
from core.infra.settings import Settings
from core.records.export import case_detail
from mailgateway.server import MailServer
from tests.followups.conftest import (
    QUIET,
    deadlines,
    notices,
    reminders,
    seconds,
    wait_until,
)
from tests.mail import corpus
from tests.smtp_helpers import Sink, send

STEWARD = "U_STEW1"
ALEX, BLAIR = "alex@example.net", "blair@example.com"


@pytest.fixture
def quiet_mail(mail_settings: Settings) -> Settings:
    return replace(mail_settings, **QUIET)


def drain(worker: OutboxWorker) -> None:
    """Deliver until nothing is due (rows in one mail thread go out one per round)."""
    while worker.run_once():
        pass


def mail_to(sink: Sink, address: str) -> list[EmailMessage]:
    return [
        message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
        for m in sink.messages
        if m.rcpt_tos == [address]
    ]


def open_by_mail(gateway: MailServer, worker: OutboxWorker) -> None:
    raw = corpus.plain(subject="Rude comments at the meetup", body="They mocked my talk.")
    assert send(gateway.address[1], raw, mail_from=ALEX)[0] == 250
    drain(worker)


def add_reported(db: Database) -> None:
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        case_service.add_party(session, case, Role.REPORTED, Contact(email=BLAIR))


def decide(db: Database, settings: Settings, **messages: str) -> object:
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        return record_decision(
            session,
            settings,
            case,
            STEWARD,
            "warning",
            rationale="The recording shows it.",
            **messages,
        ).appeal_deadline


def status(db: Database) -> str:
    with db.session() as session:
        return case_service.get_case(session, "COC-1").status


def test_a_reply_to_the_decision_mail_is_an_appeal_and_its_decision_is_final(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database, quiet_mail: Settings
) -> None:
    open_by_mail(gateway, worker)
    add_reported(db)
    window = decide(
        db,
        quiet_mail,
        message_to_reported="Mocking a speaker is not acceptable here.",
        message_to_reporter="We have warned them.",
    )
    drain(worker)
    [to_blair] = mail_to(sink, BLAIR)
    [_, to_alex] = mail_to(sink, ALEX)  # the acknowledgement came first
    for notice in (to_blair, to_alex):
        body = notice.get_content()
        assert f"appeal this decision in writing until {human_exact(window)}" in body
        assert notice["Subject"].startswith("[COC-1] ")
        assert notice["Reply-To"].startswith("conduct+")
    assert "A warning." in to_blair.get_content()
    assert "We have warned them." in to_alex.get_content()

    reply = corpus.plain(
        from_addr=BLAIR,
        subject="Re: " + to_blair["Subject"],
        body="I appeal: it was a joke between friends.",
        in_reply_to=to_blair["Message-ID"],
        references=to_blair["Message-ID"],
    )
    assert send(gateway.address[1], reply, mail_from=BLAIR, to=to_blair["Reply-To"])[0] == 250
    assert status(db) == "appeal_review"
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        appeal_entry = next(e for e in case.entries if e.kind == "appeal")
        assert appeal_entry.party.role == "reported" and appeal_entry.source == "email"
        assert "joke between friends" in appeal_entry.text
        data = case_detail(session, case)
    assert [(a["party_role"], a["late"], a["status"]) for a in data["appeals"]] == [
        ("reported", False, "under_review")
    ]
    [line] = notices(db, 1, "appeal")
    assert line["details"]["late"] is False
    drain(worker)
    [_, received] = mail_to(sink, BLAIR)
    assert "received your appeal" in received.get_content()

    with db.session() as session:
        record_appeal_decision(
            session,
            quiet_mail,
            case_service.get_case(session, "COC-1"),
            STEWARD,
            "uphold",
            rationale="Still not acceptable.",
            message_to_reported="We reviewed your appeal and upheld the warning.",
            message_to_reporter="The warning stands after an appeal.",
        )
    assert status(db) == "closed"
    drain(worker)
    final_blair, final_alex = mail_to(sink, BLAIR)[-1], mail_to(sink, ALEX)[-1]
    for notice in (final_blair, final_alex):
        assert "This decision is final" in notice.get_content()
    assert "upheld" in final_blair.get_content()
    # After the final decision, mail is correspondence, not another appeal.
    later = corpus.plain(from_addr=BLAIR, subject="[COC-1] one more thing", body="Noted.")
    assert send(gateway.address[1], later, mail_from=BLAIR)[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.entries[-1].kind == "inbound_mail" and case.status == "closed"
        assert case_detail(session, case)["decision"]["appeal_decision"]["final"] is True


def test_a_late_appeal_by_tagged_mail_is_flagged_and_its_sender_told(
    gateway: MailServer,
    worker: OutboxWorker,
    sink: Sink,
    db: Database,
    quiet_mail: Settings,
    start_scheduler,
) -> None:
    short = replace(quiet_mail, appeal_days=seconds(1))
    open_by_mail(gateway, worker)
    window = decide(db, short, message_to_reporter="We found no grounds to act.")
    start_scheduler(db, short)
    wait_until(lambda: status(db) == "closed")  # the window passed with no appeal

    appeal = corpus.plain(
        from_addr=ALEX, subject="Appeal [COC-1]", body="I want to appeal this decision."
    )
    assert send(gateway.address[1], appeal, mail_from=ALEX)[0] == 250
    assert status(db) == "closed"
    with db.session() as session:
        data = case_detail(session, case_service.get_case(session, "COC-1"))
    [recorded] = data["appeals"]
    assert (recorded["late"], recorded["status"], recorded["party_role"]) == (
        True,
        "late",
        "reporter",
    )
    appeal_entries = [e for e in data["entries"] if e["kind"] == "appeal"]
    assert appeal_entries[0]["data"]["late"] is True
    [line] = notices(db, 1, "appeal")
    assert line["details"]["late"] is True
    drain(worker)
    told = mail_to(sink, ALEX)[-1]
    assert f"closed on {human_exact(window)}" in " ".join(told.get_content().split())
    assert told["Subject"] == "[COC-1] The appeal window has closed"

    # A second mail is correspondence: nobody is told twice.
    more = corpus.plain(from_addr=ALEX, subject="Re: [COC-1]", body="Please reconsider.")
    assert send(gateway.address[1], more, mail_from=ALEX)[0] == 250
    drain(worker)
    assert sum("window has closed" in m["Subject"] for m in mail_to(sink, ALEX)) == 1

    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        with pytest.raises(NotAllowed):
            appeals.accept_late_appeal(session, short, case, STEWARD, "  ")
        accepted = appeals.accept_late_appeal(
            session, short, case, STEWARD, "The reporter was in hospital."
        )
        assert (accepted.status, accepted.accepted_by) == ("accepted_late", STEWARD)
    assert status(db) == "appeal_review"
    # They were told a steward might accept it and that they would hear if so.
    drain(worker)
    accepted_notice = mail_to(sink, ALEX)[-1]
    assert accepted_notice["Subject"] == "[COC-1] Your late appeal will be reviewed"
    assert "review it all the same" in " ".join(accepted_notice.get_content().split())
    assert "hospital" not in accepted_notice.get_content()  # the stewards' reason stays inside


def test_the_reported_persons_side_threads_into_the_case(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database, quiet_mail: Settings
) -> None:
    open_by_mail(gateway, worker)
    add_reported(db)
    respond_by = utcnow() + timedelta(seconds=1)
    with db.session() as session:
        ask_respondent(
            session,
            quiet_mail,
            case_service.get_case(session, "COC-1"),
            STEWARD,
            "Please tell us what happened from your side.",
            respond_by,
        )
    drain(worker)
    [asked] = mail_to(sink, BLAIR)
    assert "from your side" in asked.get_content()
    assert f"Please answer by {human_exact(respond_by)}" in asked.get_content()
    reply = corpus.plain(from_addr=BLAIR, subject="Re: " + asked["Subject"], body="My side.")
    assert send(gateway.address[1], reply, mail_from=BLAIR, to=asked["Reply-To"])[0] == 250
    with db.session() as session:
        entry = case_service.get_case(session, "COC-1").entries[-1]
        assert (entry.kind, entry.party.role, entry.text.strip()) == (
            "inbound_mail",
            "reported",
            "My side.",
        )
    assert notices(db, 1, "respondent_message")
    # They answered, so the response deadline passes without a reminder.
    wait_until(lambda: utcnow() > respond_by)
    assert fire_due(db, quiet_mail) == [deadlines(db, 1, DeadlineKind.RESPONSE_DUE)[0].id]
    assert reminders(db, 1, DeadlineKind.RESPONSE_DUE) == []
