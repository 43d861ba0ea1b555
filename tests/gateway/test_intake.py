"""conduct@ over real SMTP: what is accepted, what is refused, and that nothing is lost."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import func, select, text

from core.infra.db import Database
from core.infra.models import Case, Entry, InboundMessage
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.smtp_helpers import cases_show, send


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_report_by_mail_opens_a_case(
    gateway: MailServer, db: Database, settings: Settings, tmp_path: Path
) -> None:
    raw = corpus.plain(subject="Harassment at the meetup", body="He kept following me.")
    code, reply = send(gateway.address[1], raw)
    assert (code, reply[:9]) == (250, b"2.0.0 Mes")
    data = cases_show(settings.database_url, "COC-1", tmp_path)
    assert data["ref"] == "COC-1"
    assert data["status"] == "new"
    assert data["source"] == "email"
    assert len(data["code_name"].split("-")) >= 2
    assert [e["kind"] for e in data["entries"]] == ["report"]
    assert data["entries"][0]["source"] == "email"
    assert data["entries"][0]["text"].strip() == "He kept following me."
    assert [d["kind"] for d in data["deadlines"]] == [
        "acknowledgement_due",
        "stale_case",
        "reporter_check_in",
    ]
    assert all(d["due_at"] and d["fired_at"] is None for d in data["deadlines"])
    assert data["decision"] is None and data["appeals"] == []
    assert data["slack"] == {"channel": None, "thread_ts": None}
    for entry in data["entries"]:
        assert set(entry) >= {"kind", "source", "text", "created_at"}


def test_other_recipients_are_refused_as_no_relay(gateway: MailServer, db: Database) -> None:
    for rcpt in ("someone@example.org", "conduct@elsewhere.net", "conductx@example.org"):
        code, reply = send(gateway.address[1], corpus.plain(), to=rcpt)
        assert code == 550 and reply.startswith(b"5.1.1"), (rcpt, code, reply)
    assert count(db, Case) == 0
    code, _ = send(gateway.address[1], corpus.plain(), to="Conduct+anything@Example.org")
    assert code == 250


def test_size_is_advertised_and_oversized_mail_gets_552(
    gateway: MailServer, db: Database, settings: Settings
) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.address[1]) as client:
        client.ehlo()
        assert int(client.esmtp_features["size"]) == settings.max_message_bytes
        assert "smtputf8" in client.esmtp_features and "8bitmime" in client.esmtp_features
    raw = corpus.oversized(settings.max_message_bytes + 1024)
    code, reply = send(gateway.address[1], raw)
    assert code == 552, reply
    assert count(db, Case) == 0 and count(db, InboundMessage) == 0
    code, _ = send(gateway.address[1], corpus.plain(body="a normal report after it"))
    assert code == 250 and count(db, Case) == 1


def test_a_storage_failure_answers_451_and_loses_nothing(gateway: MailServer, db: Database) -> None:
    raw = corpus.plain(subject="please keep this", body="Something happened.")
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE inbound_messages RENAME TO inbound_messages_away"))
    try:
        code, reply = send(gateway.address[1], raw)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE inbound_messages_away RENAME TO inbound_messages"))
    assert code == 451 and reply.startswith(b"4.3.0"), reply
    assert b"inbound" not in reply.lower() and b"sql" not in reply.lower()
    assert count(db, Case) == 0 and count(db, Entry) == 0
    # The sender's server retries, and the message arrives once.
    assert send(gateway.address[1], raw)[0] == 250
    assert count(db, Case) == 1 and count(db, InboundMessage) == 1


def test_the_same_message_twice_makes_one_entry(gateway: MailServer, db: Database) -> None:
    raw = corpus.plain(message_id="<dup-1@example.net>")
    assert send(gateway.address[1], raw)[0] == 250
    assert send(gateway.address[1], raw)[0] == 250
    assert count(db, Entry) == 1 and count(db, InboundMessage) == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(
    gateway: MailServer, db: Database
) -> None:
    raw = corpus.no_message_id()
    assert b"\nmessage-id:" not in raw.lower()
    assert send(gateway.address[1], raw)[0] == 250
    assert send(gateway.address[1], raw)[0] == 250
    assert count(db, Case) == 1 and count(db, InboundMessage) == 1
    with db.session() as session:
        stored = session.scalars(select(InboundMessage)).one()
        assert stored.dedupe_key.startswith("sha256:")


def test_the_raw_message_is_kept_as_evidence(gateway: MailServer, db: Database) -> None:
    raw = corpus.nested_multipart()
    assert send(gateway.address[1], raw)[0] == 250
    with db.session() as session:
        stored = session.scalars(select(InboundMessage)).one()
        assert stored.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
        assert stored.size == len(stored.raw)


def test_malformed_mime_is_accepted_with_its_defects_recorded(
    gateway: MailServer, db: Database
) -> None:
    assert send(gateway.address[1], corpus.malformed_mime())[0] == 250
    with db.session() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.data["defects"], entry.data


def test_bare_cr_cannot_inject_a_header(gateway: MailServer, db: Database) -> None:
    assert send(gateway.address[1], corpus.bare_cr_injection())[0] == 250
    with db.session() as session:
        stored = session.scalars(select(InboundMessage)).one()
        entry = session.scalars(select(Entry)).one()
    parsed = message_from_bytes(stored.raw, policy=policy.default)
    assert parsed["X-Injected"] is None
    assert b"\r\n" in stored.raw and b"\r\r" not in stored.raw
    # The smuggled text stays inside the Subject value, as text, and the attempt is noted.
    assert entry.data["subject"] == "hello X-Injected: yes"
    assert "BareCRInHeaderDefect" in entry.data["defects"]
