"""The emulator's room methods, as Slack documents them: conversations.create, .invite,
.kick and .list, with the scopes each needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator


@pytest.fixture
def client() -> Iterator[WebClient]:
    with SlackEmulator() as emu:
        yield WebClient(base_url=emu.api_url, token=emu.bot_token)


def error_of(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


def test_a_private_room_is_created_invited_to_and_left(client: WebClient) -> None:
    room = client.conversations_create(name="coc-7-restricted", is_private=True)["channel"]
    assert (room["is_private"], room["name"], room["num_members"]) == (
        True,
        "coc-7-restricted",
        1,
    )
    assert error_of(lambda: client.conversations_create(name="coc-7-restricted", is_private=True))[
        "error"
    ] == ("name_taken")
    assert error_of(lambda: client.conversations_create(name="Has Spaces", is_private=True))[
        "error"
    ] == ("invalid_name_specials")
    client.conversations_invite(channel=room["id"], users="U_STEW1,U_STEW2")
    assert error_of(lambda: client.conversations_invite(channel=room["id"], users="U_STEW1"))[
        "error"
    ] == ("already_in_channel")
    client.conversations_kick(channel=room["id"], user="U_STEW2")
    members = client.conversations_members(channel=room["id"])["members"]
    assert sorted(members) == ["U_STEW1", "U_STEWARDBOT"]
    assert error_of(lambda: client.conversations_kick(channel=room["id"], user="U_STEW2"))[
        "error"
    ] == ("not_in_channel")
    listed = client.conversations_list(types="private_channel")["channels"]
    assert room["id"] in [c["id"] for c in listed]


def test_rooms_need_the_scopes_the_manifest_grants() -> None:
    with SlackEmulator(scopes=["chat:write", "groups:read"]) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        answer = error_of(lambda: client.conversations_create(name="coc-1", is_private=True))
        assert (answer["error"], answer["needed"]) == ("missing_scope", "groups:write")
        answer = error_of(lambda: client.conversations_create(name="coc-1"))
        assert answer["needed"] == "channels:manage"
        answer = error_of(lambda: client.conversations_invite(channel="G_STAFF", users="U_ALEX"))
        assert answer["needed"] == "groups:write"
        answer = error_of(lambda: client.conversations_list(types="public_channel"))
        assert answer["needed"] == "channels:read"
        assert client.conversations_list(types="private_channel")["ok"]
