"""trigger_id rules: single use, a 3 s life by default, and the view stack."""

from __future__ import annotations

import inspect
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator

MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Report"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


def test_default_trigger_life_is_three_seconds() -> None:
    default = inspect.signature(SlackEmulator).parameters["trigger_ttl"].default
    assert default == 3.0
    assert SlackEmulator().workspace.trigger_ttl == 3.0


def test_old_trigger_is_expired() -> None:
    with SlackEmulator(trigger_ttl=0.2) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        fresh = emu.workspace.issue_trigger("U_ALEX", "test")
        assert client.views_open(trigger_id=fresh, view=MODAL)["ok"]
        old = emu.workspace.issue_trigger("U_ALEX", "test")
        time.sleep(0.3)
        with pytest.raises(SlackApiError) as info:
            client.views_open(trigger_id=old, view=MODAL)
        assert info.value.response["error"] == "expired_trigger_id"


def test_trigger_used_twice_is_exchanged(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.workspace.issue_trigger("U_ALEX", "test")
    first = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert info.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as info:
        client.views_push(trigger_id=trigger, view=MODAL)
    assert info.value.response["error"] == "exchanged_trigger_id"
    assert emu.state()["open_views"] == {"U_ALEX": [first["id"]]}


def test_unknown_trigger_is_invalid(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id="123.456.abc", view=MODAL)
    assert info.value.response["error"] == "invalid_trigger_id"


def test_view_stack_is_three_deep(client: WebClient, emu: SlackEmulator) -> None:
    def trigger() -> str:
        return emu.workspace.issue_trigger("U_ALEX", "test")

    root = client.views_open(trigger_id=trigger(), view=MODAL)["view"]
    second = client.views_push(trigger_id=trigger(), view=MODAL)["view"]
    third = client.views_push(trigger_id=trigger(), view=MODAL)["view"]
    assert second["previous_view_id"] == root["id"] and third["root_view_id"] == root["id"]
    with pytest.raises(SlackApiError) as info:
        client.views_push(trigger_id=trigger(), view=MODAL)
    assert info.value.response["error"] == "push_limit_reached"
    assert emu.state()["open_views"]["U_ALEX"] == [root["id"], second["id"], third["id"]]


def test_views_update_by_id_external_id_and_hash(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.workspace.issue_trigger("U_ALEX", "test")
    view = client.views_open(trigger_id=trigger, view={**MODAL, "external_id": "case-1"})["view"]
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Updated"}}
    by_id = client.views_update(view_id=view["id"], view=changed, hash=view["hash"])["view"]
    assert by_id["id"] == view["id"] and by_id["title"]["text"] == "Updated"
    with pytest.raises(SlackApiError) as info:
        client.views_update(view_id=view["id"], view=changed, hash=view["hash"])
    assert info.value.response["error"] == "hash_conflict"
    by_external = client.views_update(external_id="case-1", view=changed)["view"]
    assert by_external["id"] == view["id"]
