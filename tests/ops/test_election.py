"""Two `steward worker` processes on one PostgreSQL: one scheduler, a takeover, no double."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.casework.deadlines import DeadlineKind
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.election import LEADER, SCHEDULER_LOCK, STANDBY, SchedulerElection
from core.infra.models import Deadline, OutboxItem
from core.infra.settings import Settings
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
FIRST_DUE, SPACING = 2.0, 2.0  # seconds from now, and between two deadlines


def role(port: int) -> str:
    """What the worker on this health port says it is; "" while it cannot answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return json.loads(response.read())["scheduler"]
    except OSError:
        return ""


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
        workers: list[Worker] = []
        try:
            workers.append(
                Worker(db.url, tmp_path, {**env, "STEWARD_WORKER_HEALTH_PORT": str(ports[0])})
            )
            first = workers[0]
            wait_until(lambda: role(ports[0]) == "elected", timeout=10)
            workers.append(
                Worker(db.url, tmp_path, {**env, "STEWARD_WORKER_HEALTH_PORT": str(ports[1])})
            )
            second = workers[1]
            time.sleep(1.5)  # several election rounds: the lock is taken
            assert role(ports[1]) == "standby"
            assert role(ports[0]) == "elected"

            # Cases whose acknowledgement deadlines fall due one after another.
            case_ids = [
                open_case(
                    db, replace(quiet, ack_hours=seconds(FIRST_DUE + SPACING * i, unit="hours"))
                )
                for i in range(CASES)
            ]
            # The first deadline fires in the elected worker; its reminder is delivered.
            wait_until(lambda: fired(db) and all_delivered(db), timeout=20)
            first.kill()  # kill -9: no chance to release anything
            killed_at, killed_wall = time.monotonic(), utcnow()
            assert len(fired(db)) < CASES, "the test ran too slowly to kill in time"
            wait_until(lambda: role(ports[1]) == "elected", timeout=10)
            takeover = time.monotonic() - killed_at
            assert takeover < 5.0, takeover

            wait_until(lambda: len(fired(db)) == CASES and all_delivered(db), timeout=40)
            time.sleep(1.5)  # more resyncs and outbox rounds: nothing happens twice
            # The survivor's own metrics count what it fired after taking over.
            with urllib.request.urlopen(f"http://127.0.0.1:{ports[1]}/metrics") as response:
                metrics = response.read().decode()
            assert 'steward_deadlines_fired_total{kind="acknowledgement_due"}' in metrics
            second.stop()
        finally:
            for worker in workers:  # after a failure: leave nothing running
                if worker.process.poll() is None:
                    worker.kill()
        state = emulator.state()

    assert len(fired(db)) == CASES and all_delivered(db)
    assert any(deadline.fired_at > killed_wall for deadline in fired(db)), "fired after takeover"
    for case_id in case_ids:
        assert len(reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)) == 1, case_id
    roots = state["channels"]["G_STAFF"]["messages"]
    assert len(roots) == CASES, [root.get("text") for root in roots]
    for root in roots:  # one thread per case, with exactly one reminder in it
        assert len(root.get("replies", [])) == 1, root
    with db.session() as session:
        attempts = list(session.scalars(select(OutboxItem.attempts)))
    assert attempts and set(attempts) == {1}, "every row was delivered in one attempt"


class Recorder:
    """Stands in for the deadline scheduler: records when it is started and stopped."""

    def __init__(self, events: list[str], name: str) -> None:
        self.events, self.name = events, name

    def start(self) -> None:
        self.events.append(f"{self.name} start")

    def stop(self) -> None:
        self.events.append(f"{self.name} stop")


def test_a_leader_whose_session_is_ended_stands_down_and_the_lock_passes_on(
    db: Database,
) -> None:
    """PostgreSQL ending the holder's session (a restart, a network cut, an operator's
    pg_terminate_backend) frees the lock: the holder stops its scheduler, and one of the
    two schedules again."""
    events: list[str] = []
    first = SchedulerElection(db, lambda: Recorder(events, "first"), poll_seconds=0.1)
    second = SchedulerElection(db, lambda: Recorder(events, "second"), poll_seconds=0.1)
    first.start()
    try:
        wait_until(lambda: first.role == LEADER)
        second.start()
        time.sleep(0.5)
        assert (first.role, second.role) == (LEADER, STANDBY)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :low AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"low": SCHEDULER_LOCK & 0xFFFFFFFF},
            )
        wait_until(lambda: "first stop" in events)
        wait_until(lambda: LEADER in (first.role, second.role))
        time.sleep(0.5)
        assert sorted((first.role, second.role)) == [LEADER, STANDBY]
    finally:
        second.stop()
        first.stop()
    # The other worker may win the freed lock a moment before the first one notices (at its
    # next check, within poll_seconds); a deadline firing twice is still prevented by the
    # conditional update.
    assert events[0] == "first start" and "first stop" in events
