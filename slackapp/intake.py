"""Filing report forms: commit the submission first, open its case right after.

Slack closes the modal when we answer. Committing the submission as one small
row before answering keeps the promise that a closed modal means a stored
report, while the heavier work of opening the case happens a moment later on
one background thread, so answers stay fast under load. A submission left
unprocessed by a crash is processed when the service starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.clock import utcnow
from core.db import Database
from core.models import Submission
from slackapp.blocks.report_form import ReportAnswers
from slackapp.context import SlackContext

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class _Waiting:
    """One submission waiting for the next group commit."""

    key: str
    payload: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    stored: bool = False
    failed: BaseException | None = None


class SubmissionJournal:
    """Commits report forms in groups: every submission that arrives while one commit is
    under way goes into the next, so a burst of fifty costs a few commits, not fifty.

    Each caller still waits until its own row is committed before it answers Slack.
    """

    def __init__(self, db: Database, timeout: float = 10.0) -> None:
        self.db = db
        self.timeout = timeout
        self._waiting: list[_Waiting] = []
        self._ready = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="journal", daemon=True)
        self._thread.start()

    def record(self, key: str, payload: dict[str, Any]) -> bool:
        """Store one submission; False if the same submission was stored before."""
        waiting = _Waiting(key, payload)
        with self._ready:
            self._waiting.append(waiting)
            self._ready.notify()
        if not waiting.done.wait(self.timeout):
            raise TimeoutError("the submission could not be stored in time")
        if waiting.failed is not None:
            raise waiting.failed
        return waiting.stored

    def close(self) -> None:
        with self._ready:
            self._stop = True
            self._ready.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._stop:
                    self._ready.wait()
                if self._stop and not self._waiting:
                    return
                group, self._waiting = self._waiting, []
            self._commit(group)

    def _commit(self, group: list[_Waiting]) -> None:
        try:
            self._insert_new(group)
        except IntegrityError:
            # Another process stored one of these at the same moment: one by one instead.
            for waiting in group:
                try:
                    self._insert_new([waiting])
                except IntegrityError:
                    waiting.stored = False
                except Exception as exc:  # noqa: BLE001 - handed back to the waiting caller
                    waiting.failed = exc
        except Exception as exc:  # noqa: BLE001 - handed back to the waiting callers
            for waiting in group:
                waiting.failed = exc
        for waiting in group:
            waiting.done.set()

    def _insert_new(self, group: list[_Waiting]) -> None:
        with self.db.connection() as conn:
            keys = [w.key for w in group]
            known = set(conn.scalars(select(Submission.key).where(Submission.key.in_(keys))))
            rows, seen = [], set()
            for waiting in group:
                waiting.stored = waiting.key not in known and waiting.key not in seen
                seen.add(waiting.key)
                if waiting.stored:
                    rows.append({"source": "slack", "key": waiting.key, "payload": waiting.payload})
            if rows:
                conn.execute(insert(Submission), rows)


def record_submission(
    ctx: SlackContext, key: str, user: str, answers: ReportAnswers, snapshot: str | None
) -> bool:
    """Store the submission before Slack is answered; False if it was stored before."""
    payload = {"user": user, "answers": asdict(answers), "snapshot": snapshot}
    return ctx.journal.record(key, payload)


class SubmissionProcessor:
    """Opens cases from stored submissions, oldest first, on its own thread."""

    def __init__(
        self, ctx: SlackContext, poll_interval: float = 2.0, quiet_for: float = 0.05
    ) -> None:
        self.ctx = ctx
        self.poll_interval = poll_interval
        self.quiet_for = quiet_for
        self._last_submission = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._last_submission = time.monotonic()
        self._wake.set()

    def _wait_for_a_lull(self) -> None:
        """During a burst of submissions, answering Slack comes first: open the cases once
        the burst pauses (at most a few seconds later), so acks never queue behind them."""
        deadline = time.monotonic() + 5.0
        while time.monotonic() - self._last_submission < self.quiet_for:
            if time.monotonic() > deadline or self._stop.is_set():
                return
            time.sleep(self.quiet_for)

    def process_pending(self) -> int:
        """Process every waiting submission; returns how many cases were opened."""
        from slackapp.handlers.reporting import file_case

        opened = 0
        with self._lock:
            for submission_id in self._pending_ids():
                self._wait_for_a_lull()
                try:
                    with self.ctx.db.session() as session:
                        row = session.get(Submission, submission_id)
                        if row is None or row.processed_at is not None:
                            continue
                        payload = dict(row.payload)
                        row.case_id = file_case(
                            self.ctx,
                            session,
                            payload["user"],
                            ReportAnswers(**payload["answers"]),
                            row.key,
                            payload.get("snapshot"),
                        )
                        row.processed_at = utcnow()
                        opened += 1
                except Exception as exc:  # noqa: BLE001 - keep the rest of the queue moving
                    self._failed(submission_id, exc)
        return opened

    def _pending_ids(self) -> list[int]:
        with self.ctx.db.session() as session:
            return list(
                session.scalars(
                    select(Submission.id)
                    .where(Submission.processed_at.is_(None))
                    .where(Submission.attempts < MAX_ATTEMPTS)
                    .order_by(Submission.id)
                )
            )

    def _failed(self, submission_id: int, exc: Exception) -> None:
        log.exception("could not open a case from submission %s", submission_id)
        with self.ctx.db.session() as session:
            row = session.get(Submission, submission_id)
            if row is not None:
                row.attempts += 1
                row.last_error = type(exc).__name__

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="submissions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self.ctx.journal is not None:
            self.ctx.journal.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.process_pending()
            except Exception:  # noqa: BLE001
                log.exception("submission processing failed")
            self._wake.wait(self.poll_interval)
            self._wake.clear()
