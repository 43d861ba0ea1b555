"""Two `steward worker` processes on one PostgreSQL: one scheduler, a takeover, no double."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import Database
from core.deadlines import DeadlineKind
from core.models import Deadline, OutboxItem
from core.settings import Settings
from slackapp.emulator import SlackEmulator
from tests.conftest import POSTGRES_URL, free_port
from tests.followups.conftest import QUIET, open_case, reminders, seconds, wait_until
from tests.followups.test_worker_process import Worker

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="the scheduler election uses PostgreSQL advisory locks; on SQLite one worker "
    "runs the scheduler and there is nothing to elect (set STEWARD_TEST_DATABASE_URL)",
)

CASES = 5
FIRST_DUE, SPACING = 5.0, 2.0  # seconds from now, and between two deadlines


def role(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        return json.loads(response.read())["scheduler"]


def all_delivered(db: Database) -> bool:
    with db.session() as session:
        statuses = list(session.scalars(select(OutboxItem.status)))
    return bool(statuses) and all(status == "delivered" for status in statuses)


def fired(db: Database) -> list[Deadline]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Deadline).where(
                    Deadline.kind == DeadlineKind.ACKNOWLEDGEMENT, Deadline.fired_at.is_not(None)
                )
            )
        )


def test_one_scheduler_and_a_takeover_when_it_is_killed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    quiet = replace(settings, **QUIET)
    started = time.time()
    case_ids = [
        open_case(db, replace(quiet, ack_hours=seconds(FIRST_DUE + SPACING * i, unit="hours")))
        for i in range(CASES)
    ]
    with SlackEmulator() as emulator:
        env = {
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "SLACK_API_URL": emulator.api_url,
            "STEWARD_STAFF_CHANNEL": "G_STAFF",
            "STEWARD_ESCALATION_CHANNEL": "G_ESCALATE",
            "STEWARD_SCHEDULER_RESYNC_SECONDS": "0.3",
            "STEWARD_ACK_ESCALATE_HOURS": "2000",
            "STEWARD_STALE_DAYS": "1000",
            "STEWARD_CHECKIN_DAYS": "1000",
        }
        ports = [free_port(), free_port()]
        first = Worker(db.url, tmp_path, {**env, "STEWARD_WORKER_HEALTH_PORT": str(ports[0])})
        wait_until(lambda: role(ports[0]) == "elected", timeout=10)
        second = Worker(db.url, tmp_path, {**env, "STEWARD_WORKER_HEALTH_PORT": str(ports[1])})
        try:
            time.sleep(1.5)  # several election rounds: the lock is taken
            assert role(ports[1]) == "standby"
            assert role(ports[0]) == "elected"

            # The first deadline fires in the elected worker; its reminder is delivered.
            wait_until(lambda: len(fired(db)) == 1 and all_delivered(db), timeout=20)
            assert time.time() < started + FIRST_DUE + SPACING, "the test ran too slowly"
            first.kill()  # kill -9: no chance to release anything
            killed_at = time.monotonic()
            wait_until(lambda: role(ports[1]) == "elected", timeout=10)
            takeover = time.monotonic() - killed_at
            assert takeover < 5.0, takeover

            wait_until(lambda: len(fired(db)) == CASES and all_delivered(db), timeout=40)
            time.sleep(1.5)  # more resyncs and outbox rounds: nothing happens twice
        finally:
            second.stop()
            if first.process.poll() is None:
                first.kill()
        state = emulator.state()

    assert len(fired(db)) == CASES and all_delivered(db)
    for case_id in case_ids:
        assert len(reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)) == 1, case_id
    roots = state["channels"]["G_STAFF"]["messages"]
    assert len(roots) == CASES, [root.get("text") for root in roots]
    for root in roots:  # one thread per case, with exactly one reminder in it
        assert len(root.get("replies", [])) == 1, root
    with db.session() as session:
        attempts = list(session.scalars(select(OutboxItem.attempts)))
    assert attempts and set(attempts) == {1}, "every row was delivered in one attempt"
