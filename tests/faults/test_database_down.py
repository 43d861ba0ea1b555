"""Database down: PostgreSQL stopped under a running gateway and Slack app.

SMTP answers 451 (the sender's server retries); a report form gets an inline
error and stays open with its answers; nothing is half-written; everything sent
again once the database is back is stored, once. Needs a PostgreSQL server the
test may stop, so it starts a throwaway one (`.ci/postgres.sh`) on a free port.

`/readyz`, on the web port and on the mail gateway's health port, answers 503
within a couple of seconds while the database is down, naming the failed check
and nothing personal, and 200 again once it is back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.infra.db import Database
from core.infra.models import Case, InboundMessage, OutboxItem, Submission
from core.infra.settings import Settings
from slackapp.blocks.report_form import not_stored
from slackapp.emulator import SlackEmulator
from steward import runtime
from tests.conftest import POSTGRES_URL, free_port
from tests.ops.test_health import get
from tests.slack.conftest import emulated, form_values

ROOT = Path(__file__).resolve().parents[2]
BINDIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@dataclass
class Postgres:
    """A throwaway PostgreSQL server that the test may stop and start again."""

    directory: Path
    port: int
    url: str

    def _ctl(self, *args: str) -> None:
        command = [str(BINDIRS[-1] / "pg_ctl"), "-D", str(self.directory / "data"), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory}"
        log = str(self.directory / "server.log")
        self._ctl("-l", log, "-w", "-o", options, "start")


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL only: on SQLite the database is a file inside the process, "
            "with no server to stop"
        )
    if not BINDIRS:
        pytest.skip("no PostgreSQL server binaries to start a throwaway server with")
    directory = Path(tempfile.mkdtemp(prefix="steward-pg-"))
    directory.chmod(0o755)  # the server runs as the postgres user
    port = free_port()
    started = subprocess.run(
        ["bash", ".ci/postgres.sh", str(directory), str(port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    server = Postgres(directory, port, started.stdout.strip().splitlines()[-1])
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def mail(n: int) -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"member{n}@example.net", "conduct@example.org"
    msg["Subject"] = f"Report {n}"
    msg["Message-ID"] = f"<down-{n}@example.net>"
    msg.set_content("Someone kept mocking my accent after I asked them to stop.\n")
    return f"member{n}@example.net", msg.as_bytes()


def send(port: int, n: int) -> int:
    """The SMTP answer to DATA for report `n`."""
    sender, raw = mail(n)
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        try:
            client.sendmail(sender, ["conduct@example.org"], raw)
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code
    return 250


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, InboundMessage, Submission, OutboxItem)
        }


def readyz(base_url: str) -> tuple[int, dict[str, object], float]:
    """`/readyz`'s status and body, and how long it took to answer."""
    started = time.monotonic()
    status, body = get(f"{base_url}/readyz")
    return status, json.loads(body), time.monotonic() - started


def assert_ready(base_urls: list[str]) -> None:
    for base_url in base_urls:
        status, body, _ = readyz(base_url)
        assert (status, body["ready"], body["database"]) == (200, True, "ok"), body


def assert_not_ready_for_the_database(base_urls: list[str]) -> None:
    """503 within a couple of seconds, naming the check, with nothing personal in it."""
    for base_url in base_urls:
        status, body, took = readyz(base_url)
        assert status == 503, body
        assert body == {
            "ready": False,
            "failed": "database",
            "reason": "database unreachable (OperationalError)",
        }
        assert took < 3, f"/readyz took {took:.1f} s with the database down"


def test_with_the_database_down_nothing_is_lost_or_half_written(
    postgres: Postgres, settings: Settings, emulator: SlackEmulator
) -> None:
    db = Database(postgres.url)
    db.upgrade()
    local = replace(
        settings, database_url=postgres.url, smtp_port=free_port(), mail_health_port=free_port()
    )
    full = emulated(local, emulator)
    slack = runtime.build_slack(db, full)
    assert slack is not None
    web = runtime.build_web_server(slack)
    web.start()
    emulator.app_url = web.events_url
    submissions = runtime.build_submission_processor(slack)
    gateway = runtime.build_mail_server(db, full)
    gateway.start()
    # What `steward mail` serves on STEWARD_MAIL_HEALTH_PORT.
    mail_health = runtime.build_health_server(
        runtime.build_health(db, full), full, full.mail_health_port
    )
    mail_health.start()
    probes = [web.base_url, mail_health.base_url]
    try:
        assert send(full.smtp_port, 1) == 250
        view_id = emulator.global_shortcut("U_ALEX", "report_concern")["views"][0]["id"]
        before = counts(db)
        assert_ready(probes)  # the pool now holds connections that are about to die

        postgres.stop()
        assert send(full.smtp_port, 2) == 451
        refused = emulator.submit("U_ALEX", view_id, form_values())
        assert refused["errors"] == not_stored()
        assert not refused["view_closed"]  # the answers are still in the form
        assert_not_ready_for_the_database(probes)

        postgres.start()
        assert_ready(probes)
        assert counts(db) == before  # nothing half-written while it was down
        assert send(full.smtp_port, 2) == 250
        accepted = emulator.submit("U_ALEX", view_id, form_values())
        assert accepted["view_closed"] and not accepted.get("errors")
        submissions.process_pending()
        after = counts(db)
        assert after["cases"] == 3 and after["inbound_messages"] == 2
        assert after["submissions"] == 1
        assert send(full.smtp_port, 2) == 250  # a resend of a stored message: once only
        assert counts(db)["inbound_messages"] == 2
    finally:
        mail_health.stop()
        gateway.stop()
        web.stop()
        submissions.stop()
        db.dispose()
