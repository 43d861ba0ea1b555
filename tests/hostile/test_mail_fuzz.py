"""Property-based fuzzing of conduct@ over real SMTP to the running gateway.

Whatever arrives (random MIME trees, charsets, transfer encodings right and
broken, lines over 1,000 octets, NULs, bare CR and LF, huge and 8-bit headers,
encoded-word abuse, nested attached messages), the gateway answers only 250,
or 552 for a message over the size limit, or 550 for a recipient it does not
serve; nothing is logged as a crash; and an accepted message is kept byte for
byte as it came off the wire. The one change the gateway makes to what it keeps
is documented (`mailgateway/parsing.py`): a bare CR or LF becomes CRLF, and a
bare CR inside a header line a space, so that the evidence cannot grow a header
when it is opened again; a message with CRLF line ends is kept unchanged.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.infra.db import Database
from core.infra.models import InboundMessage
from core.infra.settings import Settings
from mailgateway.parsing import normalise_line_endings
from mailgateway.server import MailServer
from tests.gateway.conftest import running_gateway
from tests.hostile.conftest import LogWatch, examples, watching_logs
from tests.hostile.mime import deeply_nested_rfc822, hostile_message

SIZE_LIMIT = 96 * 1024


@pytest.fixture
def fuzz_settings(mail_settings: Settings) -> Settings:
    """Small limits, so that oversized messages and attachments come up often; storage in
    this process, so that a crash anywhere is seen by the log watch."""
    return replace(
        mail_settings,
        max_message_bytes=SIZE_LIMIT,
        max_attachment_bytes=8 * 1024,
        max_attachments=3,
        mail_storage_process=False,
        ack_rate_per_hour=1_000_000,
    )


@pytest.fixture
def fuzz_gateway(db: Database, fuzz_settings: Settings) -> Iterator[MailServer]:
    with running_gateway(db, fuzz_settings) as server:
        yield server


@pytest.fixture
def logs() -> Iterator[LogWatch]:
    with watching_logs() as watch:
        yield watch


def stuffed(raw: bytes) -> bytes:
    """The DATA section on the wire: dot-stuffed (RFC 5321 4.5.2), nothing else changed.

    smtplib would also rewrite bare CR and LF into CRLF; sending them as they are is
    the point here, so the client writes the bytes itself."""
    assert raw.endswith(b"\r\n")
    body = raw.replace(b"\r\n.", b"\r\n..")
    return (b"." + body if body.startswith(b".") else body) + b".\r\n"


def send_exact(port: int, raw: bytes, rcpt: str = "conduct@example.org") -> tuple[int, bytes]:
    """One SMTP conversation delivering exactly `raw`; the last (code, text) answered."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        code, text = client.mail("alex@example.net", ["BODY=8BITMIME"])
        assert code == 250, (code, text)
        code, text = client.rcpt(rcpt)
        if code != 250:
            return code, text
        code, text = client.docmd("DATA")
        assert code == 354, (code, text)
        client.send(stuffed(raw))
        return client.getreply()


def newest_raw(db: Database) -> tuple[int, bytes | None]:
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(InboundMessage)) or 0
        newest = session.scalars(
            select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1)
        ).first()
        return count, newest.raw if newest else None


def delivered_as_promised(gateway: MailServer, db: Database, logs: LogWatch, raw: bytes) -> None:
    """The property every message must have, whatever it holds."""
    before, _ = newest_raw(db)
    logs.clear()
    code, text = send_exact(gateway.address[1], raw)
    after, kept = newest_raw(db)
    assert not logs.crashes(), logs.crashes()
    if len(stuffed(raw)) - 3 > SIZE_LIMIT:
        assert (code, text) == (552, b"Error: Too much mail data")
        assert after == before
        return
    assert code == 250, (code, text, len(raw))
    assert text == b"2.0.0 Message accepted for the conduct team"
    assert after == before + 1 and kept == normalise_line_endings(raw)
    if b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b""):
        assert kept == raw


@examples(60)
@given(data=st.data())
def test_any_message_is_accepted_or_refused_cleanly_and_kept_byte_for_byte(
    fuzz_gateway: MailServer, db: Database, logs: LogWatch, data: st.DataObject
) -> None:
    raw = data.draw(hostile_message(uuid.uuid4().hex))
    delivered_as_promised(fuzz_gateway, db, logs, raw)


@examples(10)
@given(
    rcpt=st.sampled_from(
        [
            "someone@elsewhere.example",
            "conduct@elsewhere.example",
            "conduct@example.org.elsewhere.example",
            "conduct-x@example.org",
            "postmaster@example.org",
            '"conduct@example.org"@elsewhere.example',
            "conduct%elsewhere.example@example.org",
        ]
    )
)
def test_any_recipient_but_ours_gets_550_and_nothing_is_stored(
    fuzz_gateway: MailServer, db: Database, logs: LogWatch, rcpt: str
) -> None:
    """The gateway is no relay: an outside address (or our domain's lookalikes) is refused
    at RCPT, so no DATA is taken and nothing is stored."""
    before, _ = newest_raw(db)
    code, text = send_exact(fuzz_gateway.address[1], b"Subject: relay me\r\n\r\nhi\r\n", rcpt)
    assert (code, text) == (
        550,
        b"5.1.1 Recipient address rejected: this server only accepts mail for the conduct team",
    ), rcpt
    assert newest_raw(db)[0] == before
    assert not logs.crashes()


def test_a_source_route_is_refused_as_malformed(
    fuzz_gateway: MailServer, db: Database, logs: LogWatch
) -> None:
    """RFC 5321's obsolete source route (`@relay:user@domain`) is refused by aiosmtpd's
    syntax check before Steward sees it: permanently, and nothing is stored."""
    route = "@elsewhere.example:conduct@example.org"
    code, text = send_exact(fuzz_gateway.address[1], b"Subject: route\r\n\r\nhi\r\n", route)
    assert (code, text) == (553, b"5.1.3 Error: malformed address")
    assert newest_raw(db)[0] == 0
    assert not logs.crashes()


NASTY = {
    "nested message/rfc822, 200 deep": deeply_nested_rfc822(200),
    "zero-length parts": (
        b"Subject: empty parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\n\r\n\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n\r\n--b--\r\n"
    ),
    "boundary never used": (
        b"Subject: lost boundary\r\nContent-Type: multipart/mixed; boundary=nope\r\n\r\n"
        b"--other\r\ntext\r\n--other--\r\n"
    ),
    "multipart without a boundary": (
        b"Subject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\n--\r\nhello\r\n"
    ),
    "NUL bytes everywhere": b"Subject: a\x00b\r\nX-\x00: \x00\r\n\r\nbody\x00with\x00nuls\r\n",
    "a 60 KB header": b"Subject: " + b"h" * 60_000 + b"\r\n\r\nbody\r\n",
    "10,000 folded header lines": b"References: " + b"\r\n <a@b>" * 10_000 + b"\r\n\r\nx\r\n",
    "non-UTF-8 header bytes": (
        b"From: J\xf6rg <j\xf6rg@example.net>\r\nSubject: \xff\xfe\r\n\r\nx\r\n"
    ),
    "encoded words over an unknown charset": (
        b"Subject: =?x-klingon?B?AAAA?= =?utf-8?Q?=FF=FE?= =?utf-8?B?####?=\r\n\r\nx\r\n"
    ),
    "a 20,000-octet line": b"Subject: long\r\n\r\n" + b"y" * 20_000 + b"\r\n",
    "only headers, no body": b"Subject: headers only\r\n",
    "no headers at all": b"\r\njust a body\r\n",
    "header without colon": b"This is not a header\r\nSubject: x\r\n\r\nbody\r\n",
    "over the size limit": b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 100,
}


@pytest.mark.parametrize("raw", NASTY.values(), ids=list(NASTY))
def test_known_nasty_messages(
    fuzz_gateway: MailServer, db: Database, logs: LogWatch, raw: bytes
) -> None:
    delivered_as_promised(fuzz_gateway, db, logs, raw)
