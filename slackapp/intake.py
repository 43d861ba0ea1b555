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
from dataclasses import asdict

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.clock import utcnow
from core.models import Submission
from slackapp.blocks.report_form import ReportAnswers
from slackapp.context import SlackContext

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def record_submission(
    ctx: SlackContext, key: str, user: str, answers: ReportAnswers, snapshot: str | None
) -> bool:
    """Store the submission; False if this exact submission was stored before."""
    payload = {"user": user, "answers": asdict(answers), "snapshot": snapshot}
    try:
        with ctx.db.connection() as conn:
            conn.execute(insert(Submission).values(source="slack", key=key, payload=payload))
    except IntegrityError:
        return False
    return True


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

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._wait_for_a_lull()
                self.process_pending()
            except Exception:  # noqa: BLE001
                log.exception("submission processing failed")
            self._wake.wait(self.poll_interval)
            self._wake.clear()
