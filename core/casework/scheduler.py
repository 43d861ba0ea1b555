"""The worker's deadline scheduler: APScheduler wakes it, the deadline rows decide.

One APScheduler 3 `BackgroundScheduler` per worker, always with the in-memory
job store: APScheduler 3 job stores must never be shared between schedulers,
and they need not be, because the jobs are rebuilt from the deadline rows:

- at start, every pending row gets a job; a row already past due runs at once,
  so a deadline missed while the worker was down fires when it starts, once;
- every `scheduler_resync_seconds`, the rows are read again, so deadlines
  added or moved by other processes (mail, web: a new case, a snooze, a reopened
  case, an extended ban) get their job added, moved or dropped.

Each job calls `followups.fire` in its own transaction, which claims the row
with a conditional update: two workers started by mistake still give one effect.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from core.casework import followups
from core.infra import metrics
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.logs import about
from core.infra.models import Deadline
from core.infra.settings import Settings

log = logging.getLogger(__name__)

RESYNC_JOB = "deadlines:resync"


def job_id(deadline_id: int) -> str:
    return f"deadline:{deadline_id}"


class DeadlineScheduler:
    """Keeps one in-memory APScheduler job per pending deadline row, and fires them."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        on_fired: Callable[[], None] | None = None,
        resync_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.on_fired = on_fired
        self.resync_seconds = resync_seconds or settings.scheduler_resync_seconds
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._scheduled: dict[int, datetime] = {}
        self._lock = threading.Lock()
        # Held while a job adds or removes jobs, and by `stop` while it says it is stopping:
        # see `stop` for why.
        self._jobs_lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        """Rebuild the jobs from the rows, then keep them in step with the rows."""
        # APScheduler logs every run at INFO, which with a resync every few seconds
        # drowns the log; firings are logged here, by id, kind and case reference.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)
        with self._jobs_lock:
            self._stopping = False
        self.scheduler.start()
        count = self.sync()
        self.scheduler.add_job(
            self.sync,
            "interval",
            seconds=self.resync_seconds,
            id=RESYNC_JOB,
            replace_existing=True,
        )
        log.info("deadline scheduler started with %s pending deadlines", count)

    def stop(self) -> None:
        """Stop firing, after the jobs already running have finished.

        APScheduler 3's `shutdown(wait=True)` holds its job store lock while it waits
        for running jobs, and a running resync or firing adds and removes jobs, which
        takes that lock: the two would wait for each other for ever. So running jobs are
        told first, under a lock of our own, to leave the job store alone; their rows stay
        pending and the next start schedules them again."""
        with self._jobs_lock:
            self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    @property
    def scheduled(self) -> dict[int, datetime]:
        """Deadline id -> due time of the jobs this scheduler holds (for tests and doctor)."""
        with self._lock:
            return dict(self._scheduled)

    def sync(self) -> int:
        """Make the jobs match the pending rows: add new, move changed, drop gone."""
        query = select(Deadline.id, Deadline.due_at).where(
            Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None)
        )
        try:
            with self.db.session() as session:
                rows = {row.id: row.due_at for row in session.execute(query)}
        except Exception:  # the database may be briefly unavailable: try at the next resync
            log.exception("deadline resync failed")
            return len(self._scheduled)
        with self._lock:
            known = dict(self._scheduled)
        for deadline_id, due_at in rows.items():
            if known.get(deadline_id) != due_at:
                self._schedule(deadline_id, due_at)
        for deadline_id in set(known) - set(rows):
            self._unschedule(deadline_id)
        return len(rows)

    def _schedule(self, deadline_id: int, due_at: datetime) -> None:
        run_at = max(due_at, utcnow())
        with self._jobs_lock:
            if self._stopping:
                return
            self.scheduler.add_job(
                self._fire,
                "date",
                run_date=run_at,
                args=[deadline_id],
                id=job_id(deadline_id),
                replace_existing=True,
            )
        with self._lock:
            self._scheduled[deadline_id] = due_at

    def _unschedule(self, deadline_id: int) -> None:
        with self._lock:
            self._scheduled.pop(deadline_id, None)
        with self._jobs_lock, contextlib.suppress(JobLookupError):  # it may have run already
            if not self._stopping:
                self.scheduler.remove_job(job_id(deadline_id))

    def _fire(self, deadline_id: int) -> None:
        try:
            with self.db.session() as session:
                result = followups.fire(session, self.settings, deadline_id)
        except Exception:
            # Forget the job so the next resync schedules the row again, at once.
            log.exception(
                "deadline %s could not be fired; it will be retried",
                deadline_id,
                extra=about(deadline_id=deadline_id),
            )
            with self._lock:
                self._scheduled.pop(deadline_id, None)
            return
        if result.outcome in (followups.NOT_DUE, followups.MOVED) and result.due_at:
            self._schedule(deadline_id, result.due_at)
            return
        with self._lock:
            self._scheduled.pop(deadline_id, None)
        if result.outcome != followups.FIRED:
            return
        metrics.DEADLINES_FIRED.labels(kind=result.kind or "unknown").inc()
        if self.on_fired is not None:
            self.on_fired()
