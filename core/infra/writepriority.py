"""Who goes first for SQLite's one write lock: a Slack ack before a batch of mail.

SQLite lets one writer in at a time, and a writer that finds the lock taken
sleeps in SQLite's busy handler (1, 2, 5, ... up to 100 ms between tries). The
mail storage process commits group after group while conduct@ is flooded, so a
Slack handler waiting for the lock could lose it to the next group again and
again, and an ack that should take milliseconds took hundreds.

Within a process, writers queue on `WriterQueue`, where an interactive writer
(one inside `Database.interactive()`: a Slack ack) passes the background ones.
Between processes there is a second, advisory lock on a side file next to the
database (`<database>-priority`): an interactive writer holds it from before it
queues until it commits, and the storage process takes and at once releases it
before each transaction (`give_way`). So while a Slack writer waits, no new mail
transaction starts: the writer waits for at most the one in progress (at most 8
messages, `mailgateway.storage`). The storage process is not starved: it goes on
when no interactive writer is waiting, or after `GIVE_WAY_MAX_SECONDS` at most.

`flock` locks belong to an open file, so they work between processes and are
released by the kernel if a holder dies. They are advisory: only Steward's
processes look at them. PostgreSQL has no single write lock, so there is nothing
to give way to and `for_url` returns None.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

SUFFIX = "-priority"
# The longest the storage process waits for interactive writers before each transaction.
GIVE_WAY_MAX_SECONDS = 0.5
POLL_SECONDS = 0.001


class WritePriority:
    """The advisory lock on `<database>-priority`; one open file per instance.

    Several interactive writers of one process may claim it at once (one waits for the
    in-process writer queue while another writes): the file is locked by the first
    claim and unlocked when the last one ends.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._claims = 0
        self._mutex = threading.Lock()

    @classmethod
    def for_url(cls, url: str) -> WritePriority | None:
        """The priority lock of a SQLite database file; None where writers do not share
        one lock (PostgreSQL) or no other process can reach the database (in memory)."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        return cls(Path(parsed.database + SUFFIX))

    @contextmanager
    def claimed(self) -> Iterator[None]:
        """Hold priority for the block: the storage process starts no new transaction
        until every claim has ended (or it has waited `GIVE_WAY_MAX_SECONDS`)."""
        with self._mutex:
            if self._claims == 0:
                # The storage process holds the lock only for an instant (`give_way`).
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            self._claims += 1
        try:
            yield
        finally:
            with self._mutex:
                self._claims -= 1
                if self._claims == 0:
                    fcntl.flock(self._file(), fcntl.LOCK_UN)

    def give_way(self, max_wait: float = GIVE_WAY_MAX_SECONDS) -> float:
        """Wait while an interactive writer holds priority, but at most `max_wait` seconds,
        so a steady stream of Slack writes slows mail storage without starving it.
        Returns the seconds waited."""
        began = time.monotonic()
        fd = self._file()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = time.monotonic() - began
                if waited >= max_wait:
                    return waited
                time.sleep(POLL_SECONDS)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return time.monotonic() - began

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd


class WriterQueue:
    """This process's writers, one at a time (re-entrant per thread), interactive first.

    SQLite takes one writer at a time. Queueing the writers of one process here is far
    faster than letting them collide and back off in SQLite's busy handler; and while
    an interactive writer waits, background writers (outbox, case opening) let it pass,
    so a Slack ack waits for at most the transaction in progress.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._interactive_waiting = 0

    def held_here(self) -> bool:
        """Whether the calling thread is already inside a turn (a nested unit of work)."""
        return self._owner == threading.get_ident()

    @contextmanager
    def turn(self, interactive: bool) -> Iterator[None]:
        self._acquire(interactive)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, interactive: bool) -> None:
        me = threading.get_ident()
        with self._ready:
            if self._owner == me:
                self._depth += 1
                return
            if interactive:
                self._interactive_waiting += 1
            try:
                while self._owner is not None or (
                    not interactive and self._interactive_waiting > 0
                ):
                    self._ready.wait()
            finally:
                if interactive:
                    self._interactive_waiting -= 1
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._ready:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._ready.notify_all()
