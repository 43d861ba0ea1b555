"""Crash during Slack intake: `steward web` killed while report forms are being submitted.

Slack keeps a modal open when the app does not answer, so the member submits the
same form again; its view id makes the second submission a repeat. Every form
that closed has exactly one case; no report is stored twice.
Bounded: 20 members submitting at once and 2 kills (50 and 5 with --long).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from core.casework.cases import EntryKind
from core.infra.db import Database
from core.infra.models import Case, Entry, Submission
from core.infra.settings import Settings
from slackapp.emulator import ControlError, SlackEmulator
from tests.conftest import free_port
from tests.faults.conftest import Steward, quiet_worker_env, slack_env
from tests.followups.conftest import wait_until
from tests.slack.conftest import form_values

READY = "Steward web:"
SEED = Path(__file__).resolve().parents[2] / "slackapp/emulator/default_seed.yml"


def crowd_seed(members: int) -> dict[str, Any]:
    """The default workspace with `members` more people in it."""
    seed = yaml.safe_load(SEED.read_text())
    for n in range(members):
        seed["users"].append({"id": f"U_M{n:03d}", "name": f"member{n}", "real_name": f"M {n}"})
    return seed


@pytest.fixture
def crowd(long_mode: bool) -> Iterator[SlackEmulator]:
    with SlackEmulator(seed=crowd_seed(50 if long_mode else 20)) as running:
        yield running


class Member(threading.Thread):
    """Opens the report form and submits it until Slack closes it, as a person would."""

    def __init__(self, emulator: SlackEmulator, user: str, what: str) -> None:
        super().__init__(daemon=True)
        self.emulator, self.user, self.what = emulator, user, what
        self.submitted = 0
        self.closed = False

    def run(self) -> None:
        view_id = None
        deadline = time.monotonic() + 180
        while not self.closed and time.monotonic() < deadline:
            try:
                if view_id is None:
                    opened = self.emulator.global_shortcut(self.user, "report_concern")
                    view_id = opened["views"][0]["id"] if opened.get("views") else None
                    if view_id is None:
                        time.sleep(0.2)
                        continue
                answer = self.emulator.submit(self.user, view_id, form_values(what=self.what))
                self.submitted += 1
                self.closed = bool(answer.get("view_closed"))
            except ControlError:
                view_id = None  # the trigger ran out while the app was down: try again
            if not self.closed:
                time.sleep(0.2)


def test_web_killed_during_submissions_keeps_every_report_once(
    db: Database, settings: Settings, crowd: SlackEmulator, tmp_path: Path, long_mode: bool
) -> None:
    members, kills = (50, 5) if long_mode else (20, 2)
    port = free_port()
    env = {
        **slack_env(crowd, settings.database_url),
        **quiet_worker_env(settings),
        "STEWARD_WEB_PORT": str(port),
    }
    web = Steward("web", tmp_path, env, READY)
    crowd.app_url = f"http://127.0.0.1:{port}/slack/events"
    people = [
        Member(crowd, f"U_M{n:03d}", f"Report {n}: they mocked my accent again.")
        for n in range(members)
    ]
    for person in people:
        person.start()
    points = sorted(random.sample(range(1, members - 1), kills))  # counted in closed forms
    try:
        for point in points:
            wait_until(lambda p=point: sum(m.closed for m in people) >= p, timeout=60, every=0.005)
            web.kill()
            web = Steward("web", tmp_path, env, READY)
        for person in people:
            person.join(180)
        wait_until(lambda: len(opened_reports(db)) >= members, timeout=60)
    finally:
        web.stop()

    assert all(person.closed for person in people)
    assert sum(person.submitted for person in people) > members, "no kill met a submission"
    reports = Counter(opened_reports(db))
    assert sorted(reports) == sorted(person.what for person in people)
    assert set(reports.values()) == {1}  # no report stored twice
    with db.session() as session:
        stored = list(session.scalars(select(Submission)))
        cases = len(list(session.scalars(select(Case.id))))
    assert len(stored) == members and all(s.case_id for s in stored)
    assert cases == members


def opened_reports(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Entry.text).where(Entry.kind == EntryKind.REPORT)))
