"""The outbox: every side effect is a row first, delivered later with retries.

Writing the row in the same transaction as the change that caused it means a
Slack or SMTP outage delays work but never loses it. A delivered row records the
reference it produced, so a row is delivered once. A row whose earlier attempt
ended without a known outcome (its worker killed while holding it, or a failure
that may have come after the other side did the work) is handed over as
`uncertain`, so the adapter looks before sending again.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from core.infra import audit
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.logs import about
from core.infra.models import Case, OutboxItem
from core.infra.ports import Deliverer, OutboundItem, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=60)

# Runs in the transaction that marks a row delivered, to record what the delivery
# produced on the case (e.g. the Slack `ts` of a case thread's root message).
AfterDelivery = Callable[[Session, OutboxItem], None]


def row(
    channel: str,
    kind: str,
    payload: dict[str, Any],
    *,
    case_id: int | None = None,
    recipient: str | None = None,
    ordering_key: str | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """The column values of a new outbox row, for `enqueue` and for bulk inserts alike."""
    return {
        "channel": channel,
        "kind": kind,
        "payload": payload,
        "case_id": case_id,
        "recipient": recipient,
        "ordering_key": ordering_key,
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
    }


def enqueue(
    session: Session, channel: str, kind: str, payload: dict[str, Any], **columns: Any
) -> OutboxItem:
    """Queue a side effect in the caller's transaction; it happens only if that commits.

    `columns` are `row`'s keywords (case_id, recipient, ordering_key, dedupe_key).
    """
    item = OutboxItem(**row(channel, kind, payload, **columns))
    session.add(item)
    return item


def _about(item: OutboundItem) -> dict[str, Any]:
    return about(case_id=item.case_id, outbox_id=item.id, kind=item.kind)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter, never sooner than the other side asked."""
    base = min(2.0**attempts, 600.0) * (0.5 + random.random() / 2)
    if retry_after is not None:
        base = max(base, retry_after)
    return timedelta(seconds=base)


class OutboxWorker:
    """Claims due rows and hands each to the deliverer for its channel.

    Rows sharing an `ordering_key` (one Slack thread, one mail thread) go out one
    at a time in id order, so a thread never shows replies before their root.
    """

    def __init__(
        self,
        db: Database,
        deliverers: Mapping[str, Deliverer],
        *,
        batch_size: int = 20,
        poll_interval: float = 0.5,
        after_delivery: AfterDelivery | None = None,
    ) -> None:
        self.db = db
        self.deliverers = dict(deliverers)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.after_delivery = after_delivery
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self, now: datetime | None = None) -> list[OutboundItem]:
        """Lease a batch of due rows (SKIP LOCKED on PostgreSQL) so no two workers share one."""
        now = now or utcnow()
        earlier = aliased(OutboxItem)
        blocked = exists().where(
            earlier.ordering_key == OutboxItem.ordering_key,
            earlier.status == PENDING,
            earlier.id < OutboxItem.id,
        )
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.status == PENDING,
                OutboxItem.next_attempt_at <= now,
                OutboxItem.channel.in_(list(self.deliverers)),
                or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                or_(OutboxItem.ordering_key.is_(None), ~blocked),
            )
            .order_by(OutboxItem.id)
            .limit(self.batch_size)
        )
        if self.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=OutboxItem)
        with self.db.session() as session:
            rows = list(session.scalars(query))
            # A lease still set on a due row ran out: its worker died mid-delivery, or an
            # attempt failed without knowing whether it got through (see `_retry`).
            uncertain = {r.id: r.claimed_until is not None for r in rows}
            for row in rows:
                row.claimed_until = now + LEASE
            return [
                OutboundItem(
                    id=r.id,
                    channel=r.channel,
                    kind=r.kind,
                    case_id=r.case_id,
                    recipient=r.recipient,
                    payload=dict(r.payload or {}),
                    attempts=r.attempts,
                    uncertain=uncertain[r.id],
                )
                for r in rows
            ]

    def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were attempted."""
        items = self.claim()
        for item in items:
            self._deliver(item)
        return len(items)

    def _deliver(self, item: OutboundItem) -> bool:
        """Deliver one claimed row; only its head-of-line position made it claimable."""
        deliverer = self.deliverers[item.channel]
        try:
            ref = deliverer.deliver(item)
        except TransientDeliveryError as exc:
            self._retry(item, str(exc), exc.retry_after, refused=exc.refused)
            return False
        except PermanentDeliveryError as exc:
            self._give_up(item, str(exc))
            return False
        except Exception as exc:  # an adapter bug must not stop the worker
            log.exception(
                "outbox item %s (%s) failed unexpectedly", item.id, item.kind, extra=_about(item)
            )
            self._retry(item, type(exc).__name__, None)
            return False
        self._mark_delivered(item, ref)
        return True

    def _mark_delivered(self, item: OutboundItem, ref: str) -> None:
        with self.db.session() as session:
            row = session.get(OutboxItem, item.id)
            if row is None:
                return
            row.status = DELIVERED
            row.result_ref = ref
            row.delivered_at = utcnow()
            row.attempts = item.attempts + 1
            row.claimed_until = None
            row.last_error = None
            if self.after_delivery is not None:
                self.after_delivery(session, row)
        log.info("delivered outbox item %s (%s)", item.id, item.kind, extra=_about(item))

    def _retry(
        self, item: OutboundItem, reason: str, retry_after: float | None, refused: bool = False
    ) -> None:
        """Try again later. Unless the other side refused outright, the lease is left set
        (ended now), which marks the next attempt `uncertain`."""
        attempts = item.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self._give_up(item, reason)
            return
        with self.db.session() as session:
            row = session.get(OutboxItem, item.id)
            if row is None:
                return
            row.attempts = attempts
            row.last_error = reason[:500]
            row.next_attempt_at = utcnow() + backoff(attempts, retry_after)
            row.claimed_until = None if refused else utcnow()
        log.warning(
            "outbox item %s (%s) will be retried: %s",
            item.id,
            item.kind,
            reason[:200],
            extra=_about(item),
        )

    def _give_up(self, item: OutboundItem, reason: str) -> None:
        with self.db.session() as session:
            row = session.get(OutboxItem, item.id)
            if row is None:
                return
            row.status = DEAD
            row.attempts = item.attempts + 1
            row.last_error = reason[:500]
            row.claimed_until = None
            audit.record(
                session,
                "outbox.dead",
                case=session.get(Case, row.case_id) if row.case_id else None,
                item_id=row.id,
                kind=row.kind,
            )
        log.error(
            "outbox item %s (%s) abandoned: %s",
            item.id,
            item.kind,
            reason[:200],
            extra=_about(item),
        )

    def wake(self) -> None:
        """Nudge the loop, e.g. right after a commit that queued something."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("outbox loop error")
                busy = 0
            if not busy:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
