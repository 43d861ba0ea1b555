"""conversations.info asks for the scope of the conversation's kind, as Slack does.

Slack needs `channels:read` for a public channel, `groups:read` for a private
one, `im:read` / `mpim:read` for (group) direct messages. An app granted only
some of them gets `missing_scope` with `needed` and `provided`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator
from slackapp.emulator.seed import load_seed

GRANTED = ["chat:write", "groups:read", "im:write"]


@pytest.fixture
def client() -> Iterator[WebClient]:
    seed = load_seed(None)
    seed["bot"]["scopes"] = GRANTED
    with SlackEmulator(seed=seed) as emu:
        yield WebClient(base_url=emu.api_url, token=emu.bot_token)


def refusal(client: WebClient, channel: str) -> dict:
    with pytest.raises(SlackApiError) as err:
        client.conversations_info(channel=channel)
    return err.value.response.data


def test_a_private_channel_the_bot_is_in_needs_groups_read(client: WebClient) -> None:
    info = client.conversations_info(channel="G_STAFF")["channel"]
    assert info["is_private"] is True


def test_a_public_channel_needs_channels_read(client: WebClient) -> None:
    assert refusal(client, "C_GENERAL") == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:read",
        "provided": "chat:write,groups:read,im:write",
    }


def test_a_direct_message_needs_im_read(client: WebClient) -> None:
    dm = client.conversations_open(users="U_ALEX")["channel"]["id"]
    assert refusal(client, dm)["needed"] == "im:read"


def test_a_channel_the_bot_cannot_see_is_not_found_whatever_the_scopes(
    client: WebClient,
) -> None:
    assert refusal(client, "C_NOPE")["error"] == "channel_not_found"


def test_a_seed_without_scopes_grants_them_all() -> None:
    with SlackEmulator() as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        assert client.conversations_info(channel="C_GENERAL")["channel"]["is_private"] is False
