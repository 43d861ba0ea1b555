"""Security of conduct@: mail loops with auto-responders, oversized attachments, zip bombs.

Covered elsewhere, and complete there:
- a `[COC-n]` subject tag sent by a stranger's address opens a new case, flagged, and
  the stranger hears nothing of the tagged one: `tests/gateway/test_threading.py::
  test_a_subject_tag_counts_only_from_someone_on_the_case`;
- relaying to an outside address is refused with 550 and nothing stored:
  `tests/gateway/test_intake.py::test_other_recipients_are_refused_as_no_relay` and
  `tests/hostile/test_mail_fuzz.py::test_any_recipient_but_ours_gets_550_and_nothing_is_stored`.
"""

from __future__ import annotations

import hashlib
import io
import smtplib
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.db import Database
from core.infra.models import Attachment, InboundMessage
from core.infra.settings import Settings
from mailgateway.server import MailServer
from steward import runtime
from tests.conftest import free_port
from tests.gateway.conftest import running_gateway
from tests.mail import corpus
from tests.smtp_helpers import Sink, send

# -- an auto-responder that answers every mail ------------------------------------------


@dataclass
class AutoResponder:
    """A real SMTP peer: it takes Steward's mail, and answers each one back to conduct@
    over SMTP at once, as a vacation responder or a misconfigured ticket system does."""

    gateway_port: int
    style: str
    received: list[bytes] = field(default_factory=list)
    replies: list[threading.Thread] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        reply = threading.Thread(target=self._answer, args=(envelope.original_content,))
        self.replies.append(reply)
        reply.start()
        return "250 OK"

    def _answer(self, raw: bytes) -> None:
        incoming = message_from_bytes(raw, policy=policy.default)
        answer = EmailMessage()
        answer["From"] = "alex@example.net"
        answer["Subject"] = "Thanks for your message"
        answer["Message-ID"] = corpus.new_message_id()
        to = "conduct@example.org"
        if self.style == "auto-reply headers":
            to = parseaddr(str(incoming["Reply-To"] or incoming["From"]))[1]
            answer["To"] = to
            answer.replace_header("Subject", "Automatic reply: " + str(incoming["Subject"]))
            answer["Auto-Submitted"] = "auto-replied"
            answer["X-Autoreply"] = "yes"
            answer["Precedence"] = "auto_reply"
        elif self.style == "our loop header copied back":
            answer["To"] = to
            answer["X-Steward-Loop"] = str(incoming["X-Steward-Loop"])
        else:  # "a reply to our message, and nothing else"
            answer["To"] = to
            answer["In-Reply-To"] = str(incoming["Message-ID"])
            answer["References"] = str(incoming["Message-ID"])
        answer.set_content("I received your message and will read it when I can.")
        with smtplib.SMTP("127.0.0.1", self.gateway_port, timeout=30) as client:
            client.sendmail("alex@example.net", [to], answer.as_bytes(policy=policy.SMTP))

    def settle(self) -> None:
        for reply in list(self.replies):
            reply.join(timeout=30)


@pytest.mark.parametrize(
    "style",
    [
        "auto-reply headers",
        "our loop header copied back",
        "a reply to our message, and nothing else",
    ],
)
def test_an_auto_responder_gets_at_most_one_acknowledgement(
    db: Database, settings: Settings, style: str
) -> None:
    gateway_port = free_port()
    peer = AutoResponder(gateway_port, style)
    controller = Controller(peer, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        loop_settings = replace(
            settings,
            smtp_port=gateway_port,
            outbound_smtp_url=f"smtp://127.0.0.1:{controller.port}",
            mail_storage_process=False,
        )
        worker = runtime.build_outbox_worker(db, loop_settings)
        with running_gateway(db, loop_settings) as gateway:
            report = corpus.plain(subject="Harassment at the meetup", body="He followed me.")
            assert send(gateway.address[1], report)[0] == 250
            for _ in range(6):  # as many rounds as a loop would need to show itself
                worker.run_once()
                peer.settle()
                time.sleep(0.05)
    finally:
        controller.stop()
    assert len(peer.received) == 1, [m[:200] for m in peer.received]
    ack = message_from_bytes(peer.received[0], policy=policy.default)
    assert ack["Auto-Submitted"] == "auto-replied" and ack["X-Steward-Loop"]
    with db.session() as session:
        report, answer = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
    # The answer is kept as evidence, and answered by nobody: recognised as automatic
    # mail, or (with no sign of a machine) threaded into the case as a reply, which
    # gets no acknowledgement either.
    assert report.case_id == 1 and report.automatic is None
    if style == "a reply to our message, and nothing else":
        assert answer.case_id == 1
    else:
        assert answer.automatic


# -- oversized attachments and zip bombs -------------------------------------------------

ATTACHMENT_LIMIT = 64 * 1024


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def bomb() -> bytes:
    """About 20 KB that expands to 20 MB: nothing may ever open it."""
    return zip_of({"zeros.bin": bytes(20 * 1024 * 1024)})


@pytest.fixture
def limited(mail_settings: Settings) -> Settings:
    return replace(mail_settings, max_attachment_bytes=ATTACHMENT_LIMIT, max_attachments=5)


@pytest.fixture
def limited_gateway(db: Database, limited: Settings) -> Iterator[MailServer]:
    with running_gateway(db, limited) as server:
        yield server


def with_attachments(files: list[tuple[str, str, bytes]]) -> bytes:
    message = EmailMessage()
    message["From"] = "alex@example.net"
    message["To"] = "conduct@example.org"
    message["Subject"] = "Evidence attached"
    message["Message-ID"] = corpus.new_message_id()
    message.set_content("The files are attached.")
    for name, content_type, content in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=policy.SMTP)


def test_an_oversized_attachment_is_refused_with_its_reason_and_the_rest_kept(
    limited_gateway: MailServer, db: Database, limited: Settings, sink: Sink
) -> None:
    small = b"what they wrote, saved as text\n"
    big = bytes(range(256)) * (ATTACHMENT_LIMIT // 256 + 8)
    raw = with_attachments(
        [
            ("notes.txt", "text/plain", small),
            ("recording.bin", "application/octet-stream", big),
        ]
    )
    assert send(limited_gateway.address[1], raw)[0] == 250
    with db.session() as session:
        kept = list(session.scalars(select(Attachment)))
        case = case_service.get_case(session, "COC-1")
        [stored] = list(session.scalars(select(InboundMessage)))
        notes = [e.text for e in case.entries if e.kind == "system"]
        assert [(a.original_filename, a.content) for a in kept] == [("notes.txt", small)]
        assert notes == [
            "Some attachments were not stored:\n"
            f"- recording.bin (application/octet-stream, {len(big)} bytes): too_large"
        ]
        # The refused file is still in the raw message, kept whole as evidence.
        assert stored.raw == raw
    # The sender is told, in the acknowledgement, which file was not kept and why.
    runtime.build_outbox_worker(db, limited).run_once()
    [ack] = sink.messages
    body = message_from_bytes(ack.data, policy=policy.default).get_body().get_content()
    body = body.replace("\r\n", "\n")
    assert (
        "can read it.\n\nSome of the files you attached were not kept:\n"
        "- recording.bin: not kept, because it is larger than the limit of 64 KB.\n"
    ) in body


def test_zip_bombs_and_nested_archives_are_stored_as_they_came_never_expanded(
    limited_gateway: MailServer, db: Database, bomb: bytes
) -> None:
    nested = zip_of({"inner.zip": zip_of({"bomb.zip": bomb}), "readme.txt": b"open me"})
    assert len(bomb) < ATTACHMENT_LIMIT and len(nested) < ATTACHMENT_LIMIT
    raw = with_attachments(
        [("bomb.zip", "application/zip", bomb), ("nested.zip", "application/zip", nested)]
    )
    started = time.monotonic()
    assert send(limited_gateway.address[1], raw)[0] == 250
    assert time.monotonic() - started < 10  # 20 MB was never inflated
    with db.session() as session:
        kept = list(session.scalars(select(Attachment).order_by(Attachment.id)))
        assert [(a.original_filename, a.size, a.content) for a in kept] == [
            ("bomb.zip", len(bomb), bomb),
            ("nested.zip", len(nested), nested),
        ]
        assert [a.sha256 for a in kept] == [
            hashlib.sha256(bomb).hexdigest(),
            hashlib.sha256(nested).hexdigest(),
        ]
        case = case_service.get_case(session, "COC-1")
        assert [e.kind for e in case.entries] == ["report"]  # nothing refused or unpacked
