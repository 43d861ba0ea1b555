"""Scopes: the app holds what its manifest asks for, and nothing else.

Slack answers a method outside the app's scopes with ``missing_scope``, naming
the scope it ``needed`` and the ones ``provided``; for conversations.* the
scope depends on the kind of conversation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator
from slackapp.emulator.scopes import PROJECT_MANIFEST, manifest_scopes

MANIFEST_SCOPES = set(yaml.safe_load(PROJECT_MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])


def refused(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


def test_the_default_app_holds_the_scopes_of_steward_manifest() -> None:
    with SlackEmulator() as emu:
        assert emu.webapi.scopes == MANIFEST_SCOPES
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        answer = refused(lambda: client.users_info(user="U_ALEX"))
        assert answer == {
            "ok": False,
            "error": "missing_scope",
            "needed": "users:read",
            "provided": ",".join(sorted(MANIFEST_SCOPES)),
        }
        assert client.chat_postMessage(channel="G_STAFF", text="granted")["ok"]


def test_conversation_scopes_depend_on_the_kind_of_conversation() -> None:
    with SlackEmulator(scopes=["groups:read", "im:write"]) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        assert client.conversations_info(channel="G_STAFF")["channel"]["is_private"]
        public = refused(lambda: client.conversations_info(channel="C_GENERAL"))
        assert (public["error"], public["needed"]) == ("missing_scope", "channels:read")
        assert public["provided"] == "groups:read,im:write"
        history = refused(lambda: client.conversations_history(channel="G_STAFF"))
        assert history["needed"] == "groups:history"
        dm = client.conversations_open(users="U_ALEX")["channel"]["id"]
        assert refused(lambda: client.conversations_info(channel=dm))["needed"] == "im:read"
        group = refused(lambda: client.conversations_open(users="U_ALEX,U_BLAIR"))
        assert group["needed"] == "mpim:write"
        posting = refused(lambda: client.chat_postMessage(channel="G_STAFF", text="x"))
        assert posting["needed"] == "chat:write"
        assert client.auth_test()["ok"]  # auth.test needs no scope


def test_scopes_can_come_from_another_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"oauth_config": {"scopes": {"bot": ["reactions:write"]}}}')
    assert manifest_scopes(manifest) == {"reactions:write"}
    with SlackEmulator(scopes=manifest) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        answer = refused(lambda: client.chat_postMessage(channel="G_STAFF", text="x"))
        assert (answer["needed"], answer["provided"]) == ("chat:write", "reactions:write")
        assert emu.state()["channels"]["G_STAFF"]["messages"] == []


def test_a_refused_scope_is_checked_after_the_token() -> None:
    with SlackEmulator(scopes=[]) as emu:
        client = WebClient(base_url=emu.api_url, token="xoxb-wrong")
        assert refused(lambda: client.users_info(user="U_ALEX"))["error"] == "invalid_auth"
