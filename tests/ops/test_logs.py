"""Structured logs: JSON lines for a collector, text on a terminal, each line with the
reference of what it is about, and nothing personal in any field."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from core.casework.scheduler import DeadlineScheduler
from core.infra.db import Database
from core.infra.logs import JsonFormatter, TextFormatter, about, formatter_for
from core.infra.settings import Settings
from steward import runtime
from tests.conftest import free_port
from tests.followups.conftest import QUIET, open_case, seconds, wait_until
from tests.followups.test_worker_process import Worker
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import send

SECRET = "the saffron kettle episode"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    return logging.LogRecord("core.infra.outbox", logging.INFO, __file__, 1, message, args, None)


def test_json_when_not_a_terminal_and_text_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEWARD_LOG_FORMAT", raising=False)
    assert isinstance(formatter_for(io.StringIO()), JsonFormatter)
    assert isinstance(formatter_for(Terminal()), TextFormatter)
    monkeypatch.setenv("STEWARD_LOG_FORMAT", "json")
    assert isinstance(formatter_for(Terminal()), JsonFormatter)

    line = record("delivered outbox item %s (%s)", 12, "case.root")
    line.__dict__.update(about(case_id=3, outbox_id=12, kind="case.root"))
    parsed = json.loads(JsonFormatter().format(line))
    assert parsed["message"] == "delivered outbox item 12 (case.root)"
    assert (parsed["case"], parsed["outbox_id"], parsed["kind"]) == ("COC-3", 12, "case.root")
    assert parsed["level"] == "INFO" and parsed["logger"] == "core.infra.outbox"
    assert (
        TextFormatter()
        .format(line)
        .endswith(
            "INFO core.infra.outbox: delivered outbox item 12 (case.root) "
            "[case=COC-3 outbox_id=12 kind=case.root]"
        )
    )


def test_every_line_about_a_case_row_or_deadline_carries_its_reference(
    stack: Stack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack.report(what=f"Report about {SECRET}.")
    raw = corpus.plain(from_addr="Robin Vale <robin.vale@example.net>", body=f"About {SECRET}.")
    # Storage in this process, so that its lines reach the test's log capture.
    in_process = replace(stack.settings, smtp_port=free_port(), mail_storage_process=False)
    gateway = runtime.build_mail_server(db, in_process)
    gateway.start()
    try:
        assert send(gateway.address[1], raw, mail_from="robin.vale@example.net")[0] == 250
        assert send(gateway.address[1], raw, mail_from="robin.vale@example.net")[0] == 250
    finally:
        gateway.stop()
    stack.drain()
    short = replace(stack.settings, **{**QUIET, "ack_hours": seconds(0.3, unit="hours")})
    open_case(db, short)
    scheduler = DeadlineScheduler(db, short, resync_seconds=0.2)
    scheduler.start()
    try:
        wait_until(lambda: any("fired for" in r.getMessage() for r in caplog.records))
    finally:
        scheduler.stop()
    stack.drain()

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in (SECRET, "robin", "Robin Vale", "U_ALEX", "example.net"):
        assert secret not in text, secret

    def about_lines(start: str) -> list[dict]:
        found = [line for line in lines if line["message"].startswith(start)]
        assert found, start
        return found

    for line in about_lines("delivered outbox item"):
        assert line["outbox_id"] and line["kind"]
        if line["kind"] != "home":  # a member's App Home belongs to no case
            assert line["case"].startswith("COC-"), line
    for line in about_lines("mail recorded on"):
        assert line["case"] in line["message"]
    for line in about_lines("duplicate delivery for"):
        assert line["case"] in line["message"]
    for line in about_lines("report filed from Slack"):
        assert line["case"] in line["message"]
    [fired] = [line for line in about_lines("deadline ") if "fired for" in line["message"]]
    assert fired["deadline_id"] and fired["case"] == "COC-3" and fired["kind"]


def test_a_worker_writes_json_lines_when_its_stderr_is_a_file(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEWARD_LOG_FORMAT", raising=False)
    short = replace(settings, **{**QUIET, "ack_hours": seconds(0.5, unit="hours")})
    open_case(db, short)
    worker = Worker(short.database_url, tmp_path, {"STEWARD_SCHEDULER_RESYNC_SECONDS": "0.3"})
    try:
        wait_until(lambda: "fired for" in (tmp_path / "worker.log").read_text(), timeout=20)
    finally:
        worker.stop()
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()]
    [fired] = [line for line in lines if "fired for" in line["message"]]
    assert fired["case"] == "COC-1" and fired["deadline_id"] == 1
    assert fired["kind"] == "acknowledgement_due" and fired["logger"] == "core.casework.followups"
