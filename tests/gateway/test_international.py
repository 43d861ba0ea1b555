"""Acknowledgements to internationalised addresses (RFC 6531 SMTPUTF8), over real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.infra.db import Database
from core.infra.models import AuditEvent, OutboxItem
from core.infra.settings import Settings
from mailgateway.server import MailServer
from steward import runtime
from tests.conftest import free_port
from tests.mail import corpus
from tests.smtp_helpers import Sink, send

REPORTER = "jdöe@mächine.example"


class AsciiOnlySink(Sink):
    """A relay that does not advertise SMTPUTF8 (RFC 6531), as many still do not."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=port, decode_data=False, enable_SMTPUTF8=False
        )


@pytest.fixture
def ascii_sink() -> Iterator[Sink]:
    with AsciiOnlySink(free_port()) as running:
        yield running


def report_from_the_international_address(gateway: MailServer) -> None:
    raw = corpus.plain(from_addr=f"J. Döe <{REPORTER}>", subject="Bericht")
    code, _ = send(gateway.address[1], raw, mail_from=REPORTER, options=["SMTPUTF8"])
    assert code == 250


def test_the_acknowledgement_goes_out_over_smtputf8_with_the_address_intact(
    gateway: MailServer, db: Database, mail_settings: Settings, sink: Sink
) -> None:
    report_from_the_international_address(gateway)
    runtime.build_outbox_worker(db, mail_settings).run_once()
    [caught] = sink.messages
    assert caught.rcpt_tos == [REPORTER]
    head = caught.data.split(b"\r\n\r\n", 1)[0].decode("utf-8").split("\r\n")
    assert f"To: {REPORTER}" in head  # UTF-8 as RFC 6532 says: no encoded words
    assert not [line for line in head if line.startswith("To:") and "=?" in line]


def test_the_acknowledgement_file_keeps_the_address_in_utf8(
    gateway: MailServer, db: Database, mail_settings: Settings
) -> None:
    report_from_the_international_address(gateway)
    settings = replace(mail_settings, outbound_smtp_url=None)
    runtime.build_outbox_worker(db, settings).run_once()
    [written] = list(settings.mail_out_dir.glob("*.eml"))
    assert f"To: {REPORTER}\n" in written.read_bytes().decode("utf-8").replace("\r\n", "\n")


def test_a_relay_without_smtputf8_gets_a_clear_audited_failure(
    gateway: MailServer, db: Database, mail_settings: Settings, ascii_sink: Sink
) -> None:
    report_from_the_international_address(gateway)
    settings = replace(mail_settings, outbound_smtp_url=ascii_sink.url)
    runtime.build_outbox_worker(db, settings).run_once()
    assert ascii_sink.messages == []
    with db.session() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).one()
        assert row.status == "dead"
        assert row.last_error == (
            "the relay does not offer SMTPUTF8, which the recipient's internationalised "
            "address needs (RFC 6531)"
        )
        events = session.scalars(select(AuditEvent.action)).all()
    assert "outbox.dead" in events
