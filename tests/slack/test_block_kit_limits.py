"""What Steward sends fits Slack's Block Kit limits, end to end through the emulator.

The emulator refuses what Slack refuses (invalid_blocks, invalid_arguments,
msg_blocks_too_long), so each flow here would fail if Steward broke a limit;
the tests also check the shape Slack asks for directly: pages under 250 KB
with distinct action_ids, a new block_id for each version of a root, and long
content posted in parts, in order, with nothing lost.
"""

from __future__ import annotations

import json

from core.policy.loading import load_code
from slackapp.blocks import case_view, decision_forms, report_form, steward_forms
from slackapp.blocks.case_view import NEXT_PAGE, PREVIOUS_PAGE, CaseReport, EntryLine, PersonLine
from slackapp.blocks.common import (
    MESSAGE_TEXT_LIMIT,
    VIEW_BYTES_LIMIT,
    message_parts,
    text_length,
    versioned,
)
from slackapp.blocks.direct import direct_message
from slackapp.blocks.home import DeskLine, HomeCase, StewardDesk, home_view
from slackapp.blocks.thread import RootFacts, notice_blocks, root_blocks
from slackapp.emulator.blockkit import (
    MAX_MESSAGE_BLOCKS_TEXT,
    blocks_text_length,
    validate_message_blocks,
    validate_view,
)
from tests.slack.conftest import Stack, eventually


def root_of(stack: Stack) -> dict:
    stack.drain()
    return next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))


def long_message(n: int, length: int = 20_000) -> str:
    """About ``length`` characters of prose, with accents that JSON escapes to 6 bytes."""
    words = " ".join(f"café-{n}-{i}" for i in range(length // 12))
    return words[:length]


def buttons_of(view: dict) -> list[dict]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def shown(stack: Stack, view_id: str, page: int) -> dict | None:
    """The view, once it shows the given page."""
    view = stack.emulator.state()["views"][view_id]
    return view if f"Page {page} of" in json.dumps(view) else None


def test_view_report_pages_through_a_long_case_with_distinct_buttons(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    dm = stack.emulator.state()["dms"]["U_ALEX"]
    for n in range(20):
        stack.emulator.post("U_ALEX", dm, long_message(n))
    stack.drain()

    def opened() -> dict:
        answer = stack.emulator.click(
            "U_STEW1", "case_view_report", channel="G_STAFF", message_ts=root["ts"], value="1"
        )
        return answer["views"][0]

    view = opened()
    assert "Page 1 of" in json.dumps(view)
    pages = int(json.dumps(view).split("Page 1 of ")[1].split('"')[0])
    assert pages >= 3
    seen, view_id = [view], view["id"]
    for _ in range(pages - 1):
        stack.emulator.click("U_STEW1", NEXT_PAGE, view_id=view_id, wait=0)
        page = len(seen) + 1
        view = eventually(lambda page=page: shown(stack, view_id, page))
        seen.append(view)
    middle = seen[1]
    assert [b["action_id"] for b in buttons_of(middle)] == [PREVIOUS_PAGE, NEXT_PAGE]
    assert all(len(json.dumps(v).encode()) < VIEW_BYTES_LIMIT for v in seen)
    everything = json.dumps(seen, ensure_ascii=False)
    assert all(f"café-{n}-0 " in everything for n in range(20))
    stack.emulator.click("U_STEW1", PREVIOUS_PAGE, view_id=view_id, wait=0)
    assert eventually(lambda: shown(stack, view_id, pages - 1))


def test_each_version_of_a_root_has_new_block_ids(stack: Stack) -> None:
    stack.report()
    first = root_of(stack)
    stack.emulator.click(
        "U_STEW1", "case_claim", channel="G_STAFF", message_ts=first["ts"], value="1"
    )
    stack.drain()
    second = next(m for m in stack.staff_messages() if m["ts"] == first["ts"])
    assert "<@U_STEW1>" in json.dumps(second["blocks"])
    before = {b["block_id"] for b in first["blocks"]}
    after = {b["block_id"] for b in second["blocks"]}
    assert len(after) == len(second["blocks"]) and not before & after


def test_a_long_message_with_full_disclosure_is_posted_in_parts_in_order(stack: Stack) -> None:
    stack.slack.settings = stack.slack.settings.with_overrides(full_disclosure=True)
    stack.report()
    root = root_of(stack)
    text = long_message(7)
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], text)

    def posted() -> list[dict] | None:
        """The thread messages quoting the DM, once all of it is there."""
        stack.drain()
        replies = [m for m in stack.staff_messages() if m.get("thread_ts") == root["ts"]]
        found = [m for m in replies if "café-7-" in json.dumps(m["blocks"], ensure_ascii=False)]
        return found if quoted_text(found) == text else None

    quoted = eventually(posted)
    assert quoted and len(quoted) >= 2
    assert all(text_length(m["blocks"]) <= MESSAGE_TEXT_LIMIT for m in quoted)
    assert "(part 2 of" in quoted[1]["text"]


def quoted_text(messages: list[dict]) -> str:
    """The sections of the quoting messages, less the notice line that opens the first."""
    sections = [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"]
    return "".join(sections[1:])


# Every surface Steward builds, fed extreme content, against the emulator's rules.

HUGE = "Fish & chips <3 @here " * 3000  # about 66,000 characters, with text that escapes


def assert_message_fits(blocks: list[dict]) -> None:
    for part in message_parts(blocks):
        validate_message_blocks(part)
        assert blocks_text_length(part) <= MAX_MESSAGE_BLOCKS_TEXT


def assert_view_fits(view: dict) -> None:
    validate_view(view)
    assert len(json.dumps(view).encode()) < VIEW_BYTES_LIMIT


def test_every_message_steward_builds_fits_in_parts() -> None:
    for status in ("new", "triage", "investigating", "appeal_review", "closed"):
        facts = RootFacts(
            case_id=123456,
            ref="COC-123456",
            code_name="amber-heron-" * 10,
            source="email",
            category="harassment",
            severity="high",
            status=status,
            claimed_by=None if status == "new" else "U_STEW1",
            next_deadline="2026-12-01 12:00 UTC",
            escalated=True,
            immediate_danger=True,
            has_respondent_contact=True,
            anonymous=True,
            late_appeal_waiting=True,
        )
        assert_message_fits(versioned(root_blocks(facts), "v1"))
    assert_message_fits(notice_blocks("A line " * 100, HUGE, snooze_deadline=7))
    for message in ("report_received", "relay", "message_added", "no_open_case", None):
        details = {"ref": "COC-1", "code_name": "x" * 200, "danger": True, "appeal_button": True}
        payload = {"message": message, "text": HUGE, "details": {**details, "case_id": 1}}
        fallback, blocks = direct_message(payload)
        assert len(fallback) <= 40_000
        assert_message_fits(blocks)


def test_every_view_steward_builds_fits() -> None:
    snapshot = {"user": "U_BLAIR", "channel_name": "general", "text": HUGE, "ts": "1.2"}
    assert_view_fits(
        report_form.report_modal(load_code("contributor-covenant-2.1"), snapshot, "token" * 8)
    )
    report = CaseReport(
        case_id=1,
        ref="COC-1",
        code_name="amber-heron",
        status="investigating",
        category="harassment",
        facts=[HUGE[:5000]],
        people=[PersonLine("reported", "A. Person " * 50) for _ in range(20)],
        snapshot={**snapshot, "permalink": "https://steward-demo.slack.com/archives/C/p1"},
        entries=[EntryLine("reporter_message", "someone", "today", HUGE, ["x" * 3000])] * 4,
        attachments=[f"evidence-{n}.png (2 MB)" for n in range(300)],
    )
    pages = len(case_view.report_pages(report))
    assert pages > 2
    for page in range(pages):
        assert_view_fits(case_view.report_modal(report, page))
    ref = "COC-123456"
    for view in (
        decision_forms.decision_modal(
            1, ref, load_code("contributor-covenant-2.1"), "Appeals: 30 days."
        ),
        decision_forms.appeal_decision_modal(1, ref, load_code("contributor-covenant-2.1")),
        decision_forms.late_appeal_modal(1, ref),
        decision_forms.appeal_modal(1, ref),
        steward_forms.reply_modal(1, ref, "by email", anonymous=True),
        steward_forms.ask_modal(1, ref, "in Slack"),
    ):
        assert_view_fits(view)
    many = [
        HomeCase(f"COC-{n}", "x" * 200, "investigating", "today", "U_STEW1") for n in range(200)
    ]
    assert_view_fits(home_view(many, many))
    busy = [
        DeskLine(f"COC-{n}", "x" * 64, "acknowledgement was due 3 days ago") for n in range(200)
    ]
    assert_view_fits(home_view(many, many, StewardDesk(busy, busy, busy)))
