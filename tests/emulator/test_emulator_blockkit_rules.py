"""Block Kit rules beyond lengths: each payload breaks one documented rule.

Each case is sent through slack-sdk's WebClient, and the emulator must answer
with Slack's error and name the offending field; the same payload with the rule
respected must pass. Sources are listed in docs/slack-emulator.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def option(text: str, value: str, kind: str = "plain_text") -> dict[str, Any]:
    return {"text": {"type": kind, "text": text}, "value": value}


def button(action_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": action_id, **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def input_block(element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "label": plain("Label"), "element": element, **extra}


def radio(count: int, initial: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": "r",
        "options": [option(f"Choice {i}", f"v{i}") for i in range(count)],
    }
    if initial is not None:
        element["initial_option"] = initial
    return element


def confirm(title: str) -> dict[str, Any]:
    return {
        "title": plain(title),
        "text": plain("Are you sure?"),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }


# (rule, good blocks, bad blocks, pointer of the refusal)
MESSAGE_RULES: list[tuple[str, list[Any], list[Any], str]] = [
    (
        "duplicate action_id",
        [actions(button("next"), button("previous"))],
        [actions(button("page"), button("page"))],
        "/blocks/0/elements/1/action_id",
    ),
    (
        "emoji is only allowed on plain_text",
        [{"type": "section", "text": mrkdwn(":wave: hi")}],
        [{"type": "section", "text": {**mrkdwn(":wave: hi"), "emoji": True}}],
        "/blocks/0/text/emoji",
    ),
    (
        "must be more than 0 characters",
        [{"type": "section", "text": mrkdwn("x")}],
        [{"type": "section", "text": mrkdwn("")}],
        "/blocks/0/text/text",
    ),
    (
        "button url",
        [actions(button("open", url="https://e.org/" + "u" * 2986))],
        [actions(button("open", url="https://e.org/" + "u" * 2987))],
        "/blocks/0/elements/0/url",
    ),
    (
        "confirm title",
        [actions(button("x", confirm=confirm("t" * 100)))],
        [actions(button("x", confirm=confirm("t" * 101)))],
        "/blocks/0/elements/0/confirm/title/text",
    ),
    (
        "button style",
        [actions(button("x", style="danger"))],
        [actions(button("x", style="warning"))],
        "/blocks/0/elements/0/style",
    ),
    (
        "option text",
        [actions({"type": "static_select", "options": [option("o" * 75, "v")]})],
        [actions({"type": "static_select", "options": [option("o" * 76, "v")]})],
        "/blocks/0/elements/0/options/0/text/text",
    ),
    (
        "option value",
        [actions({"type": "static_select", "options": [option("o", "v" * 150)]})],
        [actions({"type": "static_select", "options": [option("o", "v" * 151)]})],
        "/blocks/0/elements/0/options/0/value",
    ),
    (
        "option text must be of type plain_text",
        [actions({"type": "static_select", "options": [option("o", "v")]})],
        [actions({"type": "static_select", "options": [option("o", "v", "mrkdwn")]})],
        "/blocks/0/elements/0/options/0/text/type",
    ),
    (
        "placeholder",
        [actions({"type": "users_select", "placeholder": plain("p" * 150)})],
        [actions({"type": "users_select", "placeholder": plain("p" * 151)})],
        "/blocks/0/elements/0/placeholder/text",
    ),
    (
        "radio_buttons options",
        [actions(radio(10))],
        [actions(radio(11))],
        "/blocks/0/elements/0/options",
    ),
    (
        "initial_option must match one of the options",
        [actions(radio(2, option("Choice 1", "v1")))],
        [actions(radio(2, option("Choice 9", "v9")))],
        "/blocks/0/elements/0/initial_option",
    ),
    (
        "is not allowed here",
        [actions(button("x"))],
        [actions({"type": "plain_text_input", "action_id": "x"})],
        "/blocks/0/elements/0/type",
    ),
    (
        "block_id must be a non-empty string",
        [{"type": "divider", "block_id": "d"}],
        [{"type": "divider", "block_id": ""}],
        "/blocks/0/block_id",
    ),
    (
        "context text",
        [{"type": "context", "elements": [mrkdwn("c" * 3000)]}],
        [{"type": "context", "elements": [mrkdwn("c" * 3001)]}],
        "/blocks/0/elements/0/text",
    ),
]


@pytest.mark.parametrize(("rule", "good", "bad", "pointer"), MESSAGE_RULES)
def test_message_rules(
    client: WebClient, rule: str, good: list[Any], bad: list[Any], pointer: str
) -> None:
    assert client.chat_postMessage(channel="G_STAFF", text="ok", blocks=good)["ok"]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="refused", blocks=bad)
    response = info.value.response
    assert response["error"] == "invalid_blocks"
    messages = response["response_metadata"]["messages"]
    assert any(rule in m and m.endswith(f"[json-pointer:{pointer}]") for m in messages), messages


def modal(blocks: list[Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Rules"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def text_input(**extra: Any) -> dict[str, Any]:
    return {"type": "plain_text_input", "action_id": "t", **extra}


# (rule, build(ok) -> view, pointer)
VIEW_RULES: list[tuple[str, Callable[[bool], dict[str, Any]], str]] = [
    (
        "input hint",
        lambda ok: modal([input_block(text_input(), hint=plain("h" * (2000 if ok else 2001)))]),
        "/view/blocks/0/hint/text",
    ),
    (
        "max_length must be an integer no greater than 3000",
        lambda ok: modal([input_block(text_input(max_length=3000 if ok else 3001))]),
        "/view/blocks/0/element/max_length",
    ),
    (
        "min_length must not exceed max_length",
        lambda ok: modal([input_block(text_input(min_length=10 if ok else 11, max_length=10))]),
        "/view/blocks/0/element/min_length",
    ),
    (
        "checkboxes options",
        lambda ok: modal(
            [
                input_block(
                    {
                        "type": "checkboxes",
                        "action_id": "c",
                        "options": [option(f"c{i}", f"v{i}") for i in range(10 if ok else 11)],
                    }
                )
            ]
        ),
        "/view/blocks/0/element/options",
    ),
    (
        "is not allowed here",
        lambda ok: modal([input_block(text_input() if ok else button("b"))]),
        "/view/blocks/0/element/type",
    ),
]


@pytest.mark.parametrize(("rule", "build", "pointer"), VIEW_RULES)
def test_view_rules(
    client: WebClient,
    emu: SlackEmulator,
    rule: str,
    build: Callable[[bool], dict[str, Any]],
    pointer: str,
) -> None:
    trigger = emu.workspace.issue_trigger("U_ALEX", "test")
    assert client.views_open(trigger_id=trigger, view=build(True))["ok"]
    with pytest.raises(SlackApiError) as info:
        trigger = emu.workspace.issue_trigger("U_ALEX", "test")
        client.views_open(trigger_id=trigger, view=build(False))
    response = info.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert any(rule in m and m.endswith(f"[json-pointer:{pointer}]") for m in messages), messages


def test_a_home_view_cannot_have_submit_or_close(client: WebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": mrkdwn("hi")}]}
    assert client.views_publish(user_id="U_ALEX", view=home)["ok"]
    with pytest.raises(SlackApiError) as info:
        client.views_publish(
            user_id="U_ALEX", view={**home, "submit": plain("Send"), "close": plain("Close")}
        )
    response = info.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert messages == [
        "[ERROR] a home view cannot have submit [json-pointer:/view/submit]",
        "[ERROR] a home view cannot have close [json-pointer:/view/close]",
    ]


def test_a_view_over_250_kb_is_refused(client: WebClient, emu: SlackEmulator) -> None:
    sections = [{"type": "section", "text": mrkdwn("é" * 3000)} for _ in range(13)]
    fits = modal(sections)
    assert client.views_open(trigger_id=emu.workspace.issue_trigger("U_ALEX", "t"), view=fits)
    too_big = copy.deepcopy(fits)
    too_big["blocks"] += [{"type": "section", "text": mrkdwn("é" * 3000)}] * 2
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id=emu.workspace.issue_trigger("U_ALEX", "t"), view=too_big)
    response = info.value.response
    assert response["error"] == "invalid_arguments"
    assert "view is limited to 250000 bytes" in response["response_metadata"]["messages"][-1]


def test_blocks_over_12000_characters_in_all_are_msg_blocks_too_long(
    client: WebClient, emu: SlackEmulator
) -> None:
    four = [{"type": "section", "text": mrkdwn("x" * 3000)} for _ in range(4)]
    posted = client.chat_postMessage(channel="G_STAFF", text="fits", blocks=four)
    assert posted["ok"]
    five = four + [{"type": "context", "elements": [mrkdwn("y")]}]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="too long", blocks=five)
    assert info.value.response["error"] == "msg_blocks_too_long"
    with pytest.raises(SlackApiError) as info:
        client.chat_update(channel="G_STAFF", ts=posted["ts"], text="too long", blocks=five)
    assert info.value.response["error"] == "msg_blocks_too_long"
    texts = [m["text"] for m in emu.state()["channels"]["G_STAFF"]["messages"]]
    assert texts == ["fits"]
