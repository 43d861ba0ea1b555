"""The record at rest: the database file, its WAL and a PostgreSQL dump hold no report
text, no name and no address after a report by email and one through Slack."""

from __future__ import annotations

import base64
import glob
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from core.infra.auditchain import verify
from core.infra.models import Attachment, Case, Entry
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import send

MAIL_WORDS = "the tangerine lantern affair"
SLACK_WORDS = "the cobalt teacup episode"
SENDER_NAME = "Quentin Marlowe"
SENDER = "quentin.marlowe@example.net"
SLACK_EMAIL = "slack.reporter.zebra@example.org"
ATTACHED_WORDS = "the saffron ledger statement"
ATTACHMENT_NAME = "witness-okonkwo.txt"
SECRETS = (
    MAIL_WORDS,
    SLACK_WORDS,
    ATTACHED_WORDS,
    ATTACHMENT_NAME,
    SENDER_NAME,
    SENDER,
    SLACK_EMAIL,
    "U_ALEX",
)


def forms(secret: str) -> dict[str, bytes]:
    """The bytes a secret would show as: UTF-8, hex (a bytea dump), and base64 at each
    of the three alignments it could have inside a longer encoded value."""
    raw = secret.encode()
    found = {"utf-8": raw, "hex": raw.hex().encode(), "utf-16": secret.encode("utf-16-le")}
    for offset in range(3):
        tail = raw[offset:]
        whole = tail[: len(tail) // 3 * 3]
        found[f"base64+{offset}"] = base64.b64encode(whole)
        found[f"base64url+{offset}"] = base64.urlsafe_b64encode(whole)
    return found


def leaks(blob: bytes) -> list[str]:
    return [
        f"{secret!r} as {form}"
        for secret in SECRETS
        for form, needle in forms(secret).items()
        if needle in blob
    ]


def stored_bytes(stack: Stack) -> dict[str, bytes]:
    """What someone who copied the database would hold: the files, or a dump."""
    url = make_url(stack.settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        files = {path.name: path.read_bytes()}
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            files[wal.name] = wal.read_bytes()
        assert any(name.endswith("-wal") and data for name, data in files.items()), "no WAL"
        return files
    (pg_dump,) = glob.glob("/usr/lib/postgresql/*/bin/pg_dump")[-1:]
    dump = subprocess.run(
        [pg_dump, "--dbname", stack.settings.database_url],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return {"pg_dump": dump}


def test_nothing_readable_at_rest_after_a_mail_and_a_slack_report(
    stack: Stack, gateway_for: MailServer
) -> None:
    stack.report(what=f"Report about {SLACK_WORDS}.", contact="email", email=SLACK_EMAIL)
    message = message_from_bytes(
        corpus.plain(
            from_addr=f"{SENDER_NAME} <{SENDER}>",
            subject=f"About {MAIL_WORDS}",
            body=f"Details of {MAIL_WORDS}, as {SENDER_NAME}.\n",
        ),
        policy=policy.SMTP,
    )
    assert isinstance(message, EmailMessage)
    message.add_attachment(
        f"Notes: {ATTACHED_WORDS}.\n".encode(),
        maintype="text",
        subtype="plain",
        filename=ATTACHMENT_NAME,
    )
    assert send(gateway_for.address[1], message.as_bytes(), mail_from=SENDER)[0] == 250
    stack.drain()
    with stack.db.session() as session:
        texts = session.scalars(select(Entry.text)).all()
        code_names = session.scalars(select(Case.code_name)).all()
        assert session.scalars(select(Attachment.original_filename)).all() == [ATTACHMENT_NAME]
    assert any(MAIL_WORDS in t for t in texts) and any(SLACK_WORDS in t for t in texts)
    stored = stored_bytes(stack)
    # The scan reads the real record: what is meant to be plain (code names) is found.
    assert len(code_names) == 2
    assert all(any(n.encode() in blob for blob in stored.values()) for n in code_names)
    for name, blob in stored.items():
        assert leaks(blob) == [], name
    with stack.db.engine.connect() as conn:
        checked, broken = verify(conn)
    assert checked > 10 and broken == []
