"""Pacing posts to a Slack channel once Slack has said they come too fast there.

Slack lets an app post about one message per second per channel. A burst of
new cases (a flooded mailbox) would otherwise meet a 429 on almost every post,
and each refused row would be retried later, out of order. So the first 429 on
a channel is waited out in place (the outbox worker delivers rows one at a
time, in order), and for a while afterwards posts to that channel are spaced
by `interval`, which keeps refusals to about one per burst (`bench/email_to_thread.py`).
A channel that has not been refused lately is not paced at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

INTERVAL = 1.1  # seconds between posts to a paced channel; Slack allows about one a second
MEMORY = 60.0  # seconds a channel stays paced after its last 429
LONGEST_WAIT = 30.0  # a longer Retry-After is left to the outbox's own retry


class ChannelPacer:
    def __init__(
        self,
        interval: float = INTERVAL,
        memory: float = MEMORY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.memory = memory
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._paced_until: dict[str, float] = {}

    def wait(self, channel: str) -> None:
        """Wait for this channel's next turn, if it is being paced."""
        with self._lock:
            now = self._clock()
            if now >= self._paced_until.get(channel, 0.0):
                return
            turn = max(now, self._next.get(channel, 0.0))
            self._next[channel] = turn + self.interval
        if turn > now:
            self._sleep(turn - now)

    def posted(self, channel: str) -> None:
        """A post to the channel came back: count the interval from now, since Slack
        counted the post somewhere between sending it and this answer."""
        with self._lock:
            now = self._clock()
            if now < self._paced_until.get(channel, 0.0):
                self._next[channel] = max(self._next.get(channel, 0.0), now + self.interval)

    def refused(self, channel: str, retry_after: float) -> bool:
        """Slack said 429: pace the channel. True if the caller should wait and try again."""
        if retry_after > LONGEST_WAIT:
            return False
        with self._lock:
            now = self._clock()
            self._next[channel] = now + retry_after
            self._paced_until[channel] = now + retry_after + self.memory
        return True
