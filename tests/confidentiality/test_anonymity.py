"""Anonymous email reporters, over real SMTP, with what stewards see through the emulator
and the command line."""

from __future__ import annotations

import json
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.models import AuditEvent
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import cli_result, send

ALEX = "alex@example.net"
FROM = f"Alex Rivera <{ALEX}>"
BODY = "At Tuesday's meetup a member kept commenting on my appearance."


def mails_to(stack: Stack, address: str = ALEX) -> list[EmailMessage]:
    return [
        message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
        for m in stack.sink.messages
        if m.rcpt_tos == [address]
    ]


def body_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def report(stack: Stack, gateway: MailServer, subject: str) -> EmailMessage:
    raw = corpus.plain(from_addr=FROM, subject=subject, body=BODY)
    assert send(gateway.address[1], raw)[0] == 250
    stack.drain()
    [ack] = mails_to(stack)
    return ack


def reply(stack: Stack, gateway: MailServer, to: str, body: str, subject: str = "Re: x") -> None:
    raw = corpus.plain(from_addr=FROM, subject=subject, body=body)
    assert send(gateway.address[1], raw, to=to)[0] == 250
    stack.drain()


def view_report(stack: Stack, steward: str = "U_STEW1") -> str:
    root = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))
    answer = stack.emulator.click(
        steward, "case_view_report", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    [view] = answer["views"]
    return json.dumps(view)


def cli(stack: Stack, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_result(stack.settings.database_url, cwd, *args)


def exported(stack: Stack, cwd: Path) -> dict[str, Any]:
    result = cli(stack, cwd, "cases", "show", "COC-1", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_anonymous_in_the_subject_hides_the_reporter_everywhere(
    stack: Stack, gateway_for: MailServer, tmp_path: Path
) -> None:
    ack = report(stack, gateway_for, "[Anonymous] Comments at the meetup")
    words = " ".join(body_of(ack).split())
    assert "You asked to stay anonymous." in words
    assert "reply to this email with the single word REVEAL as its first line" in words
    assert "cannot be undone" in words
    # The thread, the report view and the export show no name and no address.
    thread = json.dumps(stack.staff_messages())
    assert "anonymous reporter" in thread
    view = view_report(stack)
    assert BODY in view and "anonymous (sealed)" in view
    data = exported(stack, tmp_path)
    for seen in (thread, view, json.dumps(data)):
        assert ALEX not in seen and "Alex Rivera" not in seen
    [reporter] = data["people"]
    assert reporter["anonymous"] is True and reporter["contact_route"] == "email"
    # A steward's reply still reaches them, by their conduct+TOKEN route.
    root = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))
    opened = stack.emulator.click(
        "U_STEW1", "case_reply", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    values = {"message": {"message": {"type": "plain_text_input", "value": "Are you safe?"}}}
    stack.emulator.submit("U_STEW1", opened["views"][0]["id"], values)
    stack.drain()
    relay = mails_to(stack)[-1]
    assert "Are you safe?" in body_of(relay) and relay["Reply-To"] == ack["Reply-To"]
    assert ALEX not in json.dumps(stack.staff_messages())


def test_a_plain_subject_is_not_anonymous(stack: Stack, gateway_for: MailServer) -> None:
    ack = report(stack, gateway_for, "Comments at the meetup")
    assert "anonymous" not in body_of(ack).lower()
    assert ALEX in view_report(stack)


def test_a_later_reply_can_ask_for_anonymity(stack: Stack, gateway_for: MailServer) -> None:
    ack = report(stack, gateway_for, "Comments at the meetup")
    reply(stack, gateway_for, ack["Reply-To"], "Please keep me anonymous from now on.\nThanks.")
    confirmed = mails_to(stack)[-1]
    assert confirmed["Subject"] == "[COC-1] Your identity is hidden from the stewards"
    assert "REVEAL" in body_of(confirmed)
    view = view_report(stack)
    assert ALEX not in view and "Alex Rivera" not in view
    assert "The reporter is now anonymous." in json.dumps(stack.staff_messages())
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.anonymous and case_service.reporter_of(case).anonymous  # type: ignore[union-attr]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reporter.anonymous")
        )
        assert [e.actor for e in events] == ["party:reporter"]


def test_revealing_is_recorded_and_cannot_be_undone(
    stack: Stack, gateway_for: MailServer, tmp_path: Path
) -> None:
    ack = report(stack, gateway_for, "anonymous report")
    # Words that merely mention revealing do not reveal anyone.
    reply(stack, gateway_for, ack["Reply-To"], "I may reveal more details later.")
    assert ALEX not in view_report(stack)
    reply(stack, gateway_for, ack["Reply-To"], "Reveal.\n\n> quoted acknowledgement")
    revealed = mails_to(stack)[-1]
    assert revealed["Subject"] == "[COC-1] The stewards now know who you are"
    assert ALEX in view_report(stack)
    assert "reveal who they are" in json.dumps(stack.staff_messages())
    assert exported(stack, tmp_path)["people"][0]["email"] == ALEX
    # Asking for anonymity again changes nothing: revealing is final.
    reply(stack, gateway_for, ack["Reply-To"], "Actually, make me anonymous again.")
    assert ALEX in view_report(stack)
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert not case.anonymous and case.flags["reporter_revealed"] is True
        notes = [e.data.get("anonymity") for e in case.entries if e.kind == "system"]
        assert notes == ["revealed", "refused"]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "reporter.revealed"))
        assert [e.actor for e in events] == ["party:reporter"]


def test_a_reveal_from_another_address_is_refused(stack: Stack, gateway_for: MailServer) -> None:
    ack = report(stack, gateway_for, "anonymous")
    other = "someone@example.com"
    raw = corpus.plain(from_addr=other, subject="Re: x", body="REVEAL")
    assert send(gateway_for.address[1], raw, mail_from=other, to=ack["Reply-To"])[0] == 250
    stack.drain()
    assert ALEX not in view_report(stack)
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.anonymous and "reporter_revealed" not in case.flags
        notes = [e.data.get("anonymity") for e in case.entries if e.kind == "system"]
        assert notes == ["reveal_refused"]
