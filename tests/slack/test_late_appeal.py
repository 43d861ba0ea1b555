"""A late appeal in Slack: recorded, refused review, then accepted by a steward who says why,
and the appellant is told, as the late-appeal notice promised."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from core.casework import cases as case_service
from core.decisions.decisions import latest_decision
from core.infra.clock import utcnow
from core.infra.settings import Settings
from tests.followups.conftest import seconds
from tests.slack.conftest import Stack


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, appeal_days=seconds(1))


def _status(stack: Stack) -> str:
    with stack.db.session() as session:
        return case_service.get_case(session, "COC-1").status


def _dm_text(stack: Stack, user: str) -> str:
    """The newest direct message, as one line of words."""
    return " ".join(json.dumps(stack.dm_messages(user)[-1]).replace("\\n", " ").split())


def _text(block_id: str, value: str) -> dict:
    return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}


def test_a_late_appeal_accepted_by_a_steward_is_reviewed_and_its_sender_told(
    stack: Stack,
) -> None:
    stack.report(reported=["U_BLAIR"])
    stack.drain()
    root = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))

    def click(action: str, user: str = "U_STEW1") -> dict:
        return stack.emulator.click(
            user, action, value="1", channel="G_STAFF", message_ts=root["ts"]
        )

    click("case_acknowledge")
    decision = {
        "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "warning"}}},
        **_text("rationale", "Repeated after a request to stop."),
        **_text("message_to_reported", "Please stop."),
        **_text("message_to_reporter", "We have warned them."),
    }
    stack.emulator.submit("U_STEW1", click("case_decide")["views"][0]["id"], decision)
    stack.drain()
    notice = stack.dm_messages("U_BLAIR")[-1]
    with stack.db.session() as session:
        window = latest_decision(session, 1).appeal_deadline  # type: ignore[union-attr]
    time.sleep(max(0.0, (window - utcnow()).total_seconds()) + 0.1)  # the window passes

    blair_dm = stack.emulator.state()["dms"]["U_BLAIR"]
    opened = stack.emulator.click(
        "U_BLAIR", "case_appeal", channel=blair_dm, message_ts=notice["ts"], value="1"
    )
    stack.emulator.submit("U_BLAIR", opened["views"][0]["id"], _text("appeal", "Too late?"))
    stack.drain()
    assert _status(stack) == "awaiting_appeal"  # recorded, but not under review
    assert "window for appeals closed on" in _dm_text(stack, "U_BLAIR")

    opened = click("case_accept_late_appeal")
    answer = stack.emulator.submit(
        "U_STEW1", opened["views"][0]["id"], _text("reason", "They were travelling.")
    )
    assert answer.get("view_closed") is True, answer
    assert _status(stack) == "appeal_review"
    stack.drain()
    told = _dm_text(stack, "U_BLAIR")
    assert "review it all the same" in told
    assert "travelling" not in told  # the stewards' reason stays on the record
