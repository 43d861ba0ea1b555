"""RFC 3834 acknowledgements, outbound safety, and the outbox's retries, over real SMTP."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from core.casework import cases as case_service
from core.casework.correspondence import NotOnRecord, queue_email
from core.infra.db import Database
from core.infra.models import OutboxItem
from core.infra.outbox import OutboxWorker
from core.infra.ports import OutboundItem, TransientDeliveryError
from core.infra.settings import Settings
from mailgateway.outbound import EmailDeliverer, SMTPTransport, build_message
from mailgateway.server import MailServer
from steward import runtime
from tests.gateway.conftest import running_gateway
from tests.mail import corpus
from tests.smtp_helpers import Sink, send


def delivered(sink: Sink) -> list[EmailMessage]:
    return [message_from_bytes(m.data, policy=policy.default) for m in sink.messages]  # type: ignore[misc]


def test_a_person_gets_one_acknowledgement_with_rfc3834_headers(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    raw = corpus.plain(
        from_addr="Alex <alex@example.net>", subject="Report", message_id="<first@example.net>"
    )
    assert send(gateway.address[1], raw, mail_from="bounces+alex@example.net")[0] == 250
    worker.run_once()
    [ack] = delivered(sink)
    assert sink.messages[0].rcpt_tos == ["bounces+alex@example.net"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Steward-Loop"] == "example.org"
    assert ack["In-Reply-To"] == "<first@example.net>"
    assert "<first@example.net>" in ack["References"]
    assert ack["Subject"].startswith("[COC-1] ")
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        token = case.parties[0].reply_token
        code_name = case.code_name
    assert ack["Reply-To"] == f"conduct+{token}@example.org"
    body = ack.get_content()
    assert "COC-1" in body and code_name in body
    assert "30 days" in body and "appeal" in body
    message_id = ack["Message-ID"]
    assert message_id.endswith("@example.org>")
    assert "alex" not in message_id.lower() and "coc" not in message_id.lower()
    # The row remembers what it produced, and is not delivered again.
    with db.session() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).one()
        assert (row.status, row.result_ref) == ("delivered", message_id)
    assert worker.run_once() == 0 and len(sink.messages) == 1


def test_no_acknowledgement_to_an_empty_return_path(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    assert send(gateway.address[1], corpus.plain(), mail_from="")[0] == 250
    worker.run_once()
    assert sink.messages == []
    with db.session() as session:
        assert session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).all() == []


def test_acknowledgements_are_rate_limited_per_sender(
    db: Database, mail_settings: Settings, sink: Sink
) -> None:
    settings = replace(mail_settings, ack_rate_per_hour=2)
    with running_gateway(db, settings) as server:
        for n in range(4):
            raw = corpus.plain(subject=f"report {n}", message_id=f"<r{n}@example.net>")
            assert send(server.address[1], raw)[0] == 250
    runtime.build_outbox_worker(db, settings).run_once()
    assert len(sink.messages) == 2
    with db.session() as session:
        withheld = case_service.get_case(session, "COC-4")
        assert withheld.entries[-1].data.get("reason") == "ack-rate-limit"


def test_mail_only_goes_to_addresses_on_the_record(
    gateway: MailServer, db: Database, mail_settings: Settings
) -> None:
    assert send(gateway.address[1], corpus.plain())[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        with pytest.raises(NotOnRecord) as refused:
            queue_email(
                session,
                mail_settings,
                case,
                case.parties[0],
                "acknowledgement",
                kind="test",
                to="stranger@example.com",
                context={"ack_due": "soon"},
            )
        assert "stranger" not in str(refused.value)


def test_the_deliverer_refuses_a_row_whose_address_left_the_record(
    db: Database, mail_settings: Settings, sink: Sink
) -> None:
    deliverer = EmailDeliverer(mail_settings, lambda case_id, address: False)
    worker = OutboxWorker(db, {"email": deliverer})
    with db.session() as session:
        session.add(
            OutboxItem(
                channel="email",
                kind="test",
                recipient="x@example.net",
                payload={"to": "x@example.net", "message_id": "<m@example.org>"},
            )
        )
    worker.run_once()
    with db.session() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).one()
        assert row.status == "dead"
    assert sink.messages == []


def test_an_outage_delays_mail_but_loses_none_and_keeps_order(
    gateway: MailServer, worker: OutboxWorker, sink: Sink, db: Database
) -> None:
    assert send(gateway.address[1], corpus.plain(message_id="<o1@example.net>"))[0] == 250
    sink.handler.fail_next = 1
    worker.run_once()
    assert sink.messages == []
    with db.session() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).one()
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        row.next_attempt_at = row.created_at  # the backoff has passed
    worker.run_once()
    assert len(sink.messages) == 1
    worker.run_once()
    assert len(sink.messages) == 1


def test_mail_files_are_written_when_no_relay_is_set(
    gateway: MailServer, db: Database, mail_settings: Settings
) -> None:
    assert send(gateway.address[1], corpus.plain())[0] == 250
    settings = replace(mail_settings, outbound_smtp_url=None)
    runtime.build_outbox_worker(db, settings).run_once()
    [path] = list(settings.mail_out_dir.glob("*.eml"))
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "alex@example.net"
    assert message["Subject"].startswith("[COC-1]")


def test_starttls_is_required_away_from_loopback(sink: Sink, mail_settings: Settings) -> None:
    class RemoteLookingTransport(SMTPTransport):
        """The real transport, told the relay is remote (no non-loopback host exists here)."""

        @property
        def loopback(self) -> bool:
            return False

    transport = RemoteLookingTransport(sink.url)
    item = OutboundItem(
        id=1,
        channel="email",
        kind="test",
        case_id=1,
        recipient="alex@example.net",
        payload={
            "to": "alex@example.net",
            "subject": "s",
            "body": "b",
            "message_id": "<x@example.org>",
            "reply_to": "conduct@example.org",
        },
    )
    with pytest.raises(TransientDeliveryError, match="STARTTLS"):
        transport.send(item, build_message(mail_settings, item))
    assert sink.messages == []
    SMTPTransport(sink.url).send(item, build_message(mail_settings, item))
    assert len(sink.messages) == 1
