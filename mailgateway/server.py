"""The conduct@ SMTP server (aiosmtpd).

The handler never lets an exception reach aiosmtpd, whose default answer to one
is a permanent 500: a storage failure must be a temporary 451, so the sender's
server keeps the message and tries again.

aiosmtpd refuses any DATA line over 1,000 octets with a permanent
``500 Line too long`` (RFC 5321 4.5.3.1.6). Real mail breaks that limit (Outlook
replies, Gmail bounces, HTML mail), and Postfix accepts it, so the gateway does
too: lines of any length are taken as long as the whole message fits in
``STEWARD_MAX_MESSAGE_BYTES``; only a message over that size is refused (552).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from aiosmtpd.smtp import Session as SMTPSession

from core.infra import metrics
from core.infra.batching import GroupRunner
from core.infra.privacy import silence_below
from core.infra.settings import Settings
from mailgateway.addresses import accepts
from mailgateway.ingest import Envelope, IngestResult, MailIngest
from mailgateway.parsing import ParsedMail
from mailgateway.storage import InProcessStorage, Storage

log = logging.getLogger(__name__)
silence_below("mail.log")  # aiosmtpd logs SMTP lines, addresses and message text

ACCEPTED = "250 2.0.0 Message accepted for the conduct team"
NOT_HERE = (
    "550 5.1.1 Recipient address rejected: this server only accepts mail for the conduct team"
)
TRY_LATER = "451 4.3.0 Temporary local problem, please try again later"
TOO_BIG = "552 Error: Too much mail data"  # aiosmtpd's answer to an oversized message
# aiosmtpd's own answer to a line longer than its reader's limit.
_LINE_TOO_LONG = "500 Line too long"
# CRLF and a transparency dot come on top of a line's text (RFC 5321 4.5.2).
_LINE_OVERHEAD = 3
INLINE_PARSE_BYTES = 256 * 1024


class ConductHandler:
    """aiosmtpd handler: checks recipients, then stores each message before saying 250."""

    def __init__(self, ingest: MailIngest, settings: Settings, storage: Storage) -> None:
        self.ingest = ingest
        self.settings = settings
        self.storage = storage
        # Messages from several SMTP conversations that arrive together are committed
        # together, off the event loop: one transaction for the group.
        self.commits: GroupRunner[tuple[ParsedMail, Envelope], IngestResult] = GroupRunner(
            storage.store_many, name="ingest"
        )
        # Told after each stored message: `steward run` wakes its outbox worker with it, so a
        # new case reaches its Slack thread without waiting for the worker's next poll.
        self.stored: Callable[[], None] = _nothing

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SMTPSession,
        envelope: SMTPEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not accepts(self.settings, address):
            return NOT_HERE
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: SMTPEnvelope) -> str:
        with metrics.timed(metrics.SMTP_DATA_SECONDS):
            return await self._store(envelope)

    async def _store(self, envelope: SMTPEnvelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mail = Envelope(mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos))
        try:
            parsed = await self._parse(raw, mail)
            result = await asyncio.wrap_future(self.commits.submit((parsed, mail)))
        except Exception as exc:  # noqa: BLE001 - any failure must become a 451
            log.error("could not store an incoming message (%s); answered 451", type(exc).__name__)
            return TRY_LATER
        if result.new_case:
            metrics.REPORTS.labels(source="email").inc()
        self.stored()
        return ACCEPTED

    async def _parse(self, raw: bytes, mail: Envelope) -> ParsedMail:
        """Parse on the event loop (cheaper than a thread hop); big messages in a thread,
        so one large upload does not hold up every other SMTP conversation."""
        if len(raw) <= INLINE_PARSE_BYTES:
            return self.ingest.parse(raw, mail)
        return await asyncio.get_running_loop().run_in_executor(None, self.ingest.parse, raw, mail)

    def close(self) -> None:
        self.commits.close()
        self.storage.close()


class ConductSMTP(SMTP):
    """aiosmtpd's SMTP session, taking DATA lines of any length within the size limit,
    and counting its replies by code (`steward_smtp_replies_total`).

    aiosmtpd reads through an asyncio StreamReader whose limit is the class's
    ``line_length_limit`` (1,001 octets); the reader only grows with the data that
    really arrives, so raising that limit to the message size limit costs nothing
    for ordinary mail. A line longer than that can only belong to a message over
    the size limit, so aiosmtpd's "500 Line too long" is answered as the 552 a
    message over the size limit gets (RFC 5321 4.5.3.1.10 and RFC 1870).
    """

    def __init__(self, handler: Any, *, data_size_limit: int, **kwargs: Any) -> None:
        self.line_length_limit = data_size_limit + _LINE_OVERHEAD
        super().__init__(handler, data_size_limit=data_size_limit, **kwargs)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith(_LINE_TOO_LONG):
            status = TOO_BIG
        # Every reply is counted by its code, never its text.
        code = status[:3]
        metrics.SMTP_REPLIES.labels(code=code.decode() if isinstance(code, bytes) else code).inc()
        await super().push(status)


class ConductController(Controller):
    """aiosmtpd's Controller, serving ConductSMTP sessions."""

    def factory(self) -> SMTP:
        return ConductSMTP(self.handler, **self.SMTP_kwargs)


class MailServer:
    """The gateway's SMTP listener, in its own thread, with size limits and SMTPUTF8."""

    def __init__(
        self,
        ingest: MailIngest,
        settings: Settings,
        host: str,
        port: int,
        storage: Storage | None = None,
    ) -> None:
        self.handler = ConductHandler(ingest, settings, storage or InProcessStorage(ingest))
        self.controller = ConductController(
            self.handler,
            hostname=host,
            port=port,
            ready_timeout=10,
            **_server_kwargs(settings),
        )

    @property
    def address(self) -> tuple[str, int]:
        server = self.controller.server
        sockets: Any = server.sockets if server else []
        host, port = sockets[0].getsockname()[:2] if sockets else (self.controller.hostname, 0)
        return host, port

    def start(self) -> None:
        self.handler.storage.start()
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
        self.handler.close()


def _nothing() -> None:
    return None


def _server_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "data_size_limit": settings.max_message_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "ident": "Steward conduct desk",
    }
