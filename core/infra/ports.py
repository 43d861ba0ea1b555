"""The ports the adapters implement: how the core asks for a side effect to happen.

The core decides *what* must be said and to whom (an outbox row); a delivery
adapter (email, Slack) knows *how*. Errors say whether trying again can help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundItem:
    """An outbox row as a delivery adapter sees it; detached from the database."""

    id: int
    channel: str
    kind: str
    case_id: int | None
    recipient: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    # An earlier attempt may have reached the other side: its worker died holding the
    # row, or it failed after sending (a timeout). The adapter checks before sending again.
    uncertain: bool = False


class TransientDeliveryError(Exception):
    """The other side is unavailable or busy; try again later (after `retry_after` s if given).

    `refused` says the other side did nothing (a rate limit, an error answer before any
    part was sent); otherwise the attempt may have got through, and the retry is `uncertain`.
    """

    def __init__(
        self, reason: str, retry_after: float | None = None, *, refused: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.refused = refused


class PermanentDeliveryError(Exception):
    """The other side refused for good (bad address, forbidden channel); do not retry."""


class Deliverer(Protocol):
    """Delivers one outbox item and returns the reference it produced (Message-ID or Slack ts)."""

    def deliver(self, item: OutboundItem) -> str: ...
