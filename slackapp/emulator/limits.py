"""Per-channel rate limits and injected faults for Web API methods.

Slack allows about one chat.postMessage per second per channel and answers
HTTP 429 with ``Retry-After`` past that; Steward's outbox is built around it, so
tests need a way to switch the same behaviour on. Faults let tests and
benchmarks simulate outages (``ok: false`` errors or HTTP 5xx) for the next N
calls of a method.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


class RateLimiter:
    """A sliding-window limit per (method, channel).

    ``per_channel_per_sec`` of N (N >= 1) admits floor(N) calls in any 1 s
    window; a rate below 1 admits one call per 1/rate seconds. Refused calls do
    not count, as with Slack.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, float] = {}
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def configure(self, method: str, per_channel_per_sec: float | None) -> None:
        with self._lock:
            if not per_channel_per_sec:
                self._rates.pop(method, None)
            else:
                self._rates[method] = float(per_channel_per_sec)
            for key in [k for k in self._hits if k[0] == method]:
                del self._hits[key]

    def rates(self) -> dict[str, float]:
        with self._lock:
            return dict(self._rates)

    def clear(self) -> None:
        with self._lock:
            self._rates.clear()
            self._hits.clear()

    def check(self, method: str, channel: str) -> int | None:
        """Record a call; return None if allowed, else Retry-After in whole seconds (>= 1)."""
        with self._lock:
            rate = self._rates.get(method)
            if rate is None:
                return None
            allowed = max(1, math.floor(rate))
            window = allowed / rate
            now = time.monotonic()
            hits = self._hits.setdefault((method, channel), deque())
            while hits and now - hits[0] >= window:
                hits.popleft()
            if len(hits) >= allowed:
                wait = hits[0] + window - now
                return max(1, math.ceil(wait))
            hits.append(now)
            return None


@dataclass
class Fault:
    """One injected failure, used ``times`` times, or for every call during ``for_seconds``.

    ``delay`` holds the call that long first; with no ``error`` or ``status`` the call
    then goes ahead as usual, so a client with a shorter timeout sees a timeout while
    Slack did the work (the case that makes a retry post twice unless it looks first).
    """

    error: str | None
    status: int | None
    times: int
    retry_after: int | None = None
    delay: float = 0.0
    for_seconds: float | None = None
    used: int = field(default=0)
    ends_at: float | None = field(default=None)

    @property
    def fails(self) -> bool:
        """Whether the call gets an error answer (not only a delay)."""
        return self.error is not None or self.status is not None

    def use(self, now: float) -> bool:
        """Count one call against the fault; True when the fault is used up."""
        self.used += 1
        if self.for_seconds is None:
            return self.used >= self.times
        if self.ends_at is None:  # the outage starts with the first call it meets
            self.ends_at = now + self.for_seconds
        return now >= self.ends_at

    def pending(self) -> dict[str, Any]:
        """The fault as `state()` lists it; delay and duration only when they are set."""
        shown: dict[str, Any] = {
            "error": self.error,
            "status": self.status,
            "remaining": self.times - self.used,
        }
        if self.delay:
            shown["delay"] = self.delay
        if self.for_seconds is not None:
            shown["for_seconds"] = self.for_seconds
        return shown

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        status = self.status or 200
        headers: dict[str, str] = {}
        if status == 429:
            headers["Retry-After"] = str(self.retry_after or 1)
        if self.error:
            error = self.error
        elif status == 429:
            error = "ratelimited"
        else:
            error = "fatal_error" if status >= 500 else f"http_{status}"
        return status, {"ok": False, "error": error}, headers


class Faults:
    """Queued faults per method; ``*`` matches every method."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[Fault]] = {}

    def add(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        for_seconds: float | None = None,
    ) -> None:
        if not method:
            raise ValueError("method is required")
        if error is None and status is None and not delay:
            raise ValueError("give error, status or delay")
        if status is not None and not 200 <= int(status) <= 599:
            raise ValueError("status must be an HTTP status code")
        if int(times) < 1:
            raise ValueError("times must be at least 1")
        if float(delay) < 0 or (for_seconds is not None and float(for_seconds) <= 0):
            raise ValueError("delay must be >= 0 and for_seconds > 0")
        seconds = float(for_seconds) if for_seconds is not None else None
        fault = Fault(
            error, int(status) if status else None, int(times), retry_after, float(delay), seconds
        )
        with self._lock:
            self._queues.setdefault(method, []).append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if any, counting it down."""
        now = time.monotonic()
        with self._lock:
            for key in (method, "*"):
                queue = self._queues.get(key)
                while queue:
                    fault = queue[0]
                    if fault.use(now):
                        queue.pop(0)
                        if fault.for_seconds is not None:
                            continue  # the outage is over: this call meets the next fault
                    return fault
            return None

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {
                method: [f.pending() for f in queue]
                for method, queue in self._queues.items()
                if queue
            }

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
