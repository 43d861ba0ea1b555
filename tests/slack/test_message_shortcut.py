"""*Report this message*: the author is suggested as the reported person, the snapshot is
kept, and both are in the case's export."""

from __future__ import annotations

import json
from pathlib import Path

from core.casework import cases as case_service
from core.records.export import case_detail
from tests.slack.conftest import Stack, form_values
from tests.smtp_helpers import cases_show

WELCOME_TS = "1700000100.000100"  # by U_STEW1, a steward, in the seeded #general


def open_form(stack: Stack, ts: str, user: str = "U_ALEX") -> dict:
    [form] = stack.emulator.message_shortcut(user, "C_GENERAL", ts, "report_message")["views"]
    return form


def reported_field(form: dict) -> dict:
    block = next(b for b in form["blocks"] if b.get("block_id") == "reported_users")
    return block["element"]


def untouched(values: dict) -> dict:
    """The answers of a reporter who left "Who are you reporting?" as it was."""
    return {k: v for k, v in values.items() if k != "reported_users"}


def test_the_author_is_preselected_and_kept_when_left_alone(stack: Stack) -> None:
    posted = stack.emulator.post("U_BLAIR", "C_GENERAL", "You again?")
    form = open_form(stack, posted["ts"])
    assert reported_field(form)["initial_users"] == ["U_BLAIR"]
    stack.emulator.submit("U_ALEX", form["id"], untouched(form_values()))
    stack.drain()
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        reported = [p.person.slack_user_id for p in case.parties if p.role == "reported"]
        assert reported == ["U_BLAIR"]


def test_the_reporter_can_change_the_reported_person(stack: Stack) -> None:
    posted = stack.emulator.post("U_BLAIR", "C_GENERAL", "You again?")
    form = open_form(stack, posted["ts"])
    stack.emulator.submit("U_ALEX", form["id"], form_values(reported=["U_STEW2"]))
    stack.drain()
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        reported = [p.person.slack_user_id for p in case.parties if p.role == "reported"]
        assert reported == ["U_STEW2"] and case.flags["recused"] == ["U_STEW2"]


def seen_by(stack: Stack, user: str) -> str:
    """Everything a member can see in the workspace: their conversations and their Home tab."""
    state = stack.emulator.state()
    channels = [c for c in state["channels"].values() if user in c["members"]]
    return json.dumps([channels, state["home_tabs"].get(user)])


def test_a_stewards_message_is_kept_from_them_unless_the_author_is_removed(
    stack: Stack,
) -> None:
    form = open_form(stack, WELCOME_TS)
    assert reported_field(form)["initial_users"] == ["U_STEW1"]
    stack.emulator.submit("U_ALEX", form["id"], untouched(form_values()))
    form = open_form(stack, WELCOME_TS)
    stack.emulator.submit("U_ALEX", form["id"], form_values(reported=[]))
    stack.drain()
    stack.emulator.open_home("U_STEW1")
    stack.drain()
    # COC-1 names U_STEW1: it is discussed in a restricted room of the other steward only,
    # never in the shared staff channel, and U_STEW1 sees nothing of it anywhere.
    [room] = [c for c in stack.emulator.state()["channels"].values() if "coc-1" in c["name"]]
    assert room["is_private"] and sorted(room["members"]) == ["U_STEW2", "U_STEWARDBOT"]
    assert [m for m in stack.staff_messages(room["id"]) if "COC-1" in m.get("text", "")]
    assert not [m for m in stack.staff_messages("G_STAFF") if "COC-1" in json.dumps(m)]
    assert not [m for m in stack.staff_messages("G_ESCALATE") if "COC-1" in json.dumps(m)]
    assert "COC-1" not in seen_by(stack, "U_STEW1") and "COC-2" in seen_by(stack, "U_STEW1")
    assert [m for m in stack.staff_messages("G_STAFF") if "COC-2" in m.get("text", "")]
    with stack.db.session() as session:
        first = case_service.get_case(session, "COC-1")
        second = case_service.get_case(session, "COC-2")
        assert first.flags["recused"] == ["U_STEW1"] and not first.escalated
        assert first.slack_channel == room["id"]
        assert not second.escalated and not second.flags.get("recused")


def test_an_apps_message_suggests_nobody(stack: Stack) -> None:
    general = stack.emulator.state()["channels"]["C_GENERAL"]["messages"]
    target = next(m for m in general if m.get("bot_id"))
    assert "initial_users" not in reported_field(open_form(stack, target["ts"]))


def test_the_snapshot_is_in_the_export(stack: Stack) -> None:
    posted = stack.emulator.post("U_BLAIR", "C_GENERAL", "Fish & chips <3")
    form = open_form(stack, posted["ts"])
    stack.emulator.submit("U_ALEX", form["id"], form_values(what="This."))
    stack.drain()
    with stack.db.session() as session:
        data = case_detail(session, case_service.get_case(session, "COC-1"))
    snapshot = data["snapshot"]
    assert snapshot["text"] == "Fish & chips <3"
    assert (snapshot["user"], snapshot["channel"], snapshot["ts"]) == (
        "U_BLAIR",
        "C_GENERAL",
        posted["ts"],
    )
    assert snapshot["taken_at"] and data["attachments"] == []


def test_cases_show_json_prints_the_snapshot(stack: Stack, tmp_path: Path) -> None:
    posted = stack.emulator.post("U_BLAIR", "C_GENERAL", "Fish & chips <3")
    form = open_form(stack, posted["ts"])
    stack.emulator.submit("U_ALEX", form["id"], form_values(what="This."))
    stack.drain()
    data = cases_show(stack.settings.database_url, "COC-1", tmp_path)
    assert data["snapshot"]["text"] == "Fish & chips <3"
    assert data["attachments"] == []
