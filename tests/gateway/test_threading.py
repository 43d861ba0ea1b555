"""Replies land in their case: reply token, our Message-IDs, and subject tags from people on it."""

from __future__ import annotations

from email import message_from_bytes, policy

from sqlalchemy import func, select

from core.casework import cases as case_service
from core.infra.db import Database
from core.infra.models import Case
from core.infra.outbox import OutboxWorker
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.smtp_helpers import Sink, send


def open_first_case(gateway: MailServer, worker: OutboxWorker, sink: Sink) -> dict[str, str]:
    raw = corpus.plain(subject="First report", message_id="<root@example.net>")
    assert send(gateway.address[1], raw)[0] == 250
    worker.run_once()
    ack = message_from_bytes(sink.messages[-1].data, policy=policy.default)
    return {"reply_to": ack["Reply-To"], "message_id": ack["Message-ID"]}


def cases(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def entries(db: Database, ref: str) -> list[tuple[str, str]]:
    with db.session() as session:
        case = case_service.get_case(session, ref)
        return [(e.kind, e.data.get("via") or "") for e in case.entries]


def test_a_reply_to_the_token_address_threads(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    ack = open_first_case(gateway, worker, sink)
    reply = corpus.plain(subject="more details", body="It happened again today.")
    assert send(gateway.address[1], reply, to=ack["reply_to"])[0] == 250
    assert cases(db) == 1
    assert entries(db, "COC-1")[-1] == ("inbound_mail", "reply-token")


def test_a_reply_referencing_our_message_id_threads(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    ack = open_first_case(gateway, worker, sink)
    reply = corpus.gmail_quoted_reply(in_reply_to=ack["message_id"])
    assert send(gateway.address[1], reply)[0] == 250
    assert cases(db) == 1
    assert entries(db, "COC-1")[-1] == ("inbound_mail", "message-id")
    with db.session() as session:
        entry = case_service.get_case(session, "COC-1").entries[-1]
        assert "wrote:" not in entry.text and entry.text.strip()
        assert entry.full_text and "wrote:" in entry.full_text


def test_a_subject_tag_counts_only_from_someone_on_the_case(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    open_first_case(gateway, worker, sink)
    known = corpus.plain(subject="Re: [COC-1] First report", body="one more thing")
    assert send(gateway.address[1], known)[0] == 250
    assert cases(db) == 1
    assert entries(db, "COC-1")[-1] == ("inbound_mail", "subject-tag")

    stranger = corpus.plain(
        from_addr="mallory@example.com", subject="[COC-1] let me in", body="hello"
    )
    assert send(gateway.address[1], stranger, mail_from="mallory@example.com")[0] == 250
    assert cases(db) == 2
    with db.session() as session:
        new = case_service.get_case(session, "COC-2")
        assert new.flags["stranger_case_tag"] == "COC-1"
        assert [e.kind for e in new.entries] == ["report", "system"]
    # The stranger is acknowledged on their own new case, never sent anything from COC-1.
    worker.run_once()
    to_mallory = [m for m in sink.messages if m.rcpt_tos == ["mallory@example.com"]]
    assert len(to_mallory) == 1
    assert b"[COC-2]" in to_mallory[0].data and b"COC-1" not in to_mallory[0].data


def test_outlook_quotes_are_stripped_for_display(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    ack = open_first_case(gateway, worker, sink)
    reply = corpus.outlook_quoted_reply()
    assert send(gateway.address[1], reply, to=ack["reply_to"])[0] == 250
    with db.session() as session:
        entry = case_service.get_case(session, "COC-1").entries[-1]
        assert "Original Message" not in entry.text and entry.text.strip()
        assert entry.full_text and "Original Message" in entry.full_text
