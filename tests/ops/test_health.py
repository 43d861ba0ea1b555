"""`/healthz`, `/readyz` and `/metrics` on the web port and on the mail gateway's own port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from prometheus_client import REGISTRY

from core.casework.scheduler import DeadlineScheduler
from core.infra import outbox
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.health import Health
from core.infra.models import OutboxItem
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.conftest import free_port
from tests.followups.conftest import open_case, wait_until
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import send
from tests.test_steward_run import wait_for

SECRET = "the violet teapot affair"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_web_port_answers_health_readiness_and_metrics(
    stack: Stack, gateway_for: MailServer
) -> None:
    base = stack.web.base_url
    before = {
        "slack": sample("steward_reports_total", source="slack"),
        "email": sample("steward_reports_total", source="email"),
        "250": sample("steward_smtp_replies_total", code="250"),
        "550": sample("steward_smtp_replies_total", code="550"),
        "acks": sample("steward_slack_ack_seconds_count"),
        "data": sample("steward_smtp_data_seconds_count"),
        "views": sample("steward_slack_api_calls_total", method="views.open"),
    }
    stack.report(what=f"Report about {SECRET}.")
    raw = corpus.plain(from_addr="Dana Quill <dana.quill@example.net>", body=f"About {SECRET}.")
    assert send(gateway_for.address[1], raw, mail_from="dana.quill@example.net")[0] == 250
    refused = send(gateway_for.address[1], raw, to="someone@example.org")
    assert refused[0] == 550

    assert get(f"{base}/healthz") == (200, '{"ok": true}')
    status, body = get(f"{base}/readyz")
    ready = json.loads(body)
    assert status == 200, body
    assert ready["ready"] is True and ready["database"] == "ok"
    assert ready["outbox_backlog"] >= 2  # the staff thread and the acknowledgement, not yet sent
    assert set(ready["outbox_by_channel"]) >= {"staff", "email"}

    status, text = get(f"{base}/metrics")
    assert status == 200
    assert sample("steward_reports_total", source="slack") == before["slack"] + 1
    assert sample("steward_reports_total", source="email") == before["email"] + 1
    assert sample("steward_smtp_replies_total", code="250") > before["250"]
    assert sample("steward_smtp_replies_total", code="550") == before["550"] + 1
    assert sample("steward_slack_ack_seconds_count") >= before["acks"] + 2  # shortcut, submit
    assert sample("steward_smtp_data_seconds_count") == before["data"] + 1
    assert sample("steward_slack_api_calls_total", method="views.open") == before["views"] + 1
    assert 'steward_outbox_backlog{channel="staff"}' in text
    assert 'steward_outbox_oldest_pending_seconds{channel="email"}' in text
    for secret in (SECRET, "dana", "Quill", "U_ALEX", "example.net"):
        assert secret not in text, secret

    stack.drain()
    status, body = get(f"{base}/readyz")
    assert json.loads(body)["outbox_backlog"] == 0


def test_slack_failures_and_429s_are_counted_by_method(stack: Stack) -> None:
    errors = sample("steward_slack_api_errors_total", method="chat.postMessage")
    limited = sample("steward_slack_api_rate_limited_total", method="chat.postMessage")
    stack.emulator.faults("chat.postMessage", status=429, retry_after=1)
    stack.emulator.faults("chat.postMessage", error="internal_error", times=1)
    stack.report()
    stack.worker.run_once()
    with stack.db.session() as session:
        session.query(OutboxItem).update({OutboxItem.next_attempt_at: utcnow()})
    stack.worker.run_once()
    assert sample("steward_slack_api_rate_limited_total", method="chat.postMessage") == limited + 1
    assert sample("steward_slack_api_errors_total", method="chat.postMessage") == errors + 1


def test_deadlines_fired_are_counted_by_kind(db: Database, settings: Settings) -> None:
    short = replace(settings, ack_hours=0.5 / 3600, ack_escalate_hours=1000.0)
    before = sample("steward_deadlines_fired_total", kind="acknowledgement_due")
    open_case(db, short)
    scheduler = DeadlineScheduler(db, short, resync_seconds=0.2)
    scheduler.start()
    try:
        wait_until(
            lambda: sample("steward_deadlines_fired_total", kind="acknowledgement_due") > before
        )
    finally:
        scheduler.stop()
    assert sample("steward_deadlines_fired_total", kind="acknowledgement_due") == before + 1


def test_readiness_fails_on_a_stuck_outbox_a_missing_schema_and_no_database(
    db: Database, tmp_path: Path
) -> None:
    with db.session() as session:
        stuck = outbox.enqueue(session, "email", "ack", {})
        session.flush()
        stuck.created_at = utcnow() - timedelta(hours=2)
    ready, body = Health(db, max_outbox_age=3600).readiness()
    assert not ready and body["failed"] == "outbox"
    assert body["reason"].startswith("the oldest outbox row has waited 72")
    assert body["reason"].endswith("s (limit 3600 s): check Slack and the mail relay")
    assert Health(db, max_outbox_age=0).readiness()[0] is True  # 0: no limit

    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert Health(empty, 3600).readiness() == (
        False,
        {"ready": False, "failed": "schema", "reason": "no schema: run `steward db upgrade`"},
    )
    gone = Database("postgresql://steward@127.0.0.1:1/nowhere")
    assert Health(gone, 3600).readiness() == (
        False,
        {"ready": False, "failed": "database", "reason": "database unreachable (OperationalError)"},
    )
    status, text = get_wsgi(Health(gone, 3600), "/metrics")
    assert status == "200 OK" and "steward_reports_total" in text  # counters still served


def test_readiness_answers_promptly_when_the_database_hangs() -> None:
    """A server that takes the connection and never answers: `/readyz` says so within its
    timeout instead of hanging the probe, and a second probe does not start a second
    hung check."""

    def checks() -> int:
        return sum(t.name == "steward-readiness" for t in threading.enumerate())

    before = checks()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        health = Health(Database(f"postgresql://steward@127.0.0.1:{port}/steward"), 3600)
        health.timeout = 0.5
        for _ in range(2):
            started = time.monotonic()
            assert health.readiness() == (
                False,
                {
                    "ready": False,
                    "failed": "database",
                    "reason": "database did not answer within 0.5 s",
                },
            )
            assert time.monotonic() - started < 3
        assert checks() == before + 1  # the first check, still waiting; none started after it


def get_wsgi(health: Health, path: str) -> tuple[str, str]:
    answer: list[str] = []
    body = health.wsgi()({"PATH_INFO": path}, lambda status, headers: answer.append(status))
    return answer[0], b"".join(body).decode()


def test_the_mail_process_answers_on_its_own_port(tmp_path: Path, database_url: str) -> None:
    """`steward mail` commits in a child process; the reports are counted by the front,
    which serves them."""
    smtp, health = free_port(), free_port()
    env = {
        **os.environ,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_SMTP_PORT": str(smtp),
        "STEWARD_MAIL_HEALTH_PORT": str(health),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_BOT_TOKEN", None)
    subprocess.run([sys.executable, "-m", "steward.cli", "db", "upgrade"], env=env, cwd=tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "steward.cli", "mail"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{health}"
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200)
        assert send(smtp, corpus.plain(body=f"About {SECRET}."))[0] == 250
        status, body = get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["outbox_by_channel"]["email"]["backlog"] == 1
        status, text = get(f"{base}/metrics")
        assert 'steward_reports_total{source="email"} 1.0' in text
        assert 'steward_smtp_replies_total{code="250"}' in text
        assert "steward_smtp_data_seconds_count 1.0" in text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"health: {base}/readyz  metrics: {base}/metrics" in output
