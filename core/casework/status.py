"""The life of a case: its statuses and which moves between them are allowed.

Keeping the transition table in one place means every service that moves a case
is checked the same way, and an illegal move is a loud error, not a quiet state.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    AWAITING_APPEAL = "awaiting_appeal"
    APPEAL_REVIEW = "appeal_review"
    CLOSED = "closed"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.TRIAGE, Status.INVESTIGATING, Status.CLOSED}),
    # A decision may come straight from triage (e.g. no violation, nothing to investigate).
    Status.TRIAGE: frozenset({Status.INVESTIGATING, Status.AWAITING_APPEAL, Status.CLOSED}),
    Status.INVESTIGATING: frozenset({Status.TRIAGE, Status.AWAITING_APPEAL, Status.CLOSED}),
    Status.AWAITING_APPEAL: frozenset({Status.APPEAL_REVIEW, Status.CLOSED}),
    Status.APPEAL_REVIEW: frozenset({Status.CLOSED}),
    # Reopening puts a case back in triage; a late appeal that a steward accepts
    # goes straight to review.
    Status.CLOSED: frozenset({Status.TRIAGE, Status.APPEAL_REVIEW}),
}

OPEN_STATUSES = frozenset(Status) - {Status.CLOSED}


class TransitionError(ValueError):
    """A move between statuses that the case lifecycle does not allow."""


def check_transition(current: str, target: str) -> Status:
    """Return the target status if the move is allowed, else raise."""
    try:
        src, dst = Status(current), Status(target)
    except ValueError as exc:
        raise TransitionError(f"unknown status in move {current!r} -> {target!r}") from exc
    if dst not in ALLOWED[src]:
        raise TransitionError(f"a case cannot move from {src} to {dst}")
    return dst
