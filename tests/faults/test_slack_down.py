"""Slack down for a while: 5xx, `ratelimited` and timeouts through the emulator's faults.

Every case reaches its thread after recovery, each thread's lines in the order
they were queued, and nothing twice. Bounded: a 10 s outage (60 s with --long).
A timeout is the hard part: Slack posted the message but the worker never heard,
so the retry must find it by its metadata rather than post it again.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from core.casework import cases as case_service
from core.casework import notify
from core.casework.notify import Notice
from core.infra.db import Database
from core.infra.models import Case, OutboxItem
from core.infra.settings import Settings
from slackapp.emulator import SlackEmulator
from steward import runtime
from tests.faults.conftest import STAFF, assert_each_row_posted_once, outbox_part
from tests.followups.conftest import QUIET, slack_draft, wait_until
from tests.slack.conftest import emulated

NOTICES_PER_CASE = 3


def queue_case(db: Database, settings: Settings) -> None:
    with db.session() as session:
        opened = case_service.open_case(session, slack_draft(), settings)
        for _ in range(NOTICES_PER_CASE):
            notify.staff_notice(session, opened.case, Notice.REPORTER_MESSAGE, entry=opened.report)


def pending(db: Database) -> int:
    with db.session() as session:
        return len(
            list(session.scalars(select(OutboxItem.id).where(OutboxItem.status == "pending")))
        )


def test_every_case_reaches_its_thread_in_order_after_slack_comes_back(
    db: Database, settings: Settings, emulator: SlackEmulator, long_mode: bool
) -> None:
    outage = 60.0 if long_mode else 10.0
    cases = 20 if long_mode else 6
    full = emulated(replace(settings, **QUIET), emulator)
    slack = runtime.build_slack(db, full)
    assert slack is not None
    slack.client.timeout = 1  # so that a held call is a timeout within the test's time
    worker = runtime.build_outbox_worker(db, full, slack, poll_interval=0.1)
    phase = outage / 3
    emulator.faults("*", status=503, for_seconds=phase)
    emulator.faults("*", error="ratelimited", status=429, retry_after=1, for_seconds=phase)
    for _ in range(cases // 2):
        queue_case(db, full)
    worker.start()
    try:
        wait_until(lambda: emulator.state()["faults"].get("*"), timeout=5)
        for _ in range(cases - cases // 2):  # more arrive while Slack is down
            queue_case(db, full)
        wait_until(lambda: not emulator.state()["faults"], timeout=outage + 30)
        # Then posts time out, though Slack takes them: the retries must look first.
        emulator.faults("chat.postMessage", delay=1.5, for_seconds=phase)
        wait_until(lambda: not emulator.state()["faults"], timeout=outage + 30)
        wait_until(lambda: pending(db) == 0, timeout=outage + 60, every=0.2)
    finally:
        worker.stop()

    rows = assert_each_row_posted_once(db, emulator)
    with db.session() as session:
        threads = {c.id: c.slack_thread_ts for c in session.scalars(select(Case))}
    roots = {m["ts"]: m for m in emulator.state()["channels"][STAFF]["messages"]}
    assert len(roots) == cases and set(threads.values()) == set(roots)
    for case_id, ts in threads.items():
        queued = [r.id for r in rows if r.case_id == case_id and r.kind == "case.notice"]
        shown = [outbox_part(m)[0] for m in roots[ts]["replies"] if outbox_part(m)]
        assert len(queued) == NOTICES_PER_CASE and shown == queued
    assert [r.id for r in rows if r.attempts > 1], "the outage was never met"
