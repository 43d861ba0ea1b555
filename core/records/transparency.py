"""The transparency report: what the stewards did in a period, with nobody identifiable.

Django and the PSF publish a yearly account of their code of conduct work: how
many reports came in, what kinds, how they were handled, and how that compares
with before. This module counts the same things from the record and writes the
Markdown; `core/records/transparency_chart.py` draws the chart from the same figures.

Small counts identify people ("the one harassment report this spring"), so any
count from 1 to 2 is published as "fewer than 3", in the text and in the chart,
and a change from the previous period is only given when neither side is
suppressed. Zero is shown as zero: it names nobody.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.status import Status
from core.decisions.decisions import APPEAL, DECISION, OVERTURN
from core.infra.models import Appeal, AuditEvent, Case, Decision
from core.policy import Code

THRESHOLD = 3
SUPPRESSED = "fewer than 3"
SUPPRESSED_SHORT = "<3"
NO_DECISION = "no_decision"
OVERTURNED = "overturned"
NO_CATEGORY = "none"
APPEAL_PENDING = "pending"
SOURCE_LABELS = {"slack": "Slack report form", "email": "Email", "web": "Web form"}
APPEAL_LABELS = {
    "uphold": "Decision upheld",
    "modify": "Decision modified",
    "overturn": "Decision overturned",
    APPEAL_PENDING: "Not yet decided",
}


def is_suppressed(count: int) -> bool:
    return 0 < count < THRESHOLD


def shown(count: int) -> str:
    """A count as it may be published."""
    return SUPPRESSED if is_suppressed(count) else str(count)


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, as an operator types them."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def previous(self) -> Period:
        """The period of the same length just before this one, to compare with."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: what it is, how many, and how many the period before."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def text(self) -> str:
        return shown(self.count)

    @property
    def change(self) -> str:
        """The change from the previous period, unless either side must stay hidden."""
        if is_suppressed(self.count) or is_suppressed(self.previous):
            return "not shown"
        difference = self.count - self.previous
        return f"{difference:+d}" if difference else "no change"


@dataclass(frozen=True)
class Figures:
    """Everything the report publishes, already counted."""

    period: Period
    community: str
    code_title: str
    total: Row
    by_source: list[Row]
    by_category: list[Row]
    outcomes: list[Row]
    appeals: list[Row]
    median_acknowledge_hours: float | None
    median_decide_days: float | None
    previous_median_acknowledge_hours: float | None = None
    previous_median_decide_days: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Counts:
    """The raw tallies of one period, before anything is suppressed."""

    total: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    appeals: Counter[str] = field(default_factory=Counter)
    acknowledge_hours: list[float] = field(default_factory=list)
    decide_days: list[float] = field(default_factory=list)


def figures(session: Session, code: Code, community: str, period: Period) -> Figures:
    """Count a period and the one before it, on the code in force's categories and ladder."""
    now, before = _count(session, period), _count(session, period.previous())
    sources = sorted(set(now.sources) | set(before.sources) | set(SOURCE_LABELS))
    categories = [(c.id, c.label) for c in code.categories] + [(NO_CATEGORY, "Not categorised")]
    ladder = [(o.id, o.label) for o in code.decisions] + [
        (OVERTURNED, "Overturned on appeal"),
        (NO_DECISION, "No decision yet"),
    ]
    return Figures(
        period=period,
        community=community,
        code_title=code.title,
        total=Row("total", "Reports received", now.total, before.total),
        by_source=_rows(
            [(s, SOURCE_LABELS.get(s, s.capitalize())) for s in sources],
            now.sources,
            before.sources,
        ),
        by_category=_rows(categories, now.categories, before.categories),
        outcomes=_rows(ladder, now.outcomes, before.outcomes),
        appeals=_rows(list(APPEAL_LABELS.items()), now.appeals, before.appeals),
        median_acknowledge_hours=_median(now.acknowledge_hours),
        median_decide_days=_median(now.decide_days),
        previous_median_acknowledge_hours=_median(before.acknowledge_hours),
        previous_median_decide_days=_median(before.decide_days),
    )


def _rows(labels: list[tuple[str, str]], now: Counter[str], before: Counter[str]) -> list[Row]:
    known = {key for key, _ in labels}
    extra = [(k, k) for k in sorted(set(now) | set(before)) if k not in known]
    return [Row(key, label, now[key], before[key]) for key, label in labels + extra]


def _median(values: list[float]) -> float | None:
    """A median is published only over enough cases that it describes no one case."""
    return statistics.median(values) if len(values) >= THRESHOLD else None


def _count(session: Session, period: Period) -> _Counts:
    cases = list(
        session.scalars(
            select(Case).where(Case.created_at >= period.since, Case.created_at < period.until)
        )
    )
    counts = _Counts(total=len(cases))
    ids = [c.id for c in cases]
    decisions = _decisions_by_case(session, ids)
    acknowledged = _acknowledged_at(session, ids)
    for case in cases:
        counts.sources[case.source] += 1
        counts.categories[case.category or NO_CATEGORY] += 1
        first, final = decisions.get(case.id, (None, None))
        counts.outcomes[_outcome(first, final)] += 1
        if first is not None:
            counts.decide_days.append(_between(case.created_at, first.created_at) / 86400)
        if case.id in acknowledged:
            counts.acknowledge_hours.append(_between(case.created_at, acknowledged[case.id]) / 3600)
    for appeal in _appeals(session, period):
        final = decisions.get(appeal.case_id, (None, None))[1]
        result = final.appeal_result if final is not None else None
        counts.appeals[result or APPEAL_PENDING] += 1
    return counts


def _outcome(first: Decision | None, final: Decision | None) -> str:
    """The outcome in force: an appeal's new terms, nothing after an overturn, else the first."""
    if final is not None and final.outcome:
        return final.outcome
    if final is not None and final.appeal_result == OVERTURN:
        return OVERTURNED
    return first.outcome if first is not None and first.outcome else NO_DECISION


def _between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


def _decisions_by_case(
    session: Session, case_ids: Iterable[int]
) -> dict[int, tuple[Decision | None, Decision | None]]:
    """Per case: the first decision on the ladder, and the latest decision on appeal."""
    found: dict[int, tuple[Decision | None, Decision | None]] = {}
    ids = list(case_ids)
    if not ids:
        return found
    rows = session.scalars(select(Decision).where(Decision.case_id.in_(ids)).order_by(Decision.id))
    for decision in rows:
        first, final = found.get(decision.case_id, (None, None))
        if decision.stage == DECISION and first is None:
            first = decision
        elif decision.stage == APPEAL:
            final = decision
        found[decision.case_id] = (first, final)
    return found


def _acknowledged_at(session: Session, case_ids: Iterable[int]) -> dict[int, datetime]:
    """When each case first left `new`: the audit trail says when it was acknowledged."""
    ids = list(case_ids)
    if not ids:
        return {}
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.case_id.in_(ids), AuditEvent.action == "case.status")
        .order_by(AuditEvent.id)
    )
    first: dict[int, datetime] = {}
    for event in events:
        if (event.detail or {}).get("previous") == Status.NEW and event.case_id not in first:
            first[event.case_id] = event.created_at
    return first


def _appeals(session: Session, period: Period) -> list[Appeal]:
    return list(
        session.scalars(
            select(Appeal).where(
                Appeal.received_at >= period.since, Appeal.received_at < period.until
            )
        )
    )


def markdown(data: Figures, chart_name: str = "report.png") -> str:
    """The report as Django and the PSF lay theirs out: a short account, then the numbers."""
    previous = data.period.previous()
    parts = [
        f"# {data.community}: code of conduct transparency report, {data.period}",
        _introduction(data),
        f"![Reports, outcomes and appeals, {data.period}]({chart_name})",
        "## Reports received\n\n" + _table([data.total, *data.by_source], "Source", previous),
        "## Kinds of reports\n\n" + _kinds(data.by_category),
        "## Outcomes\n\n"
        + f"The steps of the enforcement ladder in {data.code_title}, "
        + "for the reports received in the period (an appeal's result counts where it "
        + "changed the outcome).\n\n"
        + _table(data.outcomes, "Outcome", previous),
        "## How quickly we responded\n\n" + _timeliness(data),
        "## Appeals\n\n" + _table(data.appeals, "Result", previous),
        "## About these figures\n\n" + _about(data),
    ]
    return "\n\n".join(parts) + "\n"


def _introduction(data: Figures) -> str:
    received = data.total.text
    noun = "report" if data.total.count == 1 else "reports"
    return (
        f"The stewards of {data.community} received {received} {noun} between "
        f"{data.period.start.isoformat()} and {data.period.end.isoformat()}. "
        "This report is a brief account of how they were handled. To protect the people "
        f'involved, any count from 1 to 2 is shown as "{SUPPRESSED}", and nobody is named.'
    )


def _table(rows: list[Row], heading: str, previous: Period) -> str:
    lines = [
        f"| {heading} | This period | Previous period ({previous}) | Change |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.label} | {r.text} | {shown(r.previous)} | {r.change} |" for r in rows]
    return "\n".join(lines)


def _kinds(rows: list[Row]) -> str:
    told = [r for r in rows if r.count]
    if not told:
        return "No reports were received in the period."
    return "\n".join(f"- {r.text.capitalize()}: {r.label}" for r in told)


def _timeliness(data: Figures) -> str:
    return "\n".join(
        [
            "| Measure | This period | Previous period |",
            "|---|---|---|",
            "| Median time to acknowledge a report | "
            f"{_hours(data.median_acknowledge_hours)} | "
            f"{_hours(data.previous_median_acknowledge_hours)} |",
            "| Median time from report to decision | "
            f"{_days(data.median_decide_days)} | {_days(data.previous_median_decide_days)} |",
        ]
    )


def _hours(value: float | None) -> str:
    return "not shown (fewer than 3 cases)" if value is None else f"{value:.1f} hours"


def _days(value: float | None) -> str:
    return "not shown (fewer than 3 cases)" if value is None else f"{value:.1f} days"


def _about(data: Figures) -> str:
    return (
        f"Reports are counted in the period they were received; appeals in the period they "
        f"arrived. The previous period is the {data.period.days} days just before this one. "
        f'Counts from 1 to 2 read "{SUPPRESSED}" and a change is "not shown" when either '
        "side is one of them; medians over fewer than 3 cases are not shown."
    )
