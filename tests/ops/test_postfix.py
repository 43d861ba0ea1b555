"""Debian's Postfix relays conduct@ and conduct+token@ to the gateway, configured with the
README's example: a transport map, relay recipients, TLS from the sender.

The test runs a Postfix instance of its own (its own config_directory, queue and
data directory in a temporary directory, on a free loopback port), as root, as
Postfix requires. The README's milters (OpenDKIM, OpenDMARC) are left out: they
are not installed here.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from core.infra.db import Database
from core.infra.models import Case, Entry, OutboxItem
from core.infra.settings import Settings
from steward import runtime
from tests.conftest import free_port
from tests.followups.conftest import wait_until
from tests.mail import corpus
from tests.ops.readme import config_lines, example

POSTFIX = "/usr/sbin/postfix"
pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(POSTFIX),
        reason="Postfix is not installed (Debian: apt-get install postfix; .ci/run does)",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="a Postfix instance of its own must be started as root"
    ),
]

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """A throwaway Postfix: an existing installation, plus the README's additions."""

    def __init__(self, root: Path, gateway_port: int) -> None:
        self.root = root
        self.etc = root / "etc"
        self.port = free_port()
        self.gateway_port = gateway_port

    def configure(self) -> None:
        self.etc.mkdir()
        (self.root / "queue").mkdir(mode=0o755)
        (self.root / "data").mkdir(mode=0o700)
        shutil.chown(self.root / "data", "postfix")  # Postfix keeps its own state there
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", "/CN=mx.example.org", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        existing = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.root / 'queue'}",
            f"data_directory = {self.root / 'data'}",
            f"maillog_file = {self.root / 'postfix.log'}",
            f"maillog_file_prefixes = {self.root}",
            "myhostname = mx.example.org",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "mydestination =",
            "alias_maps =",
            "alias_database =",
            "local_transport = error:no local delivery here",
            "default_transport = error:this test relays conduct mail only",
            "smtp_tls_security_level = may",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
        ]
        additions = [
            self._here(line, cert, key)
            for line in config_lines("postfix-main.cf")
            if "milter" not in line  # OpenDKIM and OpenDMARC are not installed here
        ]
        (self.etc / "main.cf").write_text("\n".join(existing + additions) + "\n")
        (self.etc / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))
        for name in ("transport", "relay_recipients"):
            lines = [self._here(line, cert, key) for line in config_lines(f"postfix-{name}")]
            (self.etc / name).write_text("\n".join(lines) + "\n")

    def _here(self, line: str, cert: Path, key: Path) -> str:
        """The README's line, pointed at this instance's files and the test's gateway."""
        return (
            line.replace("/etc/postfix/", f"{self.etc}/")
            .replace("/etc/letsencrypt/live/mx.example.org/fullchain.pem", str(cert))
            .replace("/etc/letsencrypt/live/mx.example.org/privkey.pem", str(key))
            .replace("127.0.0.1]:8025", f"127.0.0.1]:{self.gateway_port}")
        )

    def run(self, *command: str) -> None:
        """A command from the README, for this instance (`-c` its config directory)."""
        name, *args = command
        argv = [name, "-c", str(self.etc), *args]
        if name == "postmap":
            argv = [
                name,
                "-c",
                str(self.etc),
                *[a.replace("/etc/postfix/", f"{self.etc}/") for a in args],
            ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert result.returncode == 0, (argv, result.stdout, result.stderr, self.log())

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def postfix_root() -> Iterator[Path]:
    """Postfix checks the ownership and modes of its directories: a root-owned one."""
    root = Path(tempfile.mkdtemp(prefix="steward-postfix-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def send_over_tls(port: int, message: bytes, to: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("sender.example.net")
        assert client.has_extn("starttls")
        client.starttls(context=ssl._create_unverified_context())  # a throwaway certificate
        client.ehlo("sender.example.net")
        client.mail("alex@example.net")
        code, text = client.rcpt(to)
        if code >= 400:
            return code, text
        return client.data(message)


def test_postfix_relays_conduct_mail_to_the_gateway_as_the_readme_says(
    db: Database, settings: Settings, postfix_root: Path
) -> None:
    gateway_settings = replace(settings, smtp_port=free_port(), mail_storage_process=False)
    assert gateway_settings.conduct_address == "conduct@example.org"  # as in the README
    gateway = runtime.build_mail_server(db, gateway_settings)
    gateway.start()
    postfix = Postfix(postfix_root, gateway_settings.smtp_port)
    try:
        postfix.configure()
        commands = [line.split() for line in example("postfix-reload").splitlines() if line]
        assert [c[0] for c in commands] == ["postmap", "postfix"]
        postfix.run("postfix", "start")  # the "existing" Postfix, then the README's commands
        for command in commands:
            postfix.run(*command)

        report = corpus.plain(subject="Comments at the meetup", body="Report sent via Postfix.")
        assert send_over_tls(postfix.port, report, "conduct@example.org")[0] == 250
        case = wait_until(lambda: _only_case(db), timeout=30)
        before = _entries(db, case)

        with db.session() as session:
            ack = session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).one()
            reply_to = ack.payload["reply_to"]
        assert reply_to.startswith("conduct+") and reply_to.endswith("@example.org")
        reply = corpus.plain(subject="Re: Comments at the meetup", body="One more detail.")
        assert send_over_tls(postfix.port, reply, reply_to)[0] == 250
        wait_until(lambda: _entries(db, case) > before, timeout=30)

        code, text = send_over_tls(postfix.port, report, "someone@example.org")
        assert code == 550 and b"Recipient address rejected" in text
        assert _only_case(db) == case  # the reply joined the case; no other case opened
        log = postfix.log()
        assert f"relay=127.0.0.1[127.0.0.1]:{gateway_settings.smtp_port}" in log
        assert log.count("status=sent (250 2.0.0 Message accepted for the conduct team)") == 2
    finally:
        subprocess.run([POSTFIX, "-c", str(postfix.etc), "stop"], capture_output=True)
        gateway.stop()


def _only_case(db: Database) -> int | None:
    with db.session() as session:
        ids = list(session.scalars(select(Case.id)))
    assert len(ids) <= 1, ids
    return ids[0] if ids else None


def _entries(db: Database, case_id: int) -> int:
    with db.session() as session:
        return len(list(session.scalars(select(Entry.id).where(Entry.case_id == case_id))))
