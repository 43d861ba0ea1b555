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
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.infra import metrics
from core.infra.batching import GroupRunner
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.logs import about
from core.infra.models import Submission
from slackapp.blocks.report_form import ReportAnswers
from slackapp.context import SlackContext
from slackapp.files import Evidence, fetch_evidence

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class SubmissionJournal:
    """Commits report forms in groups: every submission that arrives while one commit is
    under way goes into the next, so a burst of fifty costs a few commits, not fifty.

    Each caller still waits until its own row is committed before it answers Slack.
    """

    def __init__(self, db: Database, timeout: float = 10.0) -> None:
        self.db = db
        self.timeout = timeout
        self._runner: GroupRunner[tuple[str, dict[str, Any]], bool] = GroupRunner(
            self._commit, name="journal"
        )

    def record(self, key: str, payload: dict[str, Any]) -> bool:
        """Store one submission; False if the same submission was stored before."""
        try:
            return self._runner.submit((key, payload)).result(self.timeout)
        except FutureTimeout:
            raise TimeoutError("the submission could not be stored in time") from None

    def close(self) -> None:
        self._runner.close()

    def _commit(self, group: list[tuple[str, dict[str, Any]]]) -> list[bool | BaseException]:
        # Members are waiting for these: on SQLite they go before background writers and
        # before mail storage's next transaction (core.infra.writepriority).
        with self.db.interactive():
            return self._commit_now(group)

    def _commit_now(self, group: list[tuple[str, dict[str, Any]]]) -> list[bool | BaseException]:
        try:
            return list(self._insert_new(group))
        except IntegrityError:
            # Another process stored one of these at the same moment: one by one instead.
            return [self._insert_alone(submission) for submission in group]

    def _insert_alone(self, submission: tuple[str, dict[str, Any]]) -> bool | BaseException:
        try:
            return self._insert_new([submission])[0]
        except IntegrityError:
            return False
        except Exception as exc:  # noqa: BLE001 - handed back to the waiting caller
            return exc

    def _insert_new(self, group: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        with self.db.connection() as conn:
            keys = [key for key, _ in group]
            known = set(conn.scalars(select(Submission.key).where(Submission.key.in_(keys))))
            rows, seen, stored = [], set(), []
            for key, payload in group:
                stored.append(key not in known and key not in seen)
                seen.add(key)
                if stored[-1]:
                    rows.append({"source": "slack", "key": key, "payload": payload})
            if rows:
                conn.execute(insert(Submission), rows)
            return stored


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
            for submission_id, payload in self._pending():
                self._wait_for_a_lull()
                try:
                    answers = ReportAnswers(**payload["answers"])
                    evidence = self._evidence(answers, payload.get("snapshot"))
                    with self.ctx.db.session() as session:
                        row = session.get(Submission, submission_id)
                        if row is None or row.processed_at is not None:
                            continue
                        row.case_id = file_case(
                            self.ctx,
                            session,
                            payload["user"],
                            answers,
                            row.key,
                            payload.get("snapshot"),
                            evidence,
                        )
                        row.processed_at = utcnow()
                    opened += 1
                    metrics.REPORTS.labels(source="slack").inc()
                except Exception as exc:  # noqa: BLE001 - keep the rest of the queue moving
                    self._failed(submission_id, exc)
        return opened

    def _evidence(self, answers: ReportAnswers, snapshot_token: str | None) -> Evidence:
        """Files are fetched before the case's transaction opens, never under its lock."""
        from slackapp.handlers.reporting import wait_for_snapshot_files

        if snapshot_token:
            wait_for_snapshot_files(self.ctx, snapshot_token)
        return fetch_evidence(self.ctx.client, self.ctx.settings, answers.files)

    def _pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Waiting submissions with their forms: files can be fetched before each case's
        transaction without reading the row twice."""
        with self.ctx.db.session() as session:
            rows = session.execute(
                select(Submission.id, Submission.payload)
                .where(Submission.processed_at.is_(None))
                .where(Submission.attempts < MAX_ATTEMPTS)
                .order_by(Submission.id)
            )
            return [(row.id, dict(row.payload)) for row in rows]

    def _failed(self, submission_id: int, exc: Exception) -> None:
        log.exception(
            "could not open a case from submission %s",
            submission_id,
            extra=about(submission_id=submission_id),
        )
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
