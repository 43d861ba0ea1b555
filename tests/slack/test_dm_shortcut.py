"""A message shortcut on a direct message between two members, which the bot cannot read.

The seed's `D_ALEX_BLAIR` is such a DM. Slack sends the message in the
shortcut's payload, so Steward snapshots it without reading the DM itself.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.infra.models import MessageSnapshot
from slackapp.emulator import ControlError
from tests.slack.conftest import Stack, form_values

DM = "D_ALEX_BLAIR"


def test_a_member_reports_a_message_from_their_dm(stack: Stack) -> None:
    [target] = stack.emulator.state()["channels"][DM]["messages"]
    opened = stack.emulator.message_shortcut("U_ALEX", DM, target["ts"], "report_message")
    assert opened["status"] == 200
    [view] = opened["views"]
    assert "tell everyone where you live" in json.dumps(view)
    answer = stack.emulator.submit("U_ALEX", view["id"], form_values(what="In our DM."))
    assert answer["status"] == 200 and answer["view_closed"] is True
    stack.drain()
    with stack.db.session() as session:
        snapshot = session.scalars(select(MessageSnapshot)).one()
        assert snapshot.case_id == 1
        assert snapshot.data["text"] == target["text"]
        assert snapshot.data["user"] == "U_BLAIR"
        assert (snapshot.data["channel"], snapshot.data["is_dm"]) == (DM, True)
    staff = json.dumps(stack.staff_messages())
    assert "COC-1" in staff and "where you live" not in staff
    # The bot cannot read the DM: nothing was posted there, and it is not one of its DMs.
    state = stack.emulator.state()
    assert state["channels"][DM]["messages"] == [target]
    assert DM not in state["dms"].values()


def test_someone_outside_the_dm_cannot_use_the_shortcut_on_it(stack: Stack) -> None:
    [target] = stack.emulator.state()["channels"][DM]["messages"]
    with pytest.raises(ControlError) as refused:
        stack.emulator.message_shortcut("U_STEW1", DM, target["ts"], "report_message")
    assert (refused.value.status, refused.value.error) == (403, "not_in_channel")
