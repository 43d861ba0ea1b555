"""*View report* of a long case, end to end through the emulator: each page opens only
its own entries, and every entry is still there, whole and in order, across the pages.

Each page is asked for with a real signed click on *Next page* or *Previous page*; the
emulator refuses a view over Slack's limits, so a page planned too full would fail here.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from sqlalchemy import select

from core.casework.cases import add_entry, get_case, reporter_of
from core.infra.models import AuditEvent
from slackapp.blocks import case_view
from slackapp.blocks.case_view import (
    NEXT_PAGE,
    PIECE_BYTES,
    PREVIOUS_PAGE,
    CaseReport,
    EntryLine,
    EntrySize,
    PersonLine,
)
from slackapp.blocks.common import VIEW_BYTES_LIMIT, escape
from slackapp.readmodels import case_report
from tests.slack.conftest import Stack, eventually
from tests.slack.test_block_kit_limits import (
    assert_view_fits,
    buttons_of,
    long_message,
    root_of,
    shown,
)

FOLLOW_UPS = 150
LONG_AT = 70  # the follow-up replaced by one far longer than a page holds


def long_text() -> str:
    """Longer than a page at its worst: accents (6 bytes each in JSON) and `&`, which
    escaping makes five characters."""
    return long_message(7, 30_000).replace("-3", "&3") + " the end of the long one"


def follow_up(n: int) -> str:
    return long_text() if n == LONG_AT else f"Follow-up number {n:03d}: one more thing."


def long_case(stack: Stack) -> dict:
    """COC-1 with its report and `FOLLOW_UPS` messages from the reporter, one very long."""
    stack.report(what="They mocked my accent in #general after I asked them to stop.")
    root = root_of(stack)
    with stack.db.session() as session:
        case = get_case(session, 1)
        reporter = reporter_of(case)
        for n in range(FOLLOW_UPS):
            add_entry(session, case, "reporter_message", "slack", follow_up(n), party=reporter)
    return root


def open_report(stack: Stack, root: dict) -> dict:
    answer = stack.emulator.click(
        "U_STEW1", "case_view_report", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    return answer["views"][0]


def page_count(view: dict) -> int:
    return int(re.search(r"Page 1 of (\d+)", json.dumps(view)).group(1))


def turn(stack: Stack, view_id: str, action: str, page: int) -> dict:
    """Click *Next page* or *Previous page* and wait for the view to show `page` (1-based)."""
    stack.emulator.click("U_STEW1", action, view_id=view_id, wait=0)
    view = eventually(lambda: shown(stack, view_id, page))
    assert view, f"page {page} was not shown"
    return view


def every_page(stack: Stack, root: dict) -> list[dict]:
    first = open_report(stack, root)
    pages = [first]
    for page in range(2, page_count(first) + 1):
        pages.append(turn(stack, first["id"], NEXT_PAGE, page))
    return pages


def sections_of(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def contexts_of(view: dict) -> list[str]:
    return [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]


def test_the_first_page_shows_the_report_and_only_a_next_button(stack: Stack) -> None:
    root = long_case(stack)
    view = open_report(stack, root)
    shown_text = json.dumps(view)
    assert "mocked my accent" in shown_text
    assert "Follow-up number 000" in shown_text
    assert page_count(view) >= 5
    assert [b["action_id"] for b in buttons_of(view)] == [NEXT_PAGE]
    assert json.loads(view["private_metadata"]) == {"case_id": 1, "page": 0}
    assert len(view["blocks"]) <= 100 and len(json.dumps(view).encode()) < VIEW_BYTES_LIMIT


def test_every_entry_is_on_one_page_in_order_and_each_page_is_audited(stack: Stack) -> None:
    root = long_case(stack)
    pages = every_page(stack, root)
    count = len(pages)
    assert all(len(v["blocks"]) <= 100 for v in pages)
    assert all(len(json.dumps(v).encode()) < VIEW_BYTES_LIMIT for v in pages)
    middle = pages[count // 2]
    assert [b["action_id"] for b in buttons_of(middle)] == [PREVIOUS_PAGE, NEXT_PAGE]
    last = pages[-1]
    assert [b["action_id"] for b in buttons_of(last)] == [PREVIOUS_PAGE]
    assert f"Page {count} of {count}" in json.dumps(last)
    assert f"Follow-up number {FOLLOW_UPS - 1:03d}" in json.dumps(last)
    # Every short follow-up exactly once, in timeline order, across the pages.
    text = "\n".join(s for v in pages for s in sections_of(v))
    found = [int(n) for n in re.findall(r"Follow-up number (\d{3})", text)]
    assert found == [n for n in range(FOLLOW_UPS) if n != LONG_AT]
    with stack.db.session() as session:
        reads = session.execute(
            select(AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.action == "case.read")
            .order_by(AuditEvent.id)
        ).all()
    assert [(actor, detail["what"]) for actor, detail in reads] == [
        ("steward:U_STEW1", "report"),
        *[("steward:U_STEW1", f"report page {n}") for n in range(1, count)],
    ]


def test_an_entry_longer_than_a_page_is_shown_whole_in_marked_parts(stack: Stack) -> None:
    root = long_case(stack)
    pages = every_page(stack, root)
    titles = [c for v in pages for c in contexts_of(v) if " · part " in c]
    parts = -(-len(long_text().encode()) // PIECE_BYTES)
    assert len(titles) == parts > 1
    assert all(f"part {i + 1} of {parts}" in t for i, t in enumerate(titles))
    assert "(continues below)" in titles[0] and titles[-1].endswith("(end)")
    # The parts span more than one page, and their sections are the whole text.
    holding = [v for v in pages if any(" · part " in c for c in contexts_of(v))]
    assert len(holding) > 1
    text = "".join(s for v in pages for s in sections_of(v))
    assert escape(long_text()) in text


def test_previous_page_goes_back_and_a_page_past_the_end_shows_the_last(stack: Stack) -> None:
    root = long_case(stack)
    first = open_report(stack, root)
    view_id = first["id"]
    turn(stack, view_id, NEXT_PAGE, 2)
    back = turn(stack, view_id, PREVIOUS_PAGE, 1)
    assert "mocked my accent" in json.dumps(back)
    count = page_count(first)
    with stack.db.session() as session:
        case = get_case(session, 1)
        report = case_report(session, case, stack.slack.settings, "U_STEW1", count + 5)
        view = case_view.report_modal(report, count + 5)
    assert f"Page {count} of {count}" in json.dumps(view)
    assert json.loads(view["private_metadata"])["page"] == count - 1


def test_a_page_opens_only_the_entries_it_shows(stack: Stack) -> None:
    long_case(stack)
    with stack.db.session() as session:
        case = get_case(session, 1)
        report = case_report(session, case, stack.slack.settings, "U_STEW1", 1)
        view = case_view.report_modal(report, 1)
    assert report.sizes is not None and len(report.sizes) == FOLLOW_UPS + 1
    assert 0 < len(report.entries) < FOLLOW_UPS // 3
    _, numbers = case_view.entries_on_page(report, 1)
    assert len(report.entries) == len(numbers)
    # The opened entries are the ones the page shows, in its order.
    opened = [e.text[:20] for e in report.entries if e.text.startswith("Follow-up")]
    shown_text = json.dumps(view)
    assert opened and opened == re.findall(r"Follow-up number \d{3}", shown_text)


def test_pages_of_the_costliest_entries_still_fit() -> None:
    """Names of emoji, text that escaping makes longest (`&`, control characters, emoji)
    and long extra lines: planned from sizes alone, every page still fits."""
    worst = ["&" * 7000, "\x01" * 7000, "😀" * 1800, "&\x01é😀<>" * 900, "a"]
    entries = [
        EntryLine("reporter_message", "😀" * 400, "today", text, ["😀&" * 1500])
        for text in worst * 8
    ]
    sizes = [EntrySize(len(e.text.encode()), len(" · ".join(e.extra))) for e in entries]
    report = CaseReport(
        case_id=1,
        ref="COC-1",
        code_name="amber-heron",
        status="investigating",
        category="harassment",
        facts=["&" * 5000],
        people=[PersonLine("reported", "😀" * 300)],
        snapshot=None,
        entries=entries,
        attachments=[f"evidence-{n}.png (2 MB)" for n in range(50)],
    )
    count = len(case_view.report_plan(report))
    assert count > 2
    for page in range(count):
        paged = replace(report, sizes=sizes, plan=None)
        _, numbers = case_view.entries_on_page(paged, page)
        paged.entries = [entries[n] for n in numbers]
        assert_view_fits(case_view.report_modal(paged, page))
        assert_view_fits(case_view.report_modal(report, page))
