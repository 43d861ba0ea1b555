"""Expunging a case clears what Steward posted about it in Slack, through the real stack:
the Bolt app, the outbox worker and the emulator over HTTP.

Full disclosure is on, so the thread quotes the report: after expunging, nothing of
it may be left in the emulator's stored messages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.clock import utcnow
from core.infra.models import AuditEvent, OutboxItem
from core.infra.settings import Settings
from core.records.retention import expunge
from tests.slack.conftest import Stack, eventually

SECRET = "Quillon mocked my accent at the zeppelin meetup and followed me out."
STEWARD_REPLY = "I will talk to the venue today."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, full_disclosure=True)


def reported_with_a_quoted_message(stack: Stack) -> None:
    """A Slack report, then the reporter's later message, which the thread quotes."""
    stack.report("U_ALEX", reported=["U_BLAIR"])
    stack.drain()
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], SECRET)

    def quoted() -> bool:
        stack.drain()
        return SECRET in json.dumps(stack.staff_messages())

    assert eventually(quoted)


def thread(stack: Stack, channel: str, root_ts: str) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.staff_messages(channel)
        if m["ts"] == root_ts or m.get("thread_ts") == root_ts
    ]


def root_of(stack: Stack, channel: str, ref: str = "COC-1") -> dict[str, Any]:
    return next(
        m for m in stack.staff_messages(channel) if ref in m.get("text", "") and "replies" in m
    )


def expunge_case(stack: Stack, ref: str = "COC-1") -> str:
    """Expunge as the `expunge` deadline does, then let the worker deliver."""
    with stack.db.session() as session:
        case = case_service.get_case(session, ref)
        code_name = case.code_name
        expunge(session, case)
    stack.drain()
    return code_name


def tombstone(ref: str, code_name: str) -> str:
    today = utcnow().date().isoformat()
    return f"{ref} ({code_name}) was expunged on {today} under the retention rules."


def bot_replies(messages: list[dict[str, Any]], root_ts: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["ts"] != root_ts and m.get("bot_id")]


def audits(stack: Stack, action: str) -> list[AuditEvent]:
    with stack.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def expunge_row(stack: Stack) -> OutboxItem:
    with stack.db.session() as session:
        [row] = session.scalars(select(OutboxItem).where(OutboxItem.kind == "case.expunge"))
        session.expunge(row)
        return row


def moved_to_room(stack: Stack) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A steward recuses from COC-1, which moves to its restricted room: the shared
    root left behind, the room, and the root there."""
    shared = root_of(stack, "G_STAFF")
    stack.emulator.click(
        "U_STEW2", "case_recuse", channel="G_STAFF", message_ts=shared["ts"], value="1"
    )
    stack.drain()
    [room] = [
        c for c in stack.emulator.state()["channels"].values() if c["name"].startswith("coc-1")
    ]
    return shared, room["id"], root_of(stack, room["id"])


def assert_cleared(stack: Stack, channel: str, root_ts: str, code_name: str, *gone: str) -> None:
    """The root is COC-1's tombstone, no line of the bot's is left under it, and none of
    `gone` is anywhere in the channel."""
    messages = thread(stack, channel, root_ts)
    [new_root] = [m for m in messages if m["ts"] == root_ts]
    assert new_root["text"] == tombstone("COC-1", code_name)
    assert bot_replies(messages, root_ts) == []
    stored = json.dumps(stack.emulator.state()["channels"][channel])
    for text in gone:
        assert text not in stored


def test_the_root_becomes_a_tombstone_stewards_lines_go_and_a_stewards_reply_stays(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    reported_with_a_quoted_message(stack)
    root = root_of(stack, "G_STAFF")
    stack.emulator.post("U_STEW1", "G_STAFF", STEWARD_REPLY, thread_ts=root["ts"])
    stack.drain()
    lines = bot_replies(thread(stack, "G_STAFF", root["ts"]), root["ts"])
    assert lines
    dms = stack.dm_messages("U_ALEX")
    assert dms

    with caplog.at_level(logging.DEBUG):
        code_name = expunge_case(stack)
    cleared = [r for r in caplog.records if r.name == "slackapp.expunging"]
    assert [r.getMessage() for r in cleared] == [
        f"expunged case cleared from Slack: {len(lines)} message(s) deleted, 0 kept"
    ]
    assert SECRET not in caplog.text and "Quillon" not in caplog.text

    messages = thread(stack, "G_STAFF", root["ts"])
    [new_root] = [m for m in messages if m["ts"] == root["ts"]]
    assert new_root["text"] == tombstone("COC-1", code_name)
    assert not [b for b in new_root["blocks"] if b["type"] == "actions"]
    assert "Stewards' replies stay" in json.dumps(new_root["blocks"])
    assert bot_replies(messages, root["ts"]) == []
    assert [m["text"] for m in messages if m.get("user") == "U_STEW1"] == [STEWARD_REPLY]
    assert SECRET not in json.dumps(stack.emulator.state()["channels"]["G_STAFF"])
    assert "accent" not in json.dumps(stack.emulator.state()["channels"]["G_STAFF"])
    # A reporter's direct messages are their own record of what they were told.
    assert stack.dm_messages("U_ALEX") == dms
    row = expunge_row(stack)
    assert (row.status, row.attempts) == ("delivered", 1)
    assert row.result_ref.startswith("deleted ") and row.result_ref.endswith(", kept 0")
    assert audits(stack, "slack.messages_kept") == []


def test_a_case_moved_to_a_restricted_room_is_cleared_in_both_places(stack: Stack) -> None:
    reported_with_a_quoted_message(stack)
    shared, room, in_room = moved_to_room(stack)
    later = "Quillon wrote to me again last night."
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], later)

    def quoted_in_room() -> bool:
        stack.drain()
        return later in json.dumps(stack.staff_messages(room))

    assert eventually(quoted_in_room)
    assert SECRET in json.dumps(stack.staff_messages("G_STAFF"))

    code_name = expunge_case(stack)

    for channel, root in (("G_STAFF", shared), (room, in_room)):
        assert_cleared(stack, channel, root["ts"], code_name, SECRET, later)


def test_a_line_already_gone_is_done_and_one_slack_refuses_is_kept_and_audited(
    stack: Stack,
) -> None:
    reported_with_a_quoted_message(stack)
    root = root_of(stack, "G_STAFF")
    stack.emulator.click(
        "U_STEW1", "case_claim", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    stack.drain()
    lines = bot_replies(thread(stack, "G_STAFF", root["ts"]), root["ts"])
    assert len(lines) >= 2
    # The first delete meets a line deleted meanwhile; the second, one Slack will not delete.
    stack.emulator.faults("chat.delete", error="message_not_found")
    stack.emulator.faults("chat.delete", error="cant_delete_message")

    expunge_case(stack)

    row = expunge_row(stack)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    [kept] = audits(stack, "slack.messages_kept")
    assert kept.case_id == 1 and kept.detail["reason"] == "cant_delete_message"
    [refused] = kept.detail["messages"]
    left = bot_replies(thread(stack, "G_STAFF", root["ts"]), root["ts"])
    assert [m["ts"] for m in left] == [lines[0]["ts"], refused["ts"]]
    assert refused == {"channel": "G_STAFF", "ts": lines[1]["ts"]}


def test_a_case_never_posted_is_expunged_without_posting_anything(stack: Stack) -> None:
    stack.report("U_ALEX", what=SECRET, reported=["U_BLAIR"])
    expunge_case(stack)
    assert not [m for m in stack.staff_messages("G_STAFF") if "COC-1" in json.dumps(m)]
    assert expunge_row(stack).status == "delivered"


def test_an_escalated_case_is_cleared_in_the_staff_channel_its_room_and_escalation(
    stack: Stack,
) -> None:
    reported_with_a_quoted_message(stack)
    shared, room, in_room = moved_to_room(stack)
    stack.emulator.click(
        "U_STEW1", "case_recuse", channel=room, message_ts=in_room["ts"], value="1"
    )
    stack.drain()
    escalated = root_of(stack, "G_ESCALATE")

    code_name = expunge_case(stack)

    roots = (("G_STAFF", shared), (room, in_room), ("G_ESCALATE", escalated))
    for channel, root in roots:
        assert_cleared(stack, channel, root["ts"], code_name, SECRET)


def test_slack_failing_mid_clean_up_is_retried_until_the_thread_is_clear(stack: Stack) -> None:
    reported_with_a_quoted_message(stack)
    root = root_of(stack, "G_STAFF")
    stack.emulator.faults("chat.delete", status=500)

    expunge_case(stack)

    def cleared() -> bool:
        stack.drain()
        return expunge_row(stack).status == "delivered"

    assert eventually(cleared, timeout=15)
    row = expunge_row(stack)
    assert row.attempts == 2
    assert bot_replies(thread(stack, "G_STAFF", root["ts"]), root["ts"]) == []
    assert SECRET not in json.dumps(stack.emulator.state()["channels"]["G_STAFF"])
    assert audits(stack, "slack.messages_kept") == []
