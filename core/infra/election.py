"""Exactly one deadline scheduler per database, however many workers run.

APScheduler 3 job stores must never be shared between schedulers, and two
schedulers would each wake for every deadline (the conditional update keeps the
effect single, but not the work). On PostgreSQL the workers elect one: each
tries `pg_try_advisory_lock` on a connection of its own, held for as long as
the process lives. The holder runs the scheduler; the others deliver the outbox
only and try again every `poll_seconds`. When the holder dies, even by
`kill -9`, PostgreSQL ends its session and frees the lock, and the next try of
another worker wins: the deadlines are rebuilt from the rows, so nothing is
lost in the handover. A leader whose session PostgreSQL ended (a restart, a
network cut) learns it at its next check, within `poll_seconds`, and stops its
scheduler; in that moment two may run, and the conditional update on the
deadline row still gives each deadline one effect.

On SQLite there is one machine and, by design, one worker: no election, the
worker's scheduler simply runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Connection, text

from core.infra.db import Database

log = logging.getLogger(__name__)

# The advisory lock's key: any 64-bit number no other application on the database uses.
SCHEDULER_LOCK = 0x5354_5744_5343_4844  # "STWDSCHD"

LEADER, STANDBY, SINGLE = "elected", "standby", "single"


class Startable(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class SchedulerElection:
    """Runs the scheduler `make_scheduler` builds while, and only while, it holds the lock."""

    def __init__(
        self,
        db: Database,
        make_scheduler: Callable[[], Startable],
        *,
        poll_seconds: float = 1.0,
        lock_key: int = SCHEDULER_LOCK,
    ) -> None:
        self.db = db
        self.make_scheduler = make_scheduler
        self.poll_seconds = poll_seconds
        self.lock_key = lock_key
        self.scheduler: Startable | None = None
        self._connection: Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def role(self) -> str:
        if self.db.dialect != "postgresql":
            return SINGLE
        return LEADER if self.scheduler is not None else STANDBY

    def details(self) -> dict[str, Any]:
        """For `/readyz`: whether this process fires the deadlines."""
        return {"scheduler": self.role}

    def start(self) -> None:
        if self.db.dialect != "postgresql":
            self._lead()
            return
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._step_down()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._connection is None:
                self._try_to_lead()
            elif not self._still_holding():
                log.warning("lost the database session holding the scheduler lock; standing by")
                self._step_down()
            self._stop.wait(self.poll_seconds)

    def _try_to_lead(self) -> None:
        try:
            connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:  # noqa: BLE001 - the database may be down: try again later
            log.warning("scheduler election: database unavailable (%s)", type(exc).__name__)
            return
        try:
            won = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key}
            ).scalar()
        except Exception as exc:  # noqa: BLE001
            log.warning("scheduler election failed (%s)", type(exc).__name__)
            won = False
        if not won:
            _discard(connection)
            return
        self._connection = connection
        log.info("elected to run the deadline scheduler")
        try:
            self._lead()
        except Exception:  # a scheduler that cannot start must not keep the lock
            log.exception("the deadline scheduler could not start; standing down")
            self._step_down()

    def _still_holding(self) -> bool:
        """The lock lives as long as the session: a session that answers still holds it."""
        assert self._connection is not None
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means the session is gone
            return False

    def _lead(self) -> None:
        scheduler = self.make_scheduler()
        scheduler.start()
        self.scheduler = scheduler

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self._connection is not None:
            _discard(self._connection, unlock=self.lock_key)
            self._connection = None


def _discard(connection: Connection, unlock: int | None = None) -> None:
    """Close the session for good (not back to the pool, where it would keep the lock)."""
    try:
        if unlock is not None:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": unlock})
    except Exception:  # noqa: BLE001 - closing the session frees the lock anyway
        pass
    try:
        connection.invalidate()
        connection.close()
    except Exception:  # noqa: BLE001
        pass
