"""Delivery to Slack under pressure: 429s with Retry-After, thread order, long reports."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from core import actions
from core import cases as case_service
from core.clock import utcnow as time_now
from core.models import OutboxItem
from slackapp.blocks.case_view import CaseReport, EntryLine, PersonLine, report_pages
from slackapp.blocks.common import SECTION_LIMIT, escape
from tests.slack.conftest import Stack


def test_rate_limits_are_honoured_and_thread_order_kept(stack: Stack) -> None:
    stack.report()
    stack.drain()
    stack.emulator.rate_limit("chat.postMessage", 1)
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        for steward in ("U_STEW1", "U_STEW2"):
            actions.claim(session, case, steward)  # each claim posts one thread line
        actions.close(session, case, "U_STEW2")
    seen_retry_after = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stack.drain()
        with stack.db.session() as session:
            waiting = session.scalars(
                select(OutboxItem).where(OutboxItem.status == "pending")
            ).all()
            for row in waiting:
                if row.last_error == "slack rate limited":
                    seen_retry_after = True
                    # Retry-After (1 s) is honoured: the row waits at least that long.
                    assert (row.next_attempt_at - time_now()).total_seconds() <= 600
        if not waiting:
            break
        time.sleep(0.3)
    assert not waiting and seen_retry_after
    root_ts = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))["ts"]
    lines = [
        m["text"]
        for m in stack.staff_messages()
        if m.get("thread_ts") == root_ts and m["ts"] != root_ts and "<@U_STEW" in m["text"]
    ]
    assert [line.split(" ", 2)[1] for line in lines] == ["<@U_STEW1>", "<@U_STEW2>", "<@U_STEW2>"]
    assert "claimed" in lines[0] and "claimed" in lines[1] and "closed" in lines[2]


def test_a_long_report_is_split_never_cut() -> None:
    long_text = ("word " * 2000 + "\n") * 3  # about 30,000 characters
    report = CaseReport(
        case_id=1,
        ref="COC-1",
        code_name="amber-heron",
        status="triage",
        category="harassment",
        facts=[],
        people=[PersonLine("reporter", "someone")],
        snapshot=None,
        entries=[EntryLine("report", "someone", "today", long_text)]
        + [EntryLine("inbound_mail", "someone", "today", f"follow-up {n}") for n in range(60)],
        attachments=[],
    )
    pages = report_pages(report)
    assert len(pages) > 1 and all(len(page) <= 90 for page in pages)
    sections = [
        b["text"]["text"]
        for page in pages
        for b in page
        if b["type"] == "section" and "word" in b["text"]["text"]
    ]
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert "".join(sections) == escape(long_text)
    everything = json.dumps(pages)
    assert all(f"follow-up {n}" in everything for n in range(60))
