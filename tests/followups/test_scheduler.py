"""The real scheduler (APScheduler in process) firing the real deadline rows.

No scheduler is mocked: windows are seconds long and the tests wait for them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from apscheduler.schedulers.base import STATE_STOPPED

from core.casework import cases as case_service
from core.casework import followups
from core.casework.actions import NotAllowed, acknowledge
from core.casework.deadlines import DeadlineKind
from core.casework.scheduler import DeadlineScheduler
from core.decisions.decisions import record_decision
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.settings import Settings
from tests.followups.conftest import (
    audits,
    deadlines,
    notices,
    open_case,
    reminders,
    seconds,
    wait_until,
)

STEWARD = "U_STEW1"
Start = Callable[[Database, Settings], DeadlineScheduler]


def fired(db: Database, case_id: int, kind: str) -> list:
    return [d for d in deadlines(db, case_id, kind) if d.fired_at is not None]


def assert_each_fired_once(db: Database) -> None:
    """Every reminder line names its deadline; no deadline is named twice."""
    named = Counter(n["details"]["deadline_id"] for n in notices(db, notice="reminder"))
    assert named and max(named.values()) == 1, named
    assert len(audits(db, "deadline.fired")) == len(
        {a.detail["deadline_id"] for a in audits(db, "deadline.fired")}
    )


def test_every_kind_of_reminder_fires_exactly_once(
    db: Database, quiet: Settings, start_scheduler: Start
) -> None:
    short = replace(
        quiet,
        ack_hours=seconds(0.6, "hours"),
        ack_escalate_hours=seconds(1.2, "hours"),
        stale_days=seconds(1.5),
        checkin_days=seconds(1.8),
    )
    waiting = open_case(db, short)  # acknowledgement, escalation, stale, check-in
    decided = open_case(db, quiet)
    asked = open_case(db, quiet)
    now = utcnow()
    with db.session() as session:
        case = case_service.get_case(session, decided)
        record_decision(
            session,
            short,
            case,
            STEWARD,
            "temporary_ban",
            ban_until=now + timedelta(seconds=1),
            no_contact_until=now + timedelta(seconds=1.3),
            message_to_reported="You are banned for a while.",
            message_to_reporter="We have acted.",
        )
        case = case_service.get_case(session, asked)
        followups.ask_respondent(
            session, short, case, STEWARD, "Tell us your side.", now + timedelta(seconds=0.8)
        )
    start_scheduler(db, short)

    wait_until(lambda: len(reminders(db, waiting, DeadlineKind.CHECK_IN)) == 1)
    wait_until(lambda: len(reminders(db, decided, DeadlineKind.NO_CONTACT_ENDS)) == 1)
    wait_until(lambda: len(reminders(db, asked, DeadlineKind.RESPONSE_DUE)) == 1)
    ack = reminders(db, waiting, DeadlineKind.ACKNOWLEDGEMENT)
    assert [n["mention_stewards"] for n in ack] == [False, True]  # 24 h, then 48 h: everyone
    assert len(reminders(db, waiting, DeadlineKind.STALE)) >= 1
    assert len(reminders(db, decided, DeadlineKind.BAN_ENDS)) == 1
    # The recurring follow-ups re-armed themselves as new rows.
    assert [d.fired_at is None for d in deadlines(db, waiting, DeadlineKind.CHECK_IN)][-1]
    time.sleep(0.6)
    assert_each_fired_once(db)
    assert len(reminders(db, waiting, DeadlineKind.ACKNOWLEDGEMENT)) == 2
    assert len(reminders(db, decided, DeadlineKind.BAN_ENDS)) == 1
    assert len(reminders(db, asked, DeadlineKind.RESPONSE_DUE)) == 1


def test_an_acknowledged_case_is_not_chased(
    db: Database, quiet: Settings, start_scheduler: Start
) -> None:
    short = replace(quiet, ack_hours=seconds(0.5, "hours"))
    case_id = open_case(db, short)
    with db.session() as session:
        acknowledge(session, case_service.get_case(session, case_id), STEWARD)
    start_scheduler(db, short)
    time.sleep(1.0)
    assert reminders(db, case_id) == []
    [ack] = deadlines(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)
    assert ack.cancelled_at is not None and ack.fired_at is None


def test_an_unanswered_decision_closes_by_itself(
    db: Database, quiet: Settings, start_scheduler: Start
) -> None:
    short = replace(quiet, appeal_days=seconds(1))
    case_id = open_case(db, short)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        decision = record_decision(
            session,
            short,
            case,
            STEWARD,
            "no_violation",
            message_to_reported="No violation was found.",
            message_to_reporter="We found no violation.",
        )
        window = decision.appeal_deadline
    start_scheduler(db, short)
    [deadline] = wait_until(lambda: fired(db, case_id, DeadlineKind.APPEAL_WINDOW))
    assert deadline.fired_at >= window
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        assert case.status == "closed"
        assert "closed on" in case.entries[-1].text and case.entries[-1].kind == "system"
    [line] = reminders(db, case_id, DeadlineKind.APPEAL_WINDOW)
    assert line["details"]["closed"] is True and "closed" in line["details"]["summary"]
    assert line["details"]["snooze"] is False


def test_two_schedulers_started_by_mistake_have_one_effect(
    db: Database, quiet: Settings, start_scheduler: Start
) -> None:
    short = replace(quiet, ack_hours=seconds(1.0, "hours"), appeal_days=seconds(1.0))
    waiting = [open_case(db, short) for _ in range(5)]
    decided = open_case(db, short)
    with db.session() as session:
        record_decision(
            session,
            short,
            case_service.get_case(session, decided),
            STEWARD,
            "warning",
            message_to_reported="A warning.",
            message_to_reporter="We warned them.",
        )
    # Two workers: separate engines and schedulers on the same record, as two processes.
    other = Database(short.database_url)
    try:
        start_scheduler(db, short)
        start_scheduler(other, short)
        for case_id in waiting:
            wait_until(lambda c=case_id: fired(db, c, DeadlineKind.ACKNOWLEDGEMENT))
        wait_until(lambda: fired(db, decided, DeadlineKind.APPEAL_WINDOW))
        time.sleep(0.6)  # both schedulers have had every chance to fire twice
    finally:
        other.dispose()
    assert len(reminders(db, kind=DeadlineKind.ACKNOWLEDGEMENT)) == 5
    assert_each_fired_once(db)
    with db.session() as session:
        case = case_service.get_case(session, decided)
        assert case.status == "closed"
        assert sum("closed on" in e.text for e in case.entries) == 1
    closes = [a for a in audits(db, "case.status") if a.detail["status"] == "closed"]
    assert len(closes) == 1


def test_snooze_moves_a_reminder_and_the_scheduler_follows(
    db: Database, quiet: Settings, start_scheduler: Start
) -> None:
    short = replace(quiet, ack_hours=seconds(0.5, "hours"))
    case_id = open_case(db, short)
    start_scheduler(db, short)
    [first] = wait_until(lambda: reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT))
    deadline_id = first["details"]["deadline_id"]
    assert first["details"]["snooze"] is True

    with db.session() as session:
        again = followups.snooze(session, deadline_id, STEWARD, seconds(1.0))
        again_id = again.id
    assert again_id != deadline_id  # the fired row stays as it happened
    time.sleep(0.5)
    assert len(reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)) == 1
    wait_until(lambda: len(reminders(db, case_id, DeadlineKind.ACKNOWLEDGEMENT)) == 2)
    [snoozed] = audits(db, "deadline.snoozed")
    assert snoozed.actor == f"steward:{STEWARD}" and snoozed.detail["snoozed"] == deadline_id
    [line] = notices(db, case_id, "snoozed")
    assert line["details"]["deadline_id"] == again_id

    # A pending reminder moves; the job already scheduled for it moves too.
    [check_in] = deadlines(db, case_id, DeadlineKind.CHECK_IN)
    with db.session() as session:
        moved = followups.snooze(session, check_in.id, STEWARD, seconds(1.0))
        assert moved.id == check_in.id
    wait_until(lambda: fired(db, case_id, DeadlineKind.CHECK_IN))
    time.sleep(0.4)
    assert len(reminders(db, case_id, DeadlineKind.CHECK_IN)) == 1
    assert_each_fired_once(db)


def test_the_appeal_window_cannot_be_snoozed(db: Database, quiet: Settings) -> None:
    case_id = open_case(db, quiet)
    with db.session() as session:
        record_decision(
            session,
            quiet,
            case_service.get_case(session, case_id),
            STEWARD,
            "warning",
            message_to_reported="A warning.",
            message_to_reporter="We warned them.",
        )
    [window] = deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)
    with db.session() as session, pytest.raises(NotAllowed):
        followups.snooze(session, window.id, STEWARD, 1)


def test_activity_pushes_the_stale_reminder_back(db: Database, quiet: Settings) -> None:
    short = replace(quiet, stale_days=seconds(1.0))
    case_id = open_case(db, short)
    time.sleep(0.6)
    with db.session() as session:
        case_service.system_entry(session, case_service.get_case(session, case_id), "activity")
    time.sleep(0.5)
    assert followups.fire_due(db, short) == []  # due, but the case was active: moved
    [stale] = deadlines(db, case_id, DeadlineKind.STALE)
    assert stale.fired_at is None and stale.due_at > utcnow()
    time.sleep((stale.due_at - utcnow()).total_seconds() + 0.05)
    assert followups.fire_due(db, short) == [stale.id]
    assert len(reminders(db, case_id, DeadlineKind.STALE)) == 1


def test_stopping_while_a_resync_adds_a_job_does_not_hang(db: Database, quiet: Settings) -> None:
    """A resync that finds a new row while the scheduler is being stopped. APScheduler
    holds its job store lock while `shutdown(wait=True)` waits for running jobs, and adding
    the new row's job needs that lock: without care, stop and the job wait for each other
    for ever (seen as a test hanging in `scheduler.stop()` on a loaded machine)."""
    scheduler = DeadlineScheduler(db, quiet, resync_seconds=1000)
    scheduler.start()
    running, finished = threading.Event(), threading.Event()

    def resync_during_stop() -> None:
        running.set()
        wait_until(lambda: scheduler.scheduler.state == STATE_STOPPED, timeout=30)
        time.sleep(0.1)  # nothing to wait on: stop is inside APScheduler's shutdown by now
        open_case(db, quiet)  # a row added by another process meanwhile
        scheduler.sync()
        finished.set()

    scheduler.scheduler.add_job(resync_during_stop)
    assert running.wait(30)
    stopping = threading.Thread(target=scheduler.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive(), "stop() and a running resync wait for each other"
    assert finished.is_set()
    assert scheduler.scheduler.get_jobs() == []  # the new row is picked up at the next start
