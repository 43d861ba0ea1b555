"""Scheduler restart across due deadlines: `steward worker` killed as they fall due.

Each deadline's effect commits with its claim (`fired_at IS NULL`), so whatever
moment the worker dies at, and however many times it is started again (or twice
at once), every deadline fires exactly once.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

from core.casework.deadlines import DeadlineKind
from core.infra.db import Database
from core.infra.settings import Settings
from tests.faults.conftest import Steward
from tests.followups.conftest import (
    QUIET,
    deadlines,
    open_case,
    reminders,
    seconds,
    wait_until,
)

READY = "Steward worker"


def test_deadlines_due_across_kills_and_restarts_fire_once(
    db: Database, settings: Settings, tmp_path: Path, long_mode: bool
) -> None:
    count = 20 if long_mode else 5
    cases = []
    for n in range(count):  # acknowledgement deadlines falling due one after another
        due = replace(settings, **{**QUIET, "ack_hours": seconds(1.5 + n * 0.4, "hours")})
        cases.append(open_case(db, due))
    env = {
        "STEWARD_DATABASE_URL": settings.database_url,
        "STEWARD_SCHEDULER_RESYNC_SECONDS": "0.3",
        "STEWARD_ACK_ESCALATE_HOURS": "1000",  # no second, escalating reminder
        "STEWARD_STALE_DAYS": "1000",
        "STEWARD_CHECKIN_DAYS": "1000",
    }

    def fired() -> int:
        return sum(
            1
            for case_id in cases
            for d in deadlines(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)
            if d.fired_at is not None
        )

    rng, started = random.Random(), time.monotonic()
    while fired() < count and time.monotonic() - started < 60:
        worker = Steward("worker", tmp_path, env, READY)
        time.sleep(rng.uniform(0.0, 0.8))  # dies before, during or after a firing
        worker.kill()
    twins = [Steward("worker", tmp_path, env, READY) for _ in range(2)]  # by mistake, two
    try:
        wait_until(lambda: fired() == count, timeout=30)
        time.sleep(1.0)  # several resyncs of both: nothing fires again
    finally:
        for worker in twins:
            worker.stop()

    for case_id in cases:
        first, escalation = deadlines(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)
        assert first.fired_at is not None  # the reminder; it armed the 1,000 h escalation
        assert escalation.payload == {"escalate": True} and escalation.fired_at is None
        assert len(reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)) == 1
