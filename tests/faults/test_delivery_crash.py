"""Crash during delivery: `steward worker` killed while it posts to Slack.

Slack has no idempotency key. Each post carries its outbox id (and part) in the
message's metadata; a row whose outcome is unknown is looked for in Slack's
history before it is posted again. Checked against the emulator's own state.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from core.casework import cases as case_service
from core.casework import notify
from core.casework.notify import Notice
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.models import Case, OutboxItem
from core.infra.outbox import OutboxWorker
from core.infra.settings import Settings
from slackapp.emulator import SlackEmulator
from steward import runtime
from tests.faults.conftest import (
    STAFF,
    Steward,
    assert_each_row_posted_once,
    let_leases_run_out,
    outbox_part,
    posted,
    quiet_worker_env,
    slack_env,
)
from tests.followups.conftest import slack_draft, wait_until
from tests.slack.conftest import emulated

# Long enough that, disclosed in the thread, a notice is posted in several parts.
LONG_TEXT = "They kept writing to me after I asked them to stop, every evening. " * 220


def queue_cases(db: Database, settings: Settings, count: int) -> None:
    """Cases whose thread roots, multi-part notices and direct messages all wait in the outbox."""
    for n in range(count):
        with db.session() as session:
            opened = case_service.open_case(
                session, slack_draft(text=LONG_TEXT, immediate_danger=n % 2 == 0), settings
            )
            notify.staff_notice(session, opened.case, Notice.REPORTER_MESSAGE, entry=opened.report)
            notify.direct_message(session, opened.case, "U_ALEX", "relay", text=LONG_TEXT)


def pending(db: Database) -> int:
    with db.session() as session:
        rows = session.scalars(select(OutboxItem.id).where(OutboxItem.status == "pending"))
        return len(list(rows))


def test_a_worker_killed_while_posting_leaves_every_row_posted_once(
    db: Database, settings: Settings, emulator: SlackEmulator, tmp_path: Path, long_mode: bool
) -> None:
    queue_cases(db, settings, 12 if long_mode else 4)
    total = pending(db)
    env = {
        **slack_env(emulator, settings.database_url),
        **quiet_worker_env(settings),
        "STEWARD_FULL_DISCLOSURE": "true",
    }
    # Every post is held a moment before Slack takes it, so kills land mid-post; the
    # emulator finishes a post whose caller was killed, as Slack would.
    emulator.faults("chat.postMessage", delay=0.1, times=100_000)
    rounds, rng, kills = (12 if long_mode else 4), random.Random(), 0
    for _ in range(rounds):
        worker = Steward("worker", tmp_path, env, "Steward worker")
        before = len(posted(emulator))
        wait_until(lambda before=before: len(posted(emulator)) > before, timeout=30)
        time.sleep(rng.uniform(0.0, 0.6))
        worker.kill()
        kills += 1
        let_leases_run_out(db)
        if not pending(db):
            break
    assert kills >= 2 and pending(db) < total, "the kills did not land during delivery"
    worker = Steward("worker", tmp_path, env, "Steward worker")
    try:
        wait_until(lambda: pending(db) == 0, timeout=90)
    finally:
        worker.stop()

    rows = assert_each_row_posted_once(db, emulator)
    assert any(outbox_part(m) and outbox_part(m)[2] > 1 for _, m in posted(emulator))
    with db.session() as session:
        cases = list(session.scalars(select(Case)))
    threads = {c.id: (c.slack_channel, c.slack_thread_ts) for c in cases}
    staff = emulator.state()["channels"][STAFF]["messages"]
    roots = {m["ts"]: m for m in staff}
    for channel, ts in threads.values():
        assert channel == STAFF and ts in roots  # each case's thread is the one in Slack
    for row in rows:
        if row.kind == "case.notice":  # every line in its own case's thread
            replies = {r["ts"] for r in roots[threads[row.case_id][1]]["replies"]}
            assert row.result_ref in replies
    assert len(staff) == len(threads)  # one root per case, none posted twice


def test_only_a_post_that_may_have_landed_is_looked_for_before_a_retry(
    db: Database, settings: Settings, emulator: SlackEmulator
) -> None:
    full = emulated(settings, emulator)
    slack = runtime.build_slack(db, full)
    assert slack is not None
    slack.client.timeout = 0.5
    worker = runtime.build_outbox_worker(db, full, slack)
    with db.session() as session:
        opened = case_service.open_case(session, slack_draft(), full)
    drain(worker, db)

    def notice_now() -> None:
        with db.session() as session:
            case = session.get(Case, opened.case.id)
            notify.staff_notice(session, case, Notice.REPORTER_MESSAGE, entry=opened.report)

    def looks() -> int:
        return emulator.state()["calls"].get("conversations.replies", 0)

    notice_now()
    emulator.faults("chat.postMessage", status=429, retry_after=1)  # refused: nothing posted
    drain(worker, db)
    assert looks() == 0
    notice_now()
    emulator.faults("chat.postMessage", delay=1.0)  # times out, though Slack posts it
    worker.run_once()
    time.sleep(1.0)
    drain(worker, db)
    assert looks() == 1
    assert_each_row_posted_once(db, emulator)


def drain(worker: OutboxWorker, db: Database) -> None:
    """Deliver everything, bringing retries forward instead of waiting for their backoff."""
    for _ in range(20):
        with db.session() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.status == "pending")
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        worker.run_once()
        if not pending(db):
            return
    raise AssertionError("the outbox did not drain")
