"""Conflicts kept out of the room: a case with a conflict moves to a private room of the
stewards who may see it, through the real Bolt app and the emulator."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from core.casework import actions
from core.casework import cases as case_service
from core.casework.deadlines import DeadlineKind, schedule
from core.casework.followups import fire
from core.infra.clock import utcnow
from core.infra.models import AuditEvent, OutboxItem
from tests.slack.conftest import Stack, block_action, eventually, post_signed

ROOM_NAME = "coc-1-restricted"


def room(stack: Stack, name: str = ROOM_NAME) -> dict:
    [found] = [c for c in stack.emulator.state()["channels"].values() if c["name"] == name]
    return found


def case_root(stack: Stack, channel: str, ref: str = "COC-1") -> dict:
    return next(m for m in stack.staff_messages(channel) if ref in m.get("text", ""))


def click(stack: Stack, user: str, action_id: str, channel: str, root: dict) -> dict:
    return stack.emulator.click(user, action_id, channel=channel, message_ts=root["ts"], value="1")


def recuse_in_staff_channel(stack: Stack, steward: str = "U_STEW2") -> dict:
    stack.report()
    stack.drain()
    staff_root = case_root(stack, "G_STAFF")
    click(stack, steward, "case_recuse", "G_STAFF", staff_root)
    stack.drain()
    return staff_root


def test_a_case_naming_a_steward_is_discussed_in_a_room_without_them(stack: Stack) -> None:
    stack.report(reported=["U_STEW1"])
    stack.drain()
    restricted = room(stack)
    assert restricted["is_private"] is True
    assert sorted(restricted["members"]) == ["U_STEW2", "U_STEWARDBOT"]
    assert case_root(stack, restricted["id"])
    # The shared channel never hears of the case; the escalation channel is not needed.
    assert not [m for m in stack.staff_messages("G_STAFF") if "COC-1" in json.dumps(m)]
    assert not [m for m in stack.staff_messages("G_ESCALATE") if "COC-1" in json.dumps(m)]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.flags["recused"] == ["U_STEW1"]
        assert [(c["steward"], c["source"]) for c in case.flags["conflicts"]] == [
            ("U_STEW1", "named")
        ]
        assert case.flags["restricted_room"] == restricted["id"]
        assert (case.slack_channel, case.escalated) == (restricted["id"], False)


def test_a_case_naming_every_steward_goes_to_the_escalation_channel(stack: Stack) -> None:
    stack.report(reported=["U_STEW1", "U_STEW2"])
    stack.drain()
    assert case_root(stack, "G_ESCALATE")
    assert not [m for m in stack.staff_messages("G_STAFF") if "COC-1" in json.dumps(m)]
    assert not [c for c in stack.emulator.state()["channels"].values() if c["name"] == ROOM_NAME]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.escalated and sorted(case.flags["recused"]) == ["U_STEW1", "U_STEW2"]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.escalated"))
        assert [e.case_id for e in events] == [1]


def test_a_report_by_a_steward_is_discussed_without_them(stack: Stack) -> None:
    stack.report(user="U_STEW1")
    stack.drain()
    assert sorted(room(stack)["members"]) == ["U_STEW2", "U_STEWARDBOT"]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert [(c["steward"], c["source"]) for c in case.flags["conflicts"]] == [
            ("U_STEW1", "reporter")
        ]


def test_declaring_a_conflict_moves_the_discussion_to_a_room(stack: Stack) -> None:
    staff_root = recuse_in_staff_channel(stack)
    restricted = room(stack)
    assert sorted(restricted["members"]) == ["U_STEW1", "U_STEWARDBOT"]
    # The shared thread keeps one line, with no name and no reason, and no buttons.
    kept = next(m for m in stack.staff_messages("G_STAFF") if m["ts"] == staff_root["ts"])
    assert kept["text"] == "COC-1 is handled in a restricted room."
    assert [b["type"] for b in kept["blocks"]] == ["section"]
    assert "U_STEW1" not in json.dumps(kept) and "U_STEW2" not in json.dumps(kept)
    replies = [m for m in stack.staff_messages("G_STAFF") if m.get("thread_ts") == kept["ts"]]
    assert not [m for m in replies if "conflict" in m["text"]]
    # The room has the root with its buttons, and the conflict line.
    root = case_root(stack, restricted["id"])
    assert "case_view_report" in json.dumps(root["blocks"])
    lines = [m["text"] for m in stack.staff_messages(restricted["id"]) if m["ts"] != root["ts"]]
    assert any("declared a conflict" in line for line in lines)
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        [conflict] = case.flags["conflicts"]
        assert (conflict["steward"], conflict["source"], conflict["reason"]) == (
            "U_STEW2",
            "declared",
            None,
        )


def test_buttons_work_in_the_room_and_later_activity_goes_there(stack: Stack) -> None:
    staff_root = recuse_in_staff_channel(stack)
    restricted = room(stack)["id"]
    root = case_root(stack, restricted)
    [view] = click(stack, "U_STEW1", "case_view_report", restricted, root)["views"]
    assert "Conflicts: <@U_STEW2> (declared a conflict)" in json.dumps(view)
    click(stack, "U_STEW1", "case_claim", restricted, root)
    stack.drain()
    updated = case_root(stack, restricted)
    assert updated["ts"] == root["ts"] and "<@U_STEW1>" in json.dumps(updated["blocks"])
    assert any("claimed this case" in m["text"] for m in stack.staff_messages(restricted))
    # The reporter writes again: the line goes to the room, never to the shared thread.
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], "It went on.")

    def reporter_wrote() -> bool:
        with stack.db.session() as session:
            kinds = [e.kind for e in case_service.get_case(session, "COC-1").entries]
            return "reporter_message" in kinds

    assert eventually(reporter_wrote)
    stack.drain()
    assert any("reporter sent a new message" in m["text"] for m in stack.staff_messages(restricted))
    shared = [m for m in stack.staff_messages("G_STAFF") if m.get("thread_ts") == staff_root["ts"]]
    assert not [m for m in shared if "reporter sent" in m["text"] or "claimed" in m["text"]]
    # The old root has no buttons left; a click that reached the app another way is refused.
    payload = block_action("U_STEW2", "case_view_report", "1", "G_STAFF", staff_root["ts"])
    assert post_signed(stack.web.events_url, stack.settings.slack_signing_secret, payload)[0] == 200

    def refused() -> list[tuple[str, str]]:
        with stack.db.session() as session:
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "access.refused")
            )
            return [(e.actor, e.detail["attempted"]) for e in events]

    assert eventually(refused) == [("user:U_STEW2", "view_report")]


def test_the_last_steward_to_recuse_sends_the_case_to_escalation(stack: Stack) -> None:
    recuse_in_staff_channel(stack, "U_STEW2")
    restricted = room(stack)["id"]
    click(stack, "U_STEW1", "case_recuse", restricted, case_root(stack, restricted))
    stack.drain()
    assert room(stack)["members"] == ["U_STEWARDBOT"]
    assert case_root(stack, "G_ESCALATE")
    kept = case_root(stack, restricted)
    assert kept["text"] == "COC-1 is handled in a restricted room."


def test_reminders_mention_only_the_stewards_who_may_see_the_case(stack: Stack) -> None:
    recuse_in_staff_channel(stack, "U_STEW2")
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        due = schedule(session, case, DeadlineKind.ACKNOWLEDGEMENT, utcnow(), {"escalate": True})
        session.flush()
        deadline_id = due.id
    with stack.db.session() as session:
        fire(session, stack.settings, deadline_id, utcnow() + timedelta(seconds=1))
    stack.drain()
    [reminder] = [m for m in stack.staff_messages(room(stack)["id"]) if "All stewards" in m["text"]]
    assert reminder["text"].startswith("<@U_STEW1> ")
    assert "U_STEW2" not in reminder["text"] and "<!channel>" not in reminder["text"]


def test_a_room_made_by_a_lost_try_is_found_not_made_twice(stack: Stack) -> None:
    stack.report()
    stack.drain()
    # A first try created the room, then died before recording it.
    made = stack.slack.client.conversations_create(name=ROOM_NAME, is_private=True)
    with stack.db.session() as session:
        actions.recuse(session, case_service.get_case(session, "COC-1"), "U_STEW2")
    stack.drain()
    channels = [c for c in stack.emulator.state()["channels"].values() if c["name"] == ROOM_NAME]
    assert [c["id"] for c in channels] == [made["channel"]["id"]]
    assert sorted(channels[0]["members"]) == ["U_STEW1", "U_STEWARDBOT"]
    with stack.db.session() as session:
        create = session.scalars(select(OutboxItem).where(OutboxItem.kind == "room.create")).one()
        assert (create.status, create.result_ref) == ("delivered", made["channel"]["id"])


def test_app_home_lists_a_case_only_to_stewards_who_may_see_it(stack: Stack) -> None:
    recuse_in_staff_channel(stack, "U_STEW2")
    stack.report(reported=["U_STEW1"])  # COC-2 names the other steward
    stack.drain()
    for user in ("U_STEW1", "U_STEW2"):
        stack.emulator.open_home(user)
    stack.drain()
    homes = stack.emulator.state()["home_tabs"]
    first, second = json.dumps(homes["U_STEW1"]), json.dumps(homes["U_STEW2"])
    assert "COC-1" in first and "COC-2" not in first
    assert "COC-1" not in second and "COC-2" in second
