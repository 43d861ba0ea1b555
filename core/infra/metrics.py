"""Steward's Prometheus metrics, defined once for every process and adapter.

The adapters count what passes through them (SMTP replies, Slack API calls);
the core counts what it decides (reports opened, deadlines fired). Labels are
closed sets chosen by the code (a source, an SMTP code, a Slack method, a
deadline kind, an outbox channel), never a name, an address or any text
someone wrote, so a metric cannot leak a report.

Each process serves its own counters: `steward web` (and `steward run`) on the
web port, `steward mail` and `steward worker` on their health ports. The
outbox gauges are read from the database at scrape time, so every process
reports the same backlog. The mail storage child process counts nothing: the
SMTP front counts the reports from the answers the child sends back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.infra.clock import as_utc, utcnow
from core.infra.db import Database
from core.infra.models import OutboxItem

CONTENT_TYPE = CONTENT_TYPE_LATEST

REPORTS = Counter("steward_reports", "Reports that opened a case, by source", ["source"])
SMTP_REPLIES = Counter("steward_smtp_replies", "SMTP replies sent by the gateway", ["code"])
SLACK_CALLS = Counter("steward_slack_api_calls", "Slack Web API calls made", ["method"])
SLACK_ERRORS = Counter(
    "steward_slack_api_errors", "Slack Web API calls that failed (other than 429)", ["method"]
)
SLACK_RATE_LIMITED = Counter(
    "steward_slack_api_rate_limited", "Slack Web API calls answered 429", ["method"]
)
DEADLINES_FIRED = Counter("steward_deadlines_fired", "Deadlines that fired here", ["kind"])
ACK_SECONDS = Histogram(
    "steward_slack_ack_seconds",
    "Time to answer a request from Slack (Slack gives up after 3 s)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
SMTP_DATA_SECONDS = Histogram(
    "steward_smtp_data_seconds",
    "Time from the end of an SMTP DATA to the answer (parse and commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe how long the block took, whether or not it raised."""
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - started)


def outbox_backlog(db: Database, now: datetime | None = None) -> dict[str, tuple[int, float]]:
    """Pending outbox rows per channel: how many, and the age in seconds of the oldest."""
    now = now or utcnow()
    query = (
        select(OutboxItem.channel, func.count(), func.min(OutboxItem.created_at))
        .where(OutboxItem.status == "pending")
        .group_by(OutboxItem.channel)
    )
    with db.session() as session:
        rows = session.execute(query).all()
    return {
        channel: (count, max(0.0, (now - (as_utc(oldest) or now)).total_seconds()))
        for channel, count, oldest in rows
    }


class OutboxCollector(Collector):
    """The outbox gauges, read from the record when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterable[Metric]:
        backlog = GaugeMetricFamily(
            "steward_outbox_backlog", "Outbox rows waiting to be delivered", labels=["channel"]
        )
        age = GaugeMetricFamily(
            "steward_outbox_oldest_pending_seconds",
            "Age of the oldest outbox row waiting to be delivered",
            labels=["channel"],
        )
        for channel, (count, oldest) in sorted(outbox_backlog(self.db).items()):
            backlog.add_metric([channel], count)
            age.add_metric([channel], oldest)
        yield backlog
        yield age


def exposition(db: Database) -> bytes:
    """This process's counters and histograms, then the outbox gauges, as Prometheus text.

    With the database down the counters are still served; the gauges are left out
    (and `/readyz` says why)."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(OutboxCollector(db))
    try:
        outbox = generate_latest(gauges)
    except Exception:  # noqa: BLE001 - a scrape must not fail because the database did
        outbox = b""
    return generate_latest(REGISTRY) + outbox
