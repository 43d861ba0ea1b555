"""`steward web --socket-mode`, end to end: the real command, connected to the emulator's
Socket Mode, runs the same flows as over HTTP.

The emulator has no app URL at all here, so nothing can reach Steward by signed HTTP:
every shortcut, submission, click and event below crosses the WebSocket, and the
emulator records each delivery's transport.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.casework import cases as case_service
from core.infra.db import Database
from core.infra.settings import Settings
from slackapp.emulator import SlackEmulator
from steward import runtime
from tests.conftest import TEST_KEY, free_port
from tests.slack.conftest import Stack, eventually, form_values
from tests.slack.test_confidentiality import SECRET_WORDS
from tests.slack.test_doctor import doctor

REPORT = "They mocked my accent in #general after I asked them to stop."
DM_TEXT = "It happened again today, in the meetup channel."


def steward_web(tmp_path: Path, database_url: str, **env: str) -> subprocess.Popen[str]:
    """`steward web --socket-mode` as an operator starts it, with only the settings it needs."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STEWARD_"))}
    environ.update(
        {
            "STEWARD_DATABASE_URL": database_url,
            "STEWARD_ENCRYPTION_KEY": TEST_KEY,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
    )
    environ.setdefault("STEWARD_WEB_PORT", str(free_port()))  # the health routes listen there
    return subprocess.Popen(
        [sys.executable, "-m", "steward.cli", "web", "--socket-mode"],
        env=environ,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def slack_env(emulator: SlackEmulator, app_token: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_APP_TOKEN": app_token,
        "SLACK_API_URL": emulator.api_url,
        "STEWARD_STAFF_CHANNEL": "G_STAFF",
        "STEWARD_ESCALATION_CHANNEL": "G_ESCALATE",
    }


@pytest.fixture
def connected(
    tmp_path: Path, database_url: str, db: Database
) -> Iterator[tuple[SlackEmulator, subprocess.Popen[str]]]:
    with SlackEmulator() as emulator:
        process = steward_web(tmp_path, database_url, **slack_env(emulator, emulator.app_token))
        try:
            deadline = time.monotonic() + 30
            while emulator.state()["socket_mode"]["connections"] < 1:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "steward web never connected"
                time.sleep(0.05)
            yield emulator, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)


def worker_for(emulator: SlackEmulator, db: Database, settings: Settings) -> Any:
    """The outbox worker (a separate process in production) posting to the emulator."""
    full = settings.with_overrides(
        slack_bot_token=emulator.bot_token,
        slack_api_url=emulator.api_url,
        staff_channel="G_STAFF",
        escalation_channel="G_ESCALATE",
    )
    return runtime.build_outbox_worker(db, full, runtime.build_slack(db, full))


def drain(worker: Any) -> None:
    for _ in range(30):
        if not worker.run_once():
            return


def case_fact(db: Database, read: Any) -> Any:
    with db.session() as session:
        try:
            return read(case_service.get_case(session, "COC-1"))
        except case_service.CaseNotFound:
            return None


def test_report_claim_and_dm_all_arrive_over_the_socket(
    connected: tuple[SlackEmulator, subprocess.Popen[str]], db: Database, settings: Settings
) -> None:
    emulator, process = connected
    worker = worker_for(emulator, db, settings)
    assert emulator.app_url is None  # no HTTP route to Steward exists

    opened = emulator.global_shortcut("U_ALEX", "report_concern")
    assert opened["status"] == 200
    [form] = opened["views"]
    assert form["callback_id"] == "report_form"
    refused = emulator.submit("U_ALEX", form["id"], form_values(what="  "))
    assert refused["status"] == 200  # the ack carries response_action: errors
    assert refused["view_closed"] is False
    assert list(refused["errors"]) == ["what"]
    submitted = emulator.submit("U_ALEX", form["id"], form_values(what=REPORT))
    assert submitted["status"] == 200
    assert submitted["view_closed"] is True

    assert eventually(lambda: case_fact(db, lambda case: case.status), timeout=15) == "new"
    drain(worker)
    staff = emulator.state()["channels"]["G_STAFF"]["messages"]
    [root] = [m for m in staff if "COC-1" in m.get("text", "")]
    assert REPORT not in json.dumps(staff)

    claimed = emulator.click("U_STEW1", "case_claim", channel="G_STAFF", message_ts=root["ts"])
    assert claimed["status"] == 200
    assert eventually(lambda: case_fact(db, lambda case: case.claimed_by), timeout=10) == "U_STEW1"
    drain(worker)
    staff = emulator.state()["channels"]["G_STAFF"]["messages"]
    [updated] = [m for m in staff if m["ts"] == root["ts"]]
    assert "<@U_STEW1>" in json.dumps(updated["blocks"])
    assert any("claimed this case" in r["text"] for r in updated["replies"])

    dm = emulator.post("U_ALEX", emulator.bot_user_id, DM_TEXT)
    assert dm["delivered"] is True and dm["status"] == 200

    def reporter_messages() -> list[str]:
        return case_fact(
            db, lambda case: [e.text for e in case.entries if e.kind == "reporter_message"]
        )

    assert eventually(lambda: reporter_messages(), timeout=10) == [DM_TEXT]
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert (case.status, case.source) == ("triage", "slack")
        assert REPORT in [e.text for e in case.entries]

    deliveries = [(d["kind"], d["transport"], d["status"]) for d in emulator.state()["deliveries"]]
    assert deliveries == [
        ("shortcut", "socket_mode", 200),
        ("view_submission", "socket_mode", 200),
        ("view_submission", "socket_mode", 200),
        ("block_actions", "socket_mode", 200),
        ("event_callback", "socket_mode", 200),
    ]

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "connected to Slack over Socket Mode" in output
    assert "Traceback" not in output
    assert REPORT not in output and DM_TEXT not in output


@pytest.mark.parametrize(
    ("app_token", "expected"),
    [
        (None, "steward web: set SLACK_APP_TOKEN"),
        ("xapp-1-revoked", "Slack refused the Socket Mode connection: invalid_auth"),
        ("bot", "Slack refused the Socket Mode connection: not_allowed_token_type"),
    ],
)
def test_a_missing_or_wrong_app_token_is_a_clear_refusal(
    tmp_path: Path, database_url: str, db: Database, app_token: str | None, expected: str
) -> None:
    with SlackEmulator() as emulator:
        env = slack_env(emulator, emulator.bot_token if app_token == "bot" else app_token or "")
        if app_token is None:
            del env["SLACK_APP_TOKEN"]
        process = steward_web(tmp_path, database_url, **env)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output
    assert expected in output
    assert "Traceback" not in output


def test_nothing_personal_is_logged_over_socket_mode(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """The Socket Mode client sees every payload; at DEBUG it must still log none of them."""
    caplog.set_level(logging.DEBUG)
    settings = stack.settings.with_overrides(slack_app_token=stack.emulator.app_token)
    service = runtime.build_socket_mode(replace(stack.slack, settings=settings))
    service.start()
    try:
        assert eventually(lambda: stack.emulator.state()["socket_mode"]["connections"] == 1)
        stack.report(what=f"Report about {SECRET_WORDS}.", anonymous=True)
        stack.drain()
        stack.emulator.post("U_ALEX", stack.emulator.bot_user_id, f"And {SECRET_WORDS} again.")

        def reporter_messages() -> int:
            return len(
                case_fact(
                    stack.db, lambda case: [e for e in case.entries if e.kind == "reporter_message"]
                )
                or []
            )

        assert eventually(reporter_messages, timeout=10) == 1
    finally:
        service.stop()
    transports = {d["transport"] for d in stack.emulator.state()["deliveries"]}
    assert transports == {"socket_mode"}
    logged = "\n".join(
        record.getMessage() + (caplog.text if record.exc_info else "") for record in caplog.records
    )
    assert logged, "the run should have logged something"
    for secret in (SECRET_WORDS, "U_ALEX", "alex@example"):
        assert secret not in logged, secret


def test_doctor_checks_the_app_token_and_needs_no_signing_secret_with_it(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    with SlackEmulator() as emulator:
        env = {
            "STEWARD_DATABASE_URL": database_url,
            "STEWARD_CONDUCT_ADDRESS": "conduct@steward-community.org",
            "STEWARD_SMTP_PORT": str(free_port()),
            **slack_env(emulator, emulator.app_token),
        }
        good = doctor(env, tmp_path)
        assert good.returncode == 0, good.stdout
        assert "ok   app token: Slack opens Socket Mode connections for it" in good.stdout
        assert "ok   signing secret: not set: `steward web --socket-mode` needs none" in good.stdout
        assert emulator.app_token not in good.stdout

        wrong = doctor({**env, "SLACK_APP_TOKEN": emulator.bot_token}, tmp_path)
        assert wrong.returncode == 1
        assert "FAIL app token: Slack refused SLACK_APP_TOKEN (not_allowed_token_type)" in (
            wrong.stdout
        )
        assert emulator.bot_token not in wrong.stdout
