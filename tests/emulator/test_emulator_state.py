"""The control API's state: what it shows, reset, and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from slackapp.emulator import DEFAULT_SEED, ControlError, EmulatorClient, SlackEmulator, load_seed


def test_default_seed_is_the_designed_workspace(emu: SlackEmulator) -> None:
    state = emu.state()
    assert state["team"]["id"] == "T_STEWARD"
    assert {"U_ALEX", "U_BLAIR", "U_STEW1", "U_STEW2"} <= set(state["users"])
    assert state["users"]["U_ALEX"]["email"] == "alex@example.org"
    assert state["users"]["U_BLAIR"]["email"] == "blair@example.org"
    assert state["bot"]["user_id"] == emu.bot_user_id == "U_STEWARDBOT"
    general = state["channels"]["C_GENERAL"]
    assert general["is_private"] is False and len(general["messages"]) >= 3
    assert any(m.get("bot_id") for m in general["messages"])
    assert any(m["replies"] for m in general["messages"])
    staff = state["channels"]["G_STAFF"]
    assert staff["is_private"] and set(staff["members"]) == {"U_STEW1", "U_STEW2", "U_STEWARDBOT"}
    escalate = state["channels"]["G_ESCALATE"]
    assert escalate["is_private"] and emu.bot_user_id in escalate["members"]
    assert len(set(escalate["members"]) & {"U_STEW1", "U_STEW2"}) == 1
    assert Path(DEFAULT_SEED).name == "default_seed.yml"


def test_state_over_http_matches_python(emu: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel="G_STAFF", text="hello")
    over_http = EmulatorClient(emu.url).state()
    assert over_http["channels"] == emu.state()["channels"]
    assert over_http["channels"]["G_STAFF"]["messages"][0]["text"] == "hello"


def test_state_round_trips_as_a_seed(emu: SlackEmulator, client: WebClient, tmp_path: Path) -> None:
    root = client.chat_postMessage(channel="G_STAFF", text="Case C-1")
    client.chat_postMessage(channel="G_STAFF", text="claimed", thread_ts=root["ts"])
    dm = client.conversations_open(users="U_BLAIR")["channel"]["id"]
    client.chat_postMessage(channel=dm, text="Your case")
    client.reactions_add(channel="G_STAFF", timestamp=root["ts"], name="eyes")
    before = EmulatorClient(emu.url).state()

    path = tmp_path / "state.json"
    path.write_text(json.dumps(before))
    with SlackEmulator(seed=path) as again:
        after = again.state()
        assert after["channels"] == before["channels"]
        assert after["users"] == before["users"]
        assert after["dms"] == before["dms"] == {"U_BLAIR": dm}
        copy = WebClient(base_url=again.api_url, token=again.bot_token)
        replies = copy.conversations_replies(channel="G_STAFF", ts=root["ts"])["messages"]
        assert [m["text"] for m in replies] == ["Case C-1", "claimed"]


def test_reset_restores_the_seed(emu: SlackEmulator, client: WebClient) -> None:
    pristine = emu.state()
    client.chat_postMessage(channel="G_STAFF", text="temporary")
    client.conversations_open(users="U_ALEX")
    emu.faults("auth.test", error="fatal_error")
    emu.rate_limit("chat.postMessage", 1)
    assert EmulatorClient(emu.url).reset() == {"ok": True}
    state = emu.state()
    assert state["channels"] == pristine["channels"]
    assert state["dms"] == {} and state["faults"] == {} and state["rate_limits"] == {}
    assert client.auth_test()["ok"]


def test_yaml_and_json_seeds(tmp_path: Path) -> None:
    seed = {
        "team": {"id": "T_X", "name": "X", "domain": "x"},
        "users": [{"id": "U_A", "name": "a", "email": "a@x.org"}],
        "channels": [{"id": "G_S", "is_private": True, "members": ["U_A", "U_STEWARDBOT"]}],
    }
    (tmp_path / "s.yml").write_text(yaml.safe_dump(seed))
    (tmp_path / "s.json").write_text(json.dumps(seed))
    assert load_seed(tmp_path / "s.yml") == load_seed(tmp_path / "s.json") == load_seed(seed)
    with SlackEmulator(seed=str(tmp_path / "s.yml")) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        assert client.auth_test()["team_id"] == "T_X"
        assert client.conversations_info(channel="G_S")["channel"]["is_private"] is True


def test_bad_seed_fails_at_load() -> None:
    with pytest.raises(ValueError):
        load_seed({"channels": [{"id": "G_X", "members": ["U_GHOST"]}]})


def test_control_errors_over_http(emu: SlackEmulator) -> None:
    control = EmulatorClient(emu.url)
    with pytest.raises(ControlError) as info:
        control.post("U_NOBODY", "G_STAFF", "hi")
    assert info.value.status == 404 and info.value.error == "user_not_found"
    with pytest.raises(ControlError) as info:
        control._request("POST", "post", {"user": "U_ALEX"})
    assert info.value.status == 400 and info.value.error == "invalid_arguments"
    with pytest.raises(ControlError) as info:
        control._request("POST", "teleport", {})
    assert info.value.status == 404


def test_config_sets_the_app_url_over_http(emu: SlackEmulator) -> None:
    control = EmulatorClient(emu.url)
    assert control.config("http://127.0.0.1:1/slack/events")["app_url"].endswith("/slack/events")
    assert emu.app_url == "http://127.0.0.1:1/slack/events"
    assert control.state()["app_url"] == emu.app_url


def test_emulator_urls(emu: SlackEmulator) -> None:
    assert emu.url.startswith("http://127.0.0.1:")
    assert emu.api_url == emu.url + "/api/"
    assert emu.bot_token.startswith("xoxb-")
    assert emu.signing_secret == "test-signing-secret"
