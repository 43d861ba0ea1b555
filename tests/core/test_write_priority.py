"""Who goes first for SQLite's one write lock: interactive writers, across threads and processes."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.infra.db import Database
from core.infra.models import Submission
from core.infra.writepriority import SUFFIX, WritePriority, WriterQueue


def _give_way_in_a_process(
    path: str, max_wait: float, started: Any, waited: multiprocessing.Queue
) -> None:
    started.set()
    seconds = WritePriority(Path(path)).give_way(max_wait)
    waited.put((seconds, time.time()))


def _locked_elsewhere(path: Path) -> bool:
    """Whether another open file holds the priority lock (what the storage process sees)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_another_process_waits_until_priority_is_released(tmp_path: Path) -> None:
    priority = WritePriority(tmp_path / f"steward.db{SUFFIX}")
    context = multiprocessing.get_context("spawn")
    started, waited = context.Event(), context.Queue()
    with priority.claimed():
        child = context.Process(
            target=_give_way_in_a_process, args=(str(priority.path), 30.0, started, waited)
        )
        child.start()
        assert started.wait(30)
        time.sleep(0.5)
        assert waited.empty()  # still giving way
        released = time.time()
    seconds, finished = waited.get(timeout=30)
    child.join(10)
    assert finished >= released and 0.4 <= seconds < 30


def test_giving_way_is_bounded_so_mail_is_never_starved(tmp_path: Path) -> None:
    priority = WritePriority(tmp_path / f"steward.db{SUFFIX}")
    other = WritePriority(priority.path)
    with priority.claimed():
        began = time.monotonic()
        waited = other.give_way(max_wait=0.2)
        assert waited >= 0.2 and time.monotonic() - began < 5
    assert other.give_way(max_wait=10) < 1  # free: no wait at all


def test_overlapping_claims_keep_priority_until_the_last_one_ends(tmp_path: Path) -> None:
    priority = WritePriority(tmp_path / f"steward.db{SUFFIX}")
    with priority.claimed():
        with priority.claimed():
            assert _locked_elsewhere(priority.path)
        assert _locked_elsewhere(priority.path)
    assert not _locked_elsewhere(priority.path)


def test_an_interactive_writer_goes_before_waiting_background_writers() -> None:
    queue = WriterQueue()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def writer(name: str, interactive: bool, hold: bool = False) -> None:
        with queue.turn(interactive):
            order.append(name)
            if hold:
                holding.set()
                release.wait(10)

    first = threading.Thread(target=writer, args=("outbox", False, True))
    first.start()
    holding.wait(10)
    background = threading.Thread(target=writer, args=("case opening", False))
    background.start()
    time.sleep(0.2)  # the background writer is queued first
    ack = threading.Thread(target=writer, args=("slack ack", True))
    ack.start()
    deadline = time.monotonic() + 10
    while queue._interactive_waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in (first, background, ack):
        thread.join(10)
    assert order == ["outbox", "slack ack", "case opening"]


def test_the_queue_is_reentrant_for_a_nested_unit_of_work() -> None:
    queue = WriterQueue()
    with queue.turn(False):
        assert queue.held_here()
        with queue.turn(True):
            assert queue.held_here()
        assert queue.held_here()
    assert not queue.held_here()


def test_interactive_sessions_hold_priority_until_they_commit(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL writers do not share one lock: no priority to hold")
    assert db.write_priority is not None
    path = db.write_priority.path
    with db.session() as session:  # a background writer asks nothing of mail storage
        session.add(Submission(source="slack", key="background", payload={}))
        assert not _locked_elsewhere(path)
    with db.interactive():
        with db.session() as session:
            session.add(Submission(source="slack", key="ack", payload={}))
            with db.session():  # nested: priority is not claimed twice
                assert _locked_elsewhere(path)
            assert _locked_elsewhere(path)
        assert not _locked_elsewhere(path)
        with db.connection() as conn:
            assert _locked_elsewhere(path)
            assert conn.scalar(Submission.__table__.select().with_only_columns(Submission.id))
    assert not _locked_elsewhere(path)


def test_postgresql_has_no_priority_and_interactive_writes_still_commit(db: Database) -> None:
    """On PostgreSQL `interactive()` only marks the thread; on SQLite in memory, likewise."""
    assert WritePriority.for_url("postgresql://steward@127.0.0.1:54329/steward") is None
    assert WritePriority.for_url("sqlite://") is None
    assert WritePriority.for_url("sqlite:///:memory:") is None
    if db.dialect == "postgresql":
        assert db.write_priority is None
    with db.interactive(), db.session() as session:
        session.add(Submission(source="slack", key="on any backend", payload={}))
    with db.session() as session:
        assert session.query(Submission).filter_by(key="on any backend").count() == 1
