"""Outbound mail: turns an email outbox row into a message and sends it.

With no `STEWARD_OUTBOUND_SMTP_URL`, messages are written as `.eml` files to
`./mail-out/`, so a new user can read exactly what a reporter would receive.

An internationalised address (``jdöe@mächine.example``) cannot be written with
RFC 2047 encoded words, which are for display names and subjects only: such
mail is sent with SMTPUTF8 (RFC 6531), its headers in UTF-8. A relay that does
not offer SMTPUTF8 cannot carry it at all, so that is a permanent failure with
a clear reason (recorded on the outbox row and in the audit trail), never a
mangled address.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.infra.ports import OutboundItem, PermanentDeliveryError, TransientDeliveryError
from core.infra.settings import Settings

log = logging.getLogger(__name__)

LOOP_HEADER = "X-Steward-Loop"
NO_SMTPUTF8 = (
    "the relay does not offer SMTPUTF8, which the recipient's internationalised "
    "address needs (RFC 6531)"
)

# Checks, at the moment of sending, that the address is on the case record.
RecipientGuard = Callable[[int | None, str], bool]


def international(address: str) -> bool:
    """An address that only SMTPUTF8 can carry (non-ASCII local part or domain)."""
    return not address.isascii()


def build_message(settings: Settings, item: OutboundItem) -> EmailMessage:
    """The MIME message for a queued email; headers follow RFC 3834 for automatic replies.

    For an internationalised recipient the message uses the SMTPUTF8 policy, so
    the address is written as UTF-8, as RFC 6532 requires, in files and on the wire.
    """
    payload = item.payload
    utf8 = international(payload.get("to", ""))
    message = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.default)
    message["From"] = formataddr(("Conduct team", settings.conduct_address))
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = payload["message_id"]
    if payload.get("in_reply_to"):
        message["In-Reply-To"] = payload["in_reply_to"]
    if payload.get("references"):
        message["References"] = " ".join(payload["references"])
    message["Reply-To"] = payload["reply_to"]
    message["Auto-Submitted"] = "auto-replied" if payload.get("automatic") else "auto-generated"
    message[LOOP_HEADER] = settings.conduct_domain
    message.set_content(payload["body"], cte="quoted-printable")
    return message


class EmailDeliverer:
    """Delivers email outbox rows, to an SMTP relay or to `.eml` files."""

    def __init__(self, settings: Settings, on_record: RecipientGuard) -> None:
        self.settings = settings
        self.on_record = on_record
        self.transport = (
            SMTPTransport(settings.outbound_smtp_url)
            if settings.outbound_smtp_url
            else FileTransport(settings.mail_out_dir)
        )

    def deliver(self, item: OutboundItem) -> str:
        recipient = item.payload.get("to", "")
        if recipient != item.recipient or not self.on_record(item.case_id, recipient):
            raise PermanentDeliveryError("recipient is not on the case record")
        message = build_message(self.settings, item)
        self.transport.send(item, message)
        return item.payload["message_id"]


class FileTransport:
    """Writes each message to a file named after its outbox row, so a retry overwrites."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, item: OutboundItem, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        ref = item.payload.get("case_ref", "mail")
        path = self.directory / f"{item.id:08d}-{ref}-{item.kind}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)


class SMTPTransport:
    """Sends through a relay; STARTTLS is required except on loopback."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("STEWARD_OUTBOUND_SMTP_URL must start with smtp:// or smtps://")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(socket.gethostbyname(self.host)).is_loopback
        except (OSError, ValueError):
            return False

    def send(self, item: OutboundItem, message: EmailMessage) -> None:
        try:
            with self._connect() as client:
                client.send_message(message, to_addrs=[item.payload["to"]])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentDeliveryError("the relay refused the recipient") from None
            raise TransientDeliveryError("the relay deferred the recipient") from None
        except smtplib.SMTPNotSupportedError:
            # smtplib asks for SMTPUTF8 when an address needs it, and refuses to send
            # (rather than mangle the address) when the relay does not offer it.
            raise PermanentDeliveryError(NO_SMTPUTF8) from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentDeliveryError(f"the relay refused: {exc.smtp_code}") from None
            raise TransientDeliveryError(f"the relay deferred: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientDeliveryError(f"relay unavailable: {type(exc).__name__}") from None

    def probe(self) -> bool:
        """Connect, secure and log in exactly as a delivery would, then hang up.

        Returns whether the connection was encrypted; raises what a delivery would."""
        with self._connect() as client:
            return isinstance(client.sock, ssl.SSLSocket)

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=30, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=30)
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif not self.loopback:
                client.close()
                raise TransientDeliveryError("the relay does not offer STARTTLS")
        if self.username:
            client.login(self.username, self.password or "")
        return client
