"""Delivery to Slack under pressure: 429s with Retry-After, thread order, long reports."""

from __future__ import annotations

import json
import time

from sqlalchemy import select, update

from core.casework import actions
from core.casework import cases as case_service
from core.infra.clock import utcnow as time_now
from core.infra.models import OutboxItem
from slackapp.blocks.case_view import CaseReport, EntryLine, PersonLine, report_pages
from slackapp.blocks.common import SECTION_LIMIT, escape
from tests.slack.conftest import Stack


def _claims_and_recusal(stack: Stack) -> None:
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        for steward in ("U_STEW1", "U_STEW2"):
            actions.claim(session, case, steward)  # each claim posts one thread line
        actions.close(session, case, "U_STEW2")


def _thread_lines(stack: Stack) -> list[str]:
    root_ts = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))["ts"]
    return [
        m["text"]
        for m in stack.staff_messages()
        if m.get("thread_ts") == root_ts and m["ts"] != root_ts and "<@U_STEW" in m["text"]
    ]


def _drain_until_delivered(stack: Stack) -> list[OutboxItem]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stack.drain()
        with stack.db.session() as session:
            waiting = session.scalars(
                select(OutboxItem).where(OutboxItem.status == "pending")
            ).all()
        if not waiting:
            break
        time.sleep(0.3)
    return list(waiting)


def test_rate_limits_are_honoured_and_thread_order_kept(stack: Stack) -> None:
    stack.report()
    stack.drain()
    stack.emulator.rate_limit("chat.postMessage", 1)
    refused_before = stack.emulator.state()["rate_limited"].get("chat.postMessage", 0)
    _claims_and_recusal(stack)
    began = time.monotonic()
    waiting = _drain_until_delivered(stack)
    assert not waiting
    # The posts came one a second or slower, and Slack refused at most the first:
    # a 429 is waited out in place (Retry-After) and the channel paced afterwards.
    assert time.monotonic() - began >= 2.0
    refused = stack.emulator.state()["rate_limited"].get("chat.postMessage", 0) - refused_before
    assert refused <= 1
    lines = _thread_lines(stack)
    assert [line.split(" ", 2)[1] for line in lines] == ["<@U_STEW1>", "<@U_STEW2>", "<@U_STEW2>"]
    assert "claimed" in lines[0] and "claimed" in lines[1] and "closed" in lines[2]


def test_a_long_retry_after_is_left_to_the_outbox_and_order_kept(stack: Stack) -> None:
    stack.report()
    stack.drain()
    # Slack asks for more patience than is worth waiting in place: the row waits in the
    # outbox, at least as long as asked, and the lines behind it wait for it.
    stack.emulator.faults("chat.postMessage", status=429, times=1, retry_after=31)
    _claims_and_recusal(stack)
    stack.drain()
    with stack.db.session() as session:
        rows = session.scalars(
            select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
        ).all()
        assert rows and rows[0].last_error == "slack rate limited"
        assert (rows[0].next_attempt_at - time_now()).total_seconds() >= 29
        # Due again now, as if the 31 s had passed.
        session.execute(
            update(OutboxItem).where(OutboxItem.id == rows[0].id).values(next_attempt_at=time_now())
        )
    assert not _drain_until_delivered(stack)
    lines = _thread_lines(stack)
    assert [line.split(" ", 2)[1] for line in lines] == ["<@U_STEW1>", "<@U_STEW2>", "<@U_STEW2>"]


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
