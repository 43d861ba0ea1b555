"""Where parsed mail is committed: in the gateway's own process, or in a storage process.

Taking in a message is two halves of about equal weight: the SMTP conversation
and parsing, then writing the record. In one Python process they share one core.
`StorageProcess` moves the writing to a child process of its own, so the halves
run side by side on two cores, and the database still has one writer per
gateway. The SMTP front waits for the child's answer before it says 250, so the
promise "250 means committed" is unchanged.

A child that dies, or gives no answer for two minutes, is replaced for the next
group; the group it was working on gets 451, and the senders' servers deliver
those messages again (deduplicated by Message-ID, so a group the child committed
just before dying is stored once).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any, Protocol

from core.infra import crypto
from core.infra.db import Database
from core.infra.privacy import configure_logging
from core.infra.settings import Settings
from mailgateway.ingest import Envelope, MailIngest, Outcome
from mailgateway.parsing import ParsedMail

log = logging.getLogger(__name__)

Group = Sequence[tuple[ParsedMail, Envelope]]

# Longer than any honest wait (SQLite's busy timeout is 30 s): past it the child is
# taken to be stuck, is replaced, and its group is answered 451.
ANSWER_TIMEOUT_SECONDS = 120.0
# The most messages one transaction of the storage process holds SQLite's write lock for.
# A group of this size still shares one sync; a flood's larger groups are split, so a
# waiting Slack ack waits for a few milliseconds of work, not a few hundred.
TRANSACTION_MESSAGES = 8


class Storage(Protocol):
    """Commits a group of parsed messages; one outcome per message, in order."""

    def start(self) -> None: ...

    def store_many(self, items: Group) -> list[Outcome]: ...

    def close(self) -> None: ...


class StorageFailed(RuntimeError):
    """A message could not be stored. Names only the kind of error, never the content."""


class InProcessStorage:
    """Commits in the gateway's own process (tests, and `steward run` on small desks)."""

    def __init__(self, ingest: MailIngest) -> None:
        self.ingest = ingest

    def start(self) -> None:
        pass

    def store_many(self, items: Group) -> list[Outcome]:
        return self.ingest.store_many(items)

    def close(self) -> None:
        pass


class StorageProcess:
    """Commits in a child process; see the module docstring for why."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._pipe: Connection | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._ensure_running()

    def store_many(self, items: Group) -> list[Outcome]:
        with self._lock:
            try:
                pipe = self._ensure_running()
                pipe.send(list(items))
                if not pipe.poll(ANSWER_TIMEOUT_SECONDS):
                    raise TimeoutError("no answer from the storage process")
                return list(pipe.recv())
            except (EOFError, OSError) as exc:  # TimeoutError is an OSError
                log.error(
                    "the storage process stopped (%s); it will be restarted", type(exc).__name__
                )
                self._discard()
                failed = StorageFailed("the storage process stopped")
                return [failed] * len(items)

    def close(self) -> None:
        with self._lock:
            if self._pipe is not None:
                with contextlib.suppress(OSError):
                    self._pipe.send(None)
            if self._process is not None:
                self._process.join(timeout=10)
                if self._process.is_alive():
                    self._process.kill()
            self._discard()

    def _ensure_running(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._pipe is not None:
            return self._pipe
        self._discard()
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=_serve, args=(theirs, self.settings), name="steward-mail-storage", daemon=True
        )
        self._process.start()
        theirs.close()
        self._pipe = ours
        return ours

    def _discard(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        self._process = None
        self._pipe = None


def _serve(pipe: Connection, settings: Settings) -> None:
    """The storage process: commit each group it is sent, answer with its outcomes.

    Ctrl-C and a process manager's SIGTERM reach the whole process group. The child
    leaves shutting down to its parent (which finishes the group in hand, then sends
    None), and exits by itself if the parent vanishes (the pipe closes).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging()
    crypto.install(crypto.parse_keys(settings.encryption_key))
    db = Database(settings.database_url)
    ingest = MailIngest(db, settings)
    try:
        while True:
            try:
                group = pipe.recv()
            except EOFError:
                return
            if group is None:
                return
            pipe.send([_portable(outcome) for outcome in _store_giving_way(ingest, db, group)])
    finally:
        db.dispose()


def _store_giving_way(ingest: MailIngest, db: Database, group: Group) -> list[Outcome]:
    """Commit `group` in transactions of at most `TRANSACTION_MESSAGES`, each started only
    once no interactive writer (a Slack ack) is waiting for SQLite's lock: such a writer
    then waits for one short transaction, not for a flood's whole group."""
    outcomes: list[Outcome] = []
    for start in range(0, len(group), TRANSACTION_MESSAGES):
        if db.write_priority is not None:
            db.write_priority.give_way()
        outcomes.extend(ingest.store_many(group[start : start + TRANSACTION_MESSAGES]))
    return outcomes


def _portable(outcome: Outcome) -> Outcome:
    """Errors cross the pipe as their kind only: database errors carry statements and may
    not survive pickling, and nothing about a report may leave in an error."""
    if isinstance(outcome, Exception):
        return StorageFailed(f"could not store the message ({type(outcome).__name__})")
    return outcome
