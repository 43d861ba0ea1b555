"""The transparency report: `steward report --from --to --out` over a busy period.

The report is built from cases opened through SMTP, the Slack emulator and the
case engine; small counts must read "fewer than 3" in the Markdown and be drawn
as hatched "<3" bars of one height in the chart.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from core.casework import actions
from core.casework import cases as case_service
from core.casework.cases import Role, Source
from core.decisions import appeals
from core.decisions.decisions import record_appeal_decision, record_decision
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.settings import Settings
from core.policy import load_code
from core.records.transparency import Period, figures, markdown
from core.records.transparency_chart import SUPPRESSED_HEIGHT, Bar, draw, write_chart
from mailgateway.server import MailServer
from tests.followups.conftest import email_draft, slack_draft
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import cli_result, send

STEWARD = "U_STEW1"
MESSAGES = {
    "rationale": "Confirmed by the record.",
    "message_to_reported": "Please keep to the code.",
    "message_to_reporter": "We have acted on your report.",
}


def open_many(db: Database, settings: Settings, category: str, count: int, **kw) -> list[int]:
    ids = []
    with db.session() as session:
        for n in range(count):
            draft = (email_draft if n % 2 else slack_draft)(category=category, **kw)
            ids.append(case_service.open_case(session, draft, settings).case.id)
    return ids


def decide(db: Database, settings: Settings, ids: list[int], outcome: str, **terms) -> None:
    with db.session() as session:
        for case_id in ids:
            case = case_service.get_case(session, case_id)
            actions.acknowledge(session, case, STEWARD)
            record_decision(session, settings, case, STEWARD, outcome, **MESSAGES, **terms)


def appeal_and_overturn(db: Database, settings: Settings, case_id: int) -> None:
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        reported = next(p for p in case.parties if p.role == Role.REPORTED)
        appeals.receive_appeal(session, settings, case, reported, "I appeal.", source=Source.EMAIL)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        record_appeal_decision(session, settings, case, STEWARD, "overturn", **MESSAGES)


def busy_period(db: Database, settings: Settings) -> None:
    """52 cases: big and small categories, every kind of outcome, one overturned appeal."""
    harassment = open_many(db, settings, "harassment", 30)
    personal = open_many(db, settings, "personal_attacks", 12)
    threats = open_many(db, settings, "threats", 2)  # fewer than 3
    privacy = open_many(db, settings, "privacy", 1)  # fewer than 3
    open_many(db, settings, "unsure", 5)
    decide(db, settings, harassment[:10], "warning")
    decide(db, settings, harassment[10:14], "correction")
    decide(db, settings, personal[:6], "no_violation")
    decide(db, settings, threats, "permanent_ban")  # 2 permanent bans: fewer than 3
    until = utcnow() + timedelta(days=30)
    decide(db, settings, privacy, "temporary_ban", ban_until=until)
    appeal_and_overturn(db, settings, harassment[0])


def test_a_report_over_52_cases_suppresses_small_counts_in_text_and_chart(
    gateway: MailServer, db: Database, mail_settings: Settings, tmp_path: Path
) -> None:
    settings = mail_settings
    for _ in range(2):  # two reports by email through the gateway: fewer than 3 uncategorised
        assert send(gateway.address[1], corpus.plain())[0] == 250
    busy_period(db, settings)
    today = utcnow().date()
    out = tmp_path / "report"
    result = cli_result(
        settings.database_url,
        tmp_path,
        "report",
        "--from",
        (today - timedelta(days=29)).isoformat(),
        "--to",
        today.isoformat(),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out / 'report.md'} and {out / 'report.png'}\n"
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "received 52 reports between" in text
    assert "- 30: Harassment or bullying" in text
    assert "- 12: Insults, trolling or personal attacks" in text
    assert "- Fewer than 3: Threats, violence, intimidation or stalking" in text
    assert "- Fewer than 3: Sharing someone's private information" in text
    assert "- Fewer than 3: Not categorised" in text
    assert "| Permanent ban | fewer than 3 | 0 | not shown |" in text
    assert "| Temporary ban, until a date | fewer than 3 | 0 | not shown |" in text
    assert "| Warning, with the consequences of repeating it | 9 | 0 | +9 |" in text
    assert "| Decision overturned | fewer than 3 | 0 | not shown |" in text
    assert "| Reports received | 52 | 0 | +52 |" in text
    assert "| Median time to acknowledge a report | 0.0 hours |" in text
    for hidden in ("| 1 |", "| 2 |", "- 1:", "- 2:"):
        assert hidden not in text
    png = (out / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000

    code = load_code(settings.code_of_conduct)
    period = Period(today - timedelta(days=29), today)
    with db.session() as session:
        # The command line runs with the default STEWARD_COMMUNITY_NAME.
        data = figures(session, code, "the community", period)
    assert markdown(data) == text
    figure, panels = draw(data)
    by_title = {p.title: {b.label: b for b in p.bars} for p in panels}
    assert by_title["Reports by kind"]["Threats, violence, intimidation or stalking"] == Bar(
        "Threats, violence, intimidation or stalking", SUPPRESSED_HEIGHT, "<3", True
    )
    assert by_title["Reports by kind"]["Harassment or bullying"] == Bar(
        "Harassment or bullying", 30.0, "30", False
    )
    assert by_title["Outcomes"]["Permanent ban"].text == "<3"
    assert by_title["Appeals"]["Decision overturned"].hatched
    # What matplotlib drew: every hatched bar has the one fixed width, no bar reads 1 or 2.
    widths = [(patch.get_width(), patch.get_hatch()) for ax in figure.axes for patch in ax.patches]
    assert {w for w, hatch in widths if hatch} == {SUPPRESSED_HEIGHT}
    assert not {w for w, hatch in widths if not hatch} & {1.0, 2.0}
    labels = {t.get_text() for ax in figure.axes for t in ax.texts}
    assert "<3" in labels and not labels & {"1", "2"}
    write_chart(data, tmp_path / "again.png")
    assert (tmp_path / "again.png").exists()


def test_the_previous_period_is_compared_and_slack_reports_count(
    stack: Stack, tmp_path: Path
) -> None:
    for _ in range(3):
        stack.report("U_ALEX", category="harassment")
    code = load_code(stack.settings.code_of_conduct)
    today = utcnow().date()
    with stack.db.session() as session:
        now = figures(session, code, "Example", Period(today, today))
        later = figures(
            session, code, "Example", Period(today + timedelta(1), today + timedelta(1))
        )
    source = {r.key: r for r in now.by_source}["slack"]
    assert (source.count, source.text, source.change) == (3, "3", "+3")
    moved_on = {r.key: r for r in later.by_source}["slack"]
    assert (moved_on.count, moved_on.previous, moved_on.change) == (0, 3, "-3")


def test_a_period_that_ends_before_it_starts_is_refused(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    args = ("report", "--from", "2026-02-01", "--to", "2026-01-01", "--out", str(tmp_path))
    result = cli_result(settings.database_url, tmp_path, *args)
    assert (result.returncode, result.stderr) == (
        2,
        "steward report: the period ends (2026-01-01) before it starts (2026-02-01)\n",
    )
    bad = cli_result(
        settings.database_url, tmp_path, "report", "--from", "May", "--to", "x", "--out", "o"
    )
    assert bad.returncode == 2
    assert "'May' is not a date like 2026-01-31" in bad.stderr


def test_a_period_is_whole_days() -> None:
    period = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert period.days == 31
    assert period.previous() == Period(date(2025, 12, 1), date(2025, 12, 31))
    assert period.until - period.since == timedelta(days=31)
    assert isinstance(period.since, datetime)
