"""Fixtures for follow-ups, decisions and appeals: real database, real scheduler, short windows.

Durations are settings that accept fractions, so a "30-day" window here is a few
seconds long; everything else (the scheduler, SMTP, the outbox) is the real thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from core.casework import cases as case_service
from core.casework.cases import ReportDraft, Role, Source
from core.casework.people import Contact
from core.casework.scheduler import DeadlineScheduler
from core.infra.db import Database
from core.infra.models import AuditEvent, Deadline, OutboxItem
from core.infra.settings import Settings
from tests.gateway.conftest import gateway, mail_settings, sink, worker  # noqa: F401 - fixtures

SECOND_IN_DAYS = 1 / 86400
SECOND_IN_HOURS = 1 / 3600

# The pytest settings fixture uses long defaults; tests shorten what they exercise.
QUIET = {
    "ack_hours": 1000.0,
    "ack_escalate_hours": 2000.0,
    "stale_days": 1000.0,
    "checkin_days": 1000.0,
    "appeal_days": 30.0,
    "scheduler_resync_seconds": 0.2,
}


def seconds(value: float, unit: str = "days") -> float:
    """A number of seconds in the unit a setting is expressed in."""
    return value * (SECOND_IN_DAYS if unit == "days" else SECOND_IN_HOURS)


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    return replace(settings, **QUIET)


def slack_draft(**changes: Any) -> ReportDraft:
    values: dict[str, Any] = {
        "source": Source.SLACK,
        "text": "They kept messaging me after I asked them to stop.",
        "reporter": Contact(slack_user_id="U_ALEX", display_name="Alex"),
        "involved": [(Role.REPORTED, Contact(slack_user_id="U_BLAIR"))],
    }
    values.update(changes)
    return ReportDraft(**values)


def email_draft(**changes: Any) -> ReportDraft:
    values: dict[str, Any] = {
        "source": Source.EMAIL,
        "text": "Someone was rude to me at the meetup.",
        "reporter": Contact(email="alex@example.net", display_name="Alex"),
        "contact_preference": "email",
        "involved": [(Role.REPORTED, Contact(email="blair@example.com"))],
    }
    values.update(changes)
    return ReportDraft(**values)


def open_case(db: Database, settings: Settings, draft: ReportDraft | None = None) -> int:
    with db.session() as session:
        return case_service.open_case(session, draft or slack_draft(), settings).case.id


def outbox_rows(db: Database, case_id: int | None = None, kind: str | None = None) -> list[Any]:
    query = select(OutboxItem).order_by(OutboxItem.id)
    if case_id is not None:
        query = query.where(OutboxItem.case_id == case_id)
    if kind is not None:
        query = query.where(OutboxItem.kind == kind)
    with db.session() as session:
        return list(session.scalars(query))


def notices(db: Database, case_id: int | None = None, notice: str | None = None) -> list[dict]:
    """The payloads of the thread lines queued for a case."""
    rows = outbox_rows(db, case_id, "case.notice")
    return [r.payload for r in rows if notice is None or r.payload["notice"] == notice]


def reminders(db: Database, case_id: int | None = None, kind: str | None = None) -> list[dict]:
    found = notices(db, case_id, "reminder")
    return [n for n in found if kind is None or n["details"]["kind"] == kind]


def dms(db: Database, message: str | None = None) -> list[dict]:
    rows = outbox_rows(db, kind="dm")
    return [r.payload for r in rows if message is None or r.payload["message"] == message]


def deadlines(db: Database, case_id: int, kind: str | None = None) -> list[Deadline]:
    query = select(Deadline).where(Deadline.case_id == case_id).order_by(Deadline.id)
    if kind is not None:
        query = query.where(Deadline.kind == kind)
    with db.session() as session:
        return list(session.scalars(query))


def audits(db: Database, action: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll until the predicate holds; the real scheduler runs on real time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(every)


@pytest.fixture
def start_scheduler() -> Iterator[Callable[..., DeadlineScheduler]]:
    """Start real DeadlineSchedulers (APScheduler in process); all are stopped afterwards."""
    started: list[DeadlineScheduler] = []

    def start(db: Database, settings: Settings) -> DeadlineScheduler:
        scheduler = DeadlineScheduler(db, settings)
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop()
