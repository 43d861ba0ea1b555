"""The real `steward worker` process: killed in the middle of a window, started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from core.casework import cases as case_service
from core.casework.deadlines import DeadlineKind
from core.decisions.decisions import record_decision
from core.infra.db import Database
from core.infra.settings import Settings
from tests.followups.conftest import deadlines, open_case, reminders, seconds, wait_until
from tests.smtp_helpers import cases_show


class Worker:
    """`python -m steward.cli worker` as an operator runs it."""

    def __init__(self, database_url: str, cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        log = open(cwd / "worker.log", "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "steward.cli", "worker"],
            cwd=cwd,
            env={**os.environ, "STEWARD_DATABASE_URL": database_url, **env},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        self._log = log
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(lambda: any("Steward worker" in line for line in self.lines), timeout=30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def kill(self) -> None:
        """As a crash would: no chance to finish anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(15) == 0
        self._log.close()


def test_a_window_that_passes_while_the_worker_is_down_fires_once_on_restart(
    db: Database, quiet: Settings, tmp_path: Path
) -> None:
    short = replace(quiet, appeal_days=seconds(3))
    case_id = open_case(db, short)
    with db.session() as session:
        decision = record_decision(
            session,
            short,
            case_service.get_case(session, case_id),
            "U_STEW1",
            "correction",
            message_to_reported="Please keep discussions civil.",
            message_to_reporter="We have spoken to them.",
        )
        window = decision.appeal_deadline
    env = {"STEWARD_SCHEDULER_RESYNC_SECONDS": "0.3", "STEWARD_STALE_DAYS": "1000"}

    first = Worker(short.database_url, tmp_path, env)
    first.kill()  # in the middle of the window
    [deadline] = deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)
    assert deadline.fired_at is None
    wait_until(lambda: time.time() > window.timestamp() + 0.3, timeout=10)
    assert deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)[0].fired_at is None

    second = Worker(short.database_url, tmp_path, env)
    try:
        wait_until(lambda: deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)[0].fired_at)
        time.sleep(1.0)  # several resyncs: nothing fires twice
    finally:
        second.stop()
    [deadline] = deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)
    assert deadline.fired_at >= window
    assert len(reminders(db, case_id, DeadlineKind.APPEAL_WINDOW)) == 1
    shown = cases_show(short.database_url, f"COC-{case_id}", tmp_path)
    assert shown["status"] == "closed"
    [row] = [d for d in shown["deadlines"] if d["kind"] == "appeal_window_closes"]
    assert row["due_at"] and row["fired_at"]
    assert sum("closed on" in e["text"] for e in shown["entries"]) == 1
