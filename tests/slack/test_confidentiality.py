"""Confidentiality: report words, reporter identities and addresses stay out of logs,
the staff channel, and mail to anyone not on the case."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from core.infra.logs import JsonFormatter
from core.infra.models import Entry
from mailgateway.server import MailServer
from slackapp.app import log_failure
from tests.mail import corpus
from tests.slack.conftest import Stack, eventually
from tests.smtp_helpers import send

SECRET_WORDS = "the purple umbrella incident"


def test_nothing_personal_reaches_the_logs(
    stack: Stack, gateway_for: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack.report(what=f"Report about {SECRET_WORDS}.", anonymous=True)
    raw = corpus.plain(
        from_addr="Casey Quill <casey.quill@example.net>",
        subject=f"About {SECRET_WORDS}",
        body=f"Details of {SECRET_WORDS}.",
    )
    assert send(gateway_for.address[1], raw, mail_from="casey.quill@example.net")[0] == 250
    stack.drain()
    # Evidence files: a file in a direct message, and one over the size limit.
    stack.slack.settings = replace(stack.slack.settings, max_attachment_bytes=400)
    for name, size in ((f"{SECRET_WORDS}.png", 300), (f"{SECRET_WORDS} video.mov", 500)):
        stack.emulator.upload(
            "U_ALEX",
            name,
            content="x" * size,
            channel=stack.emulator.bot_user_id,
            text=SECRET_WORDS,
        )

    def messages() -> int:
        with stack.db.session() as session:
            return session.scalar(
                select(func.count()).select_from(Entry).where(Entry.kind == "reporter_message")
            )

    assert eventually(lambda: messages() == 2)
    stack.drain()
    # A storage failure is logged too, and must not carry the message either.
    with stack.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE inbound_messages RENAME TO inbound_messages_away"))
    try:
        assert send(gateway_for.address[1], raw.replace(b"About", b"Again"))[0] == 451
    finally:
        with stack.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE inbound_messages_away RENAME TO inbound_messages"))
    # Each line as the service writes it: the message, its reference fields and any traceback.
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert logged, "the run should have logged something"
    for secret in (SECRET_WORDS, "casey.quill", "Casey Quill", "U_ALEX", "alex@example"):
        assert secret not in logged, secret
    staff = json.dumps(stack.staff_messages())
    for secret in (SECRET_WORDS, "casey.quill", "Casey", "U_ALEX"):
        assert secret not in staff, secret


def test_a_failing_listener_is_logged_without_what_the_person_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bolt's own error handler would log the exception's message, which can quote a
    form value; Steward's logs the kind and the place only."""
    caplog.set_level(logging.DEBUG)
    try:
        int(SECRET_WORDS)
    except ValueError as exc:
        log_failure(exc)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is None
    assert record.getMessage().startswith("a Slack listener failed (ValueError at ")
    assert "test_confidentiality.py:" in record.getMessage()
    assert SECRET_WORDS not in caplog.text
