"""Group commit: many callers' work done in groups, on one thread.

Whatever arrives while a group is being worked on forms the next group. Under
load, the cost paid once per group (a transaction and its commit) is shared by
everyone in it; when things are quiet, a lone item goes at once, without waiting
for company. Each caller still gets its own outcome, and only after its group's
work is done, which is what lets adapters promise "stored" before they answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class GroupRunner(Generic[Item, Outcome]):
    """Runs `work` over groups of submitted items; one outcome per item, in order.

    An outcome that is an exception is raised to that item's caller alone; if
    `work` itself raises, every caller in the group gets the error.
    """

    def __init__(
        self,
        work: Callable[[list[Item]], Sequence[Outcome | BaseException]],
        name: str,
        max_group: int = 64,
    ) -> None:
        self.work = work
        self.max_group = max_group
        self._waiting: list[tuple[Item, Future[Outcome]]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("this group runner has been closed")
            self._waiting.append((item, future))
            self._ready.notify()
        return future

    def close(self) -> None:
        """Finish what was submitted, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                group = self._waiting[: self.max_group]
                del self._waiting[: self.max_group]
            self._run(group)

    def _run(self, group: list[tuple[Item, Future[Outcome]]]) -> None:
        try:
            outcomes = list(self.work([item for item, _ in group]))
            if len(outcomes) != len(group):
                raise RuntimeError("group work returned the wrong number of outcomes")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            log.error("group work failed (%s)", type(exc).__name__)
            outcomes = [exc] * len(group)
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
