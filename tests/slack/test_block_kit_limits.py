"""What Steward sends fits Slack's Block Kit limits, end to end through the emulator.

The emulator refuses what Slack refuses (invalid_blocks, invalid_arguments,
msg_blocks_too_long), so each flow here would fail if Steward broke a limit;
the tests also check the shape Slack asks for directly: pages under 250 KB
with distinct action_ids, a new block_id for each version of a root, and long
content posted in parts, in order, with nothing lost.
"""

from __future__ import annotations

import json

from slackapp.blocks.case_view import NEXT_PAGE, PREVIOUS_PAGE
from slackapp.blocks.common import MESSAGE_TEXT_LIMIT, VIEW_BYTES_LIMIT, text_length
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
