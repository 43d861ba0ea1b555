"""`/healthz`, `/readyz` and `/metrics`: what a process manager and Prometheus ask.

- `/healthz` says the process is alive and answering; it touches nothing else,
  so a slow database never gets a live process restarted.
- `/readyz` says whether the process can do its work: the database answers
  and has Steward's schema, and the oldest undelivered outbox row is younger
  than `STEWARD_READY_MAX_OUTBOX_AGE_SECONDS` (a stuck outbox means reports
  are recorded but nobody hears of them). 503 when not ready, naming the check
  that failed (`failed`: database, schema or outbox) and why. The answer comes
  within `READY_TIMEOUT_SECONDS` even when the database hangs instead of
  refusing: a probe that times out is itself a failure, and a check still
  running is waited on by the next probe rather than started again.
- `/metrics` is the Prometheus text of `core.infra.metrics`.

Served on the web port by `slackapp.web`, and on a small port of their own by
the mail gateway and the worker. Answers carry counts and ages, never content.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from core.infra import metrics
from core.infra.db import Database

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")

# Process managers probe every few seconds and give up on a probe after a few more:
# an answer later than this is worth less than a prompt "not ready".
READY_TIMEOUT_SECONDS = 2.0

Readiness = tuple[bool, dict[str, Any]]


@dataclass
class Health:
    """What one process reports about itself; `details` adds process-specific facts
    (e.g. whether this worker holds the scheduler)."""

    db: Database
    max_outbox_age: float
    details: Callable[[], dict[str, Any]] = field(default=lambda: {})
    timeout: float = READY_TIMEOUT_SECONDS
    _running: Future[Readiness] | None = field(default=None, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def readiness(self) -> Readiness:
        """Ready or not, and the facts behind the answer, within `timeout` seconds."""
        with self._guard:
            if self._running is None or self._running.done():
                self._running = Future()
                threading.Thread(
                    target=self._check_into,
                    args=(self._running,),
                    name="steward-readiness",
                    daemon=True,
                ).start()
            running = self._running
        try:
            return running.result(timeout=self.timeout)
        except FutureTimeout:
            return False, {
                "ready": False,
                "failed": "database",
                "reason": f"database did not answer within {self.timeout:g} s",
            }

    def _check_into(self, answer: Future[Readiness]) -> None:
        """Runs in a thread of its own, so a hung database delays no probe."""
        try:
            answer.set_result(self.check())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting probe
            answer.set_exception(exc)

    def check(self) -> Readiness:
        """The checks themselves, for as long as the database takes to answer."""
        try:
            if not self.db.has_schema():
                return False, {
                    "ready": False,
                    "failed": "schema",
                    "reason": "no schema: run `steward db upgrade`",
                }
            backlog = metrics.outbox_backlog(self.db)
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            return False, {
                "ready": False,
                "failed": "database",
                "reason": f"database unreachable ({type(exc).__name__})",
            }
        pending = sum(count for count, _ in backlog.values())
        oldest = max((age for _, age in backlog.values()), default=0.0)
        body: dict[str, Any] = {
            "ready": True,
            "database": "ok",
            "outbox_backlog": pending,
            "outbox_oldest_pending_seconds": round(oldest, 1),
            "outbox_by_channel": {
                channel: {"backlog": count, "oldest_pending_seconds": round(age, 1)}
                for channel, (count, age) in sorted(backlog.items())
            },
            **self.details(),
        }
        if self.max_outbox_age and oldest > self.max_outbox_age:
            body["ready"] = False
            body["failed"] = "outbox"
            body["reason"] = (
                f"the oldest outbox row has waited {oldest:.0f} s "
                f"(limit {self.max_outbox_age:g} s): check Slack and the mail relay"
            )
        return body["ready"], body

    def wsgi(self, fallback: WSGIApp | None = None) -> WSGIApp:
        """The three routes, handing every other path to `fallback` (or 404)."""

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/healthz":
                return _json(start_response, "200 OK", {"ok": True})
            if path == "/readyz":
                ready, body = self.readiness()
                return _json(start_response, "200 OK" if ready else "503 Service Unavailable", body)
            if path == "/metrics":
                return _metrics(self.db, start_response)
            if fallback is not None:
                return fallback(environ, start_response)
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]

        return app


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def _metrics(db: Database, start_response: StartResponse) -> list[bytes]:
    text = metrics.exposition(db)
    start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE)])
    return [text]
