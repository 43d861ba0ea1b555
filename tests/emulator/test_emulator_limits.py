"""Every Block Kit and text limit, through slack-sdk's WebClient, at and past the limit.

Messages are refused with ``invalid_blocks`` and views with ``invalid_arguments``
(Slack's codes for the two surfaces); in both, response_metadata.messages names
the limit and the JSON pointer of the offending field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def button(action_id: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": "Go"}}
        ],
    }


def modal(**overrides: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "callback_id": "limits",
        "title": {"type": "plain_text", "text": "Report"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [section("hello")],
    }
    view.update(overrides)
    return view


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


# (name, limit, build(n) -> message blocks of size n, pointer)
MESSAGE_LIMITS: list[tuple[str, int, Callable[[int], list[dict[str, Any]]], str]] = [
    ("blocks in a message", 50, lambda n: [section("x") for _ in range(n)], "/blocks"),
    ("section text", 3000, lambda n: [section("x" * n)], "/blocks/0/text/text"),
    (
        "header text",
        150,
        lambda n: [{"type": "header", "text": plain("x" * n)}],
        "/blocks/0/text/text",
    ),
    ("block_id", 255, lambda n: [section("x", block_id="b" * n)], "/blocks/0/block_id"),
    ("action_id", 255, lambda n: [button("a" * n)], "/blocks/0/elements/0/action_id"),
]


@pytest.mark.parametrize(("what", "limit", "build", "pointer"), MESSAGE_LIMITS)
def test_message_block_limits(
    client: WebClient,
    what: str,
    limit: int,
    build: Callable[[int], list[dict[str, Any]]],
    pointer: str,
) -> None:
    assert client.chat_postMessage(channel="G_STAFF", text="ok", blocks=build(limit))["ok"]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="too big", blocks=build(limit + 1))
    response = info.value.response
    assert response["error"] == "invalid_blocks"
    messages = response["response_metadata"]["messages"]
    assert len(messages) == 1
    assert what in messages[0] and str(limit) in messages[0]
    assert messages[0].endswith(f"[json-pointer:{pointer}]")


def test_chat_update_checks_blocks_too(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="G_STAFF", text="x")
    with pytest.raises(SlackApiError) as info:
        client.chat_update(
            channel="G_STAFF", ts=posted["ts"], text="x", blocks=[section("x") for _ in range(51)]
        )
    assert info.value.response["error"] == "invalid_blocks"


def test_message_text_limit_is_msg_too_long(client: WebClient, emu: SlackEmulator) -> None:
    assert client.chat_postMessage(channel="G_STAFF", text="x" * 40000)["ok"]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="x" * 40001)
    assert info.value.response["error"] == "msg_too_long"
    posted = emu.state()["channels"]["G_STAFF"]["messages"]
    assert len(posted) == 1
    with pytest.raises(SlackApiError) as info:
        client.chat_update(channel="G_STAFF", ts=posted[0]["ts"], text="y" * 40001)
    assert info.value.response["error"] == "msg_too_long"


def test_blocks_that_are_not_json_are_invalid_blocks_format(emu: SlackEmulator) -> None:
    client = WebClient(base_url=emu.api_url, token=emu.bot_token)
    with pytest.raises(SlackApiError) as info:
        client.api_call(
            "chat.postMessage", params={"channel": "G_STAFF", "text": "x", "blocks": "[{"}
        )
    assert info.value.response["error"] == "invalid_blocks_format"


def test_unknown_block_type_is_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="x", blocks=[{"type": "banner"}])
    assert info.value.response["error"] == "invalid_blocks"


# (name, limit, build(n) -> view, pointer)
VIEW_LIMITS: list[tuple[str, int, Callable[[int], dict[str, Any]], str]] = [
    ("blocks in a modal", 100, lambda n: modal(blocks=[section("x")] * n), "/view/blocks"),
    ("modal title", 24, lambda n: modal(title=plain("t" * n)), "/view/title/text"),
    ("modal submit", 24, lambda n: modal(submit=plain("s" * n)), "/view/submit/text"),
    ("modal close", 24, lambda n: modal(close=plain("c" * n)), "/view/close/text"),
    (
        "private_metadata",
        3000,
        lambda n: modal(private_metadata="m" * n),
        "/view/private_metadata",
    ),
    ("section text", 3000, lambda n: modal(blocks=[section("x" * n)]), "/view/blocks/0/text/text"),
    (
        "header text",
        150,
        lambda n: modal(blocks=[{"type": "header", "text": plain("h" * n)}]),
        "/view/blocks/0/text/text",
    ),
    (
        "block_id",
        255,
        lambda n: modal(blocks=[section("x", block_id="b" * n)]),
        "/view/blocks/0/block_id",
    ),
    (
        "action_id",
        255,
        lambda n: modal(blocks=[button("a" * n)]),
        "/view/blocks/0/elements/0/action_id",
    ),
]


def _fresh_trigger(emu: SlackEmulator) -> str:
    return emu.workspace.issue_trigger("U_ALEX", "test")


@pytest.mark.parametrize(("what", "limit", "build", "pointer"), VIEW_LIMITS)
def test_modal_limits(
    client: WebClient,
    emu: SlackEmulator,
    what: str,
    limit: int,
    build: Callable[[int], dict[str, Any]],
    pointer: str,
) -> None:
    opened = client.views_open(trigger_id=_fresh_trigger(emu), view=build(limit))
    assert opened["view"]["id"]
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id=_fresh_trigger(emu), view=build(limit + 1))
    response = info.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert any(
        what in m and str(limit) in m and m.endswith(f"[json-pointer:{pointer}]") for m in messages
    ), messages


def test_view_update_and_push_check_limits(client: WebClient, emu: SlackEmulator) -> None:
    view = client.views_open(trigger_id=_fresh_trigger(emu), view=modal())["view"]
    too_long = modal(title=plain("t" * 25))
    with pytest.raises(SlackApiError) as info:
        client.views_update(view_id=view["id"], view=too_long)
    assert info.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as info:
        client.views_push(trigger_id=_fresh_trigger(emu), view=too_long)
    assert info.value.response["error"] == "invalid_arguments"


def test_home_tab_allows_100_blocks(client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert client.views_publish(user_id="U_ALEX", view=home)["ok"]
    home["blocks"] = [section("x")] * 101
    with pytest.raises(SlackApiError) as info:
        client.views_publish(user_id="U_ALEX", view=home)
    assert "no more than 100 items" in info.value.response["response_metadata"]["messages"][0]


def test_modal_with_inputs_needs_submit(client: WebClient, emu: SlackEmulator) -> None:
    view = modal(
        submit=None,
        blocks=[
            {
                "type": "input",
                "label": plain("What happened?"),
                "element": {"type": "plain_text_input", "action_id": "t"},
            }
        ],
    )
    del view["submit"]
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id=_fresh_trigger(emu), view=view)
    assert "[json-pointer:/view/submit]" in info.value.response["response_metadata"]["messages"][0]


def test_duplicate_block_ids_are_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(
            channel="G_STAFF", text="x", blocks=[section("a", "same"), section("b", "same")]
        )
    assert "duplicate block_id" in info.value.response["response_metadata"]["messages"][0]
