"""Real-world mail over real SMTP: long lines, automatic mail, forwards, quoted replies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from core.infra.db import Database
from core.infra.models import Entry, InboundMessage, OutboxItem
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.gateway.conftest import running_gateway
from tests.mail import corpus
from tests.smtp_helpers import cases_show, send


def stored(db: Database) -> tuple[InboundMessage, Entry]:
    with db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
        return message, message.entry


def acknowledgements(db: Database) -> int:
    with db.session() as session:
        kinds = session.scalars(select(OutboxItem.kind)).all()
    return kinds.count("acknowledgement")


def test_a_5000_octet_line_is_accepted_kept_byte_for_byte_and_parsed(
    gateway: MailServer, db: Database
) -> None:
    raw, line = corpus.long_line(5000, header_octets=2000)
    assert max(len(row) for row in raw.split(b"\r\n")) >= 5000
    code, reply = send(gateway.address[1], raw)
    assert (code, reply[:9]) == (250, b"2.0.0 Mes")
    message, entry = stored(db)
    assert message.raw == raw
    assert line in entry.text and entry.text.startswith("Hello,")
    assert acknowledgements(db) == 1


def test_only_a_message_over_the_size_limit_is_refused_with_552(
    db: Database, mail_settings: Settings
) -> None:
    settings = replace(mail_settings, max_message_bytes=20_000)
    with running_gateway(db, settings) as server:
        port = server.address[1]
        fits, _ = corpus.long_line(15_000)
        assert send(port, fits)[0] == 250
        one_line_too_big, _ = corpus.long_line(30_000)
        code, reply = send(port, one_line_too_big)
        assert (code, reply) == (552, b"Error: Too much mail data")
        many_lines_too_big = corpus.oversized(30_000)
        assert send(port, many_lines_too_big)[0] == 552
    with db.session() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 1


@pytest.mark.parametrize("kind", sorted(corpus.automatic_in_the_wild()))
def test_automatic_mail_in_the_wild_is_recorded_but_never_acknowledged(
    gateway: MailServer, db: Database, kind: str
) -> None:
    raw = corpus.automatic_in_the_wild()[kind]
    assert send(gateway.address[1], raw, mail_from="someone@example.com")[0] == 250
    message, entry = stored(db)
    assert message.automatic and entry.data["automatic"] == message.automatic
    assert acknowledgements(db) == 0


def test_a_person_forwarding_a_bounce_is_acknowledged(gateway: MailServer, db: Database) -> None:
    assert send(gateway.address[1], corpus.forwarded_bounce())[0] == 250
    message, _ = stored(db)
    assert message.automatic is None
    assert acknowledgements(db) == 1


def reply_entry(db: Database) -> Entry:
    with db.session() as session:
        return session.scalars(select(Entry).where(Entry.kind == "report")).one()


@pytest.mark.parametrize("history", sorted(corpus.REPLY_HISTORIES))
def test_reply_history_and_signatures_are_hidden_in_many_languages(
    gateway: MailServer, db: Database, history: str
) -> None:
    raw = corpus.reply_with_history(corpus.REPLY_HISTORIES[history])
    assert send(gateway.address[1], raw)[0] == 250
    entry = reply_entry(db)
    # The sign-off stays out as before; every line the person typed above it is shown.
    assert entry.text == corpus.REPLY_NEW_TEXT.removesuffix("\n\nThanks,\nAlex")
    # The whole original is kept on the entry, for the stewards to expand.
    assert (
        entry.full_text == f"{corpus.REPLY_NEW_TEXT}\n\n{corpus.REPLY_HISTORIES[history]}".strip()
    )


def test_a_postscript_below_a_sign_off_is_kept(gateway: MailServer, db: Database) -> None:
    body = "He hit me.\n\nThanks,\nAlex\n\nP.S. He also took my badge at the bar."
    assert send(gateway.address[1], corpus.plain(body=body))[0] == 250
    assert reply_entry(db).text == body


def shows_the_forward_whole(text: str) -> None:
    note, forwarded = text.split("\n\n---------- Forwarded message ----------\n")
    assert note.startswith(corpus.FORWARD_NOTE)
    header = forwarded.split("\n\n", 1)[0]
    assert "Pat Doe <pat@example.com>" in header and "about tomorrow" in header
    assert "From:" in header and "Subject:" in header
    assert ("Date:" in header) or ("Sent:" in header)
    assert forwarded.endswith(corpus.FORWARDED["text"])


@pytest.mark.parametrize("layout", sorted(corpus.FORWARD_LAYOUTS))
def test_a_forwarded_message_is_shown_whole_after_the_note(
    gateway: MailServer, db: Database, layout: str
) -> None:
    assert send(gateway.address[1], corpus.inline_forward(layout))[0] == 250
    shows_the_forward_whole(reply_entry(db).text)
    assert acknowledgements(db) == 1


def test_a_message_forwarded_as_an_attachment_is_shown_whole_and_kept_as_a_file(
    gateway: MailServer, db: Database
) -> None:
    assert send(gateway.address[1], corpus.attached_forward())[0] == 250
    entry = reply_entry(db)
    shows_the_forward_whole(entry.text)
    assert entry.data["attachments"] == ["attachment-1.eml"]


def test_the_full_original_is_reachable_from_the_case(
    gateway: MailServer, db: Database, settings: Settings, tmp_path: Path
) -> None:
    history = corpus.REPLY_HISTORIES["german separator"]
    assert send(gateway.address[1], corpus.reply_with_history(history))[0] == 250
    [entry] = cases_show(settings.database_url, "COC-1", tmp_path)["entries"]
    assert "Ursprüngliche Nachricht" not in entry["text"]
    assert entry["full_text"].endswith(history.strip())
