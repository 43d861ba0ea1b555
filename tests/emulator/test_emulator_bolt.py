"""Interactions and events delivered to a real Bolt app over real, signed HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from slackapp.emulator import ControlError, SlackEmulator


def staff_root(emu: SlackEmulator) -> dict[str, Any] | None:
    """The case's root message in the staff channel (its text changes on claim)."""
    messages = emu.state()["channels"]["G_STAFF"]["messages"]
    for message in messages:
        if any(b.get("block_id") == "case_actions" for b in message.get("blocks", [])):
            return message
    return None


def file_a_report(emu: SlackEmulator, eventually: Callable[..., Any]) -> dict[str, Any]:
    """Shortcut, modal, submit: leaves a case root message with buttons in G_STAFF."""
    opened = emu.global_shortcut("U_ALEX", "report")
    values = {"what": {"text": {"type": "plain_text_input", "value": "It happened"}}}
    emu.submit("U_ALEX", opened["views"][0]["id"], values)
    return eventually(lambda: staff_root(emu))


# -- signatures --------------------------------------------------------------------------


def test_bolt_verifies_and_accepts_a_global_shortcut(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]
) -> None:
    answer = emu.global_shortcut("U_ALEX", "report")
    assert answer["status"] == 200
    assert [v["callback_id"] for v in answer["views"]] == ["report_modal"]
    assert emu.state()["open_views"] == {"U_ALEX": [answer["views"][0]["id"]]}
    payload = received[0]
    assert payload["type"] == "shortcut"
    assert "channel" not in payload and "message" not in payload
    assert payload["trigger_id"] == answer["trigger_id"]
    assert payload["user"] == {
        "id": "U_ALEX",
        "username": "alex",
        "name": "alex",
        "team_id": "T_STEWARD",
    }
    assert payload["team"]["id"] == "T_STEWARD"
    assert payload["api_app_id"] == "A_STEWARD"


def test_bolt_refuses_a_request_signed_with_the_wrong_secret(
    emu: SlackEmulator, start_bolt: Callable[[str], Any], received: list[dict[str, Any]]
) -> None:
    start_bolt("some-other-secret")
    answer = emu.global_shortcut("U_ALEX", "report", wait=0.2)
    assert answer["status"] == 401
    assert answer["views"] == []
    assert emu.post("U_STEW1", "G_STAFF", "hello")["status"] == 401
    assert received == []


class _Capture(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append({"headers": dict(self.headers), "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def capture(emu: SlackEmulator) -> Iterator[list[dict[str, Any]]]:
    """A raw HTTP endpoint standing in for the app, keeping what it receives."""
    _Capture.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    emu.app_url = f"http://127.0.0.1:{server.server_port}/slack/events"
    yield _Capture.seen
    server.shutdown()
    server.server_close()


def test_signature_and_encodings_are_slacks(
    emu: SlackEmulator, capture: list[dict[str, Any]]
) -> None:
    emu.global_shortcut("U_ALEX", "report", wait=0)
    emu.post("U_STEW1", "G_STAFF", "hi")
    verifier = SignatureVerifier(emu.signing_secret)
    wrong = SignatureVerifier("not-the-secret")
    interaction, event = capture
    for request in capture:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert verifier.is_valid_request(request["body"], headers)
        assert not wrong.is_valid_request(request["body"], headers)
        assert headers["x-slack-signature"].startswith("v0=")
    assert interaction["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(interaction["body"].decode())
    assert json.loads(form["payload"][0])["type"] == "shortcut"
    assert event["headers"]["Content-Type"] == "application/json"
    envelope = json.loads(event["body"])
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"].startswith("Ev") and isinstance(envelope["event_time"], int)
    assert envelope["team_id"] == "T_STEWARD" and envelope["api_app_id"] == "A_STEWARD"
    assert envelope["authorizations"][0]["user_id"] == "U_STEWARDBOT"
    assert envelope["event"]["type"] == "message" and envelope["event"]["text"] == "hi"


# -- shortcuts and modals ----------------------------------------------------------------


def test_message_shortcut_payload(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]
) -> None:
    answer = emu.message_shortcut("U_ALEX", "C_GENERAL", "1700000200.000200", "report_message")
    assert answer["status"] == 200
    assert answer["views"][0]["private_metadata"] == "C_GENERAL:1700000200.000200"
    payload = received[0]
    assert payload["type"] == "message_action"
    assert payload["channel"] == {"id": "C_GENERAL", "name": "general"}
    assert payload["message_ts"] == "1700000200.000200"
    assert payload["message"]["user"] == "U_BLAIR"
    assert payload["message"]["text"].startswith("Honestly")
    assert payload["message"]["reply_count"] == 1
    assert payload["trigger_id"] == answer["trigger_id"]
    assert payload["response_url"].startswith(emu.url + "/actions/")


def test_message_shortcut_on_a_bot_message(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]
) -> None:
    emu.message_shortcut("U_ALEX", "C_GENERAL", "1700000300.000400", "report_message")
    assert received[0]["message"]["bot_id"] == "B_DEPLOYBOT"
    assert received[0]["message"]["subtype"] == "bot_message"


def test_message_shortcut_needs_a_visible_message(emu: SlackEmulator, bolt: Any) -> None:
    with pytest.raises(ControlError) as info:
        emu.message_shortcut("U_ALEX", "G_STAFF", "1.000001", "report_message")
    assert info.value.status == 403
    with pytest.raises(ControlError) as info:
        emu.message_shortcut("U_ALEX", "C_GENERAL", "1.000001", "report_message")
    assert info.value.status == 404


def test_submit_with_errors_keeps_the_modal_open(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]
) -> None:
    view_id = emu.global_shortcut("U_ALEX", "report")["views"][0]["id"]
    values = {
        "what": {"text": {"type": "plain_text_input", "value": "  "}},
        "anon": {
            "choice": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"},
            }
        },
    }
    answer = emu.submit("U_ALEX", view_id, values)
    assert answer["status"] == 200
    assert answer["body"] == {
        "response_action": "errors",
        "errors": {"what": "Please tell us what happened."},
    }
    assert answer["view_closed"] is False and answer["open_views"] == [view_id]
    payload = received[-1]
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view_id
    assert payload["view"]["callback_id"] == "report_modal"
    assert payload["view"]["private_metadata"] == ""
    assert payload["view"]["state"]["values"] == values


def test_submit_closes_the_modal_and_the_app_posts(
    emu: SlackEmulator, bolt: Any, eventually: Callable[..., Any]
) -> None:
    view_id = emu.global_shortcut("U_ALEX", "report")["views"][0]["id"]
    values = {"what": {"text": {"type": "plain_text_input", "value": "It happened"}}}
    answer = emu.submit("U_ALEX", view_id, values)
    assert answer["view_closed"] is True and answer["open_views"] == []
    assert emu.state()["views"][view_id]["open"] is False
    root = eventually(lambda: staff_root(emu))
    assert root["blocks"][1]["block_id"] == "case_actions"


def test_submit_values_must_match_the_view(emu: SlackEmulator, bolt: Any) -> None:
    view_id = emu.global_shortcut("U_ALEX", "report")["views"][0]["id"]
    with pytest.raises(ControlError) as info:
        emu.submit("U_ALEX", view_id, {"nope": {"x": {"type": "plain_text_input", "value": ""}}})
    assert info.value.status == 400 and info.value.error == "unknown_block_id"
    with pytest.raises(ControlError) as info:
        emu.submit("U_BLAIR", view_id, {})
    assert info.value.status == 404


@pytest.mark.parametrize("step", ["update", "push", "clear"])
def test_submit_response_actions(
    emu: SlackEmulator, bolt: Any, open_wizard: Callable[[str], dict[str, Any]], step: str
) -> None:
    root = open_wizard("U_BLAIR")
    option = {"text": {"type": "plain_text", "text": step}, "value": step}
    values = {"step": {"choice": {"type": "static_select", "selected_option": option}}}
    answer = emu.submit("U_BLAIR", root["id"], values)
    assert answer["status"] == 200 and answer["body"]["response_action"] == step
    if step == "update":
        assert answer["open_views"] == [root["id"]]
        assert answer["view"]["title"]["text"] == "Step: update"
    elif step == "push":
        assert len(answer["open_views"]) == 2 and answer["open_views"][0] == root["id"]
        assert answer["view"]["previous_view_id"] == root["id"]
    else:
        assert answer["open_views"] == [] and answer["view_closed"] is True


def test_slow_app_times_out_like_slack(emu: SlackEmulator, bolt: Any) -> None:
    emu.controller.ack_timeout = 0.2
    answer = emu.global_shortcut("U_ALEX", "slow")
    assert answer["status"] is None and answer["error"] == "timeout"


# -- clicks ------------------------------------------------------------------------------


def test_click_a_button_in_a_message(
    emu: SlackEmulator,
    bolt: Any,
    received: list[dict[str, Any]],
    eventually: Callable[..., Any],
) -> None:
    root = file_a_report(emu, eventually)
    answer = emu.click("U_STEW1", "claim", channel="G_STAFF", message_ts=root["ts"], wait=0)
    assert answer["status"] == 200
    payload = received[-1]
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": root["ts"],
        "channel_id": "G_STAFF",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "G_STAFF", "name": "conduct-stewards"}
    assert payload["message"]["ts"] == root["ts"]
    assert payload["response_url"].startswith(emu.url)
    assert payload["trigger_id"] == answer["trigger_id"]
    assert payload["user"]["id"] == "U_STEW1" and payload["token"]
    assert payload["team"]["id"] == "T_STEWARD" and payload["api_app_id"] == "A_STEWARD"
    action = payload["actions"][0]
    assert action["type"] == "button" and action["block_id"] == "case_actions"
    assert action["text"] == {"type": "plain_text", "text": "Claim"}
    assert action["value"] == "C-1" and action["action_ts"]
    eventually(lambda: "claimed by <@U_STEW1>" in str(staff_root(emu)["blocks"]))
    assert staff_root(emu)["text"] == "Case C-1 claimed"


def test_click_that_opens_a_modal_returns_it(
    emu: SlackEmulator, bolt: Any, eventually: Callable[..., Any]
) -> None:
    root = file_a_report(emu, eventually)
    answer = emu.click("U_STEW2", "view_report", channel="G_STAFF", message_ts=root["ts"])
    assert [v["title"]["text"] for v in answer["views"]] == ["Report C-1"]
    assert emu.state()["open_views"]["U_STEW2"] == [answer["views"][0]["id"]]


def test_click_needs_an_existing_button(
    emu: SlackEmulator, bolt: Any, eventually: Callable[..., Any]
) -> None:
    root = file_a_report(emu, eventually)
    with pytest.raises(ControlError) as info:
        emu.click("U_STEW1", "nope", channel="G_STAFF", message_ts=root["ts"])
    assert info.value.status == 404 and info.value.error == "action_not_found"
    with pytest.raises(ControlError) as info:
        emu.click("U_STEW1", "claim", channel="G_STAFF", message_ts=root["ts"], value="C-9")
    assert info.value.status == 404
    with pytest.raises(ControlError) as info:
        emu.click("U_ALEX", "claim", channel="G_STAFF", message_ts=root["ts"])
    assert info.value.status == 403


def test_click_a_button_in_a_modal(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]
) -> None:
    view_id = emu.global_shortcut("U_ALEX", "report")["views"][0]["id"]
    answer = emu.click("U_ALEX", "add_detail", view_id=view_id, wait=0)
    assert answer["status"] == 200
    payload = received[-1]
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id
    assert "channel" not in payload and "message" not in payload
    assert payload["actions"][0]["block_id"] == "more"
    assert payload["actions"][0]["value"] == "detail"


def test_response_url_replaces_the_original(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]], eventually: Callable[..., Any]
) -> None:
    root = file_a_report(emu, eventually)
    emu.click("U_STEW1", "claim", channel="G_STAFF", message_ts=root["ts"], wait=0)
    url = received[-1]["response_url"]
    body = json.dumps({"replace_original": True, "text": "replaced"}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": True}
    messages = emu.state()["channels"]["G_STAFF"]["messages"]
    assert any(m["ts"] == root["ts"] and m["text"] == "replaced" for m in messages)


# -- events ------------------------------------------------------------------------------


def test_post_in_a_thread_delivers_a_message_event(
    emu: SlackEmulator,
    bolt: Any,
    received: list[dict[str, Any]],
    eventually: Callable[..., Any],
) -> None:
    root = file_a_report(emu, eventually)
    answer = emu.post("U_STEW1", "G_STAFF", "I'll take it", thread_ts=root["ts"])
    assert answer["delivered"] is True and answer["status"] == 200
    event = eventually(lambda: [r for r in received if r.get("type") == "message"])[0]
    assert event["channel_type"] == "group" and event["channel"] == "G_STAFF"
    assert event["thread_ts"] == root["ts"] and event["user"] == "U_STEW1"
    assert event["text"] == "I'll take it" and event["ts"] == answer["ts"]
    replies = eventually(lambda: [r["text"] for r in staff_root(emu)["replies"]] or None)
    eventually(lambda: [r["text"] for r in staff_root(emu)["replies"]] == ["I'll take it", "noted"])
    assert replies[0] == "I'll take it"


def test_post_to_a_dm_is_an_im_event(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]], eventually: Callable[..., Any]
) -> None:
    answer = emu.post("U_ALEX", emu.bot_user_id, "I want to add something")
    dm = emu.state()["dms"]["U_ALEX"]
    assert answer["channel"] == dm and answer["delivered"] is True
    event = eventually(lambda: [r for r in received if r.get("type") == "message"])[0]
    assert event["channel_type"] == "im" and event["channel"] == dm
    assert "thread_ts" not in event


def test_post_in_a_public_channel_is_a_channel_event(
    emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]], eventually: Callable[..., Any]
) -> None:
    not_member = emu.post("U_ALEX", "C_GENERAL", "hello all")
    assert not_member["delivered"] is False
    with emu.workspace.lock:
        emu.workspace.channels["C_GENERAL"]["members"].append(emu.bot_user_id)
    emu.post("U_ALEX", "C_GENERAL", "hello again")
    event = eventually(lambda: [r for r in received if r.get("type") == "message"])[0]
    assert event["channel_type"] == "channel" and event["text"] == "hello again"


def test_post_needs_membership(emu: SlackEmulator, bolt: Any) -> None:
    with pytest.raises(ControlError) as info:
        emu.post("U_ALEX", "G_STAFF", "let me in")
    assert info.value.status == 403


def test_bot_messages_echo_with_bot_id_and_bolt_ignores_them(
    emu: SlackEmulator,
    bolt: Any,
    received: list[dict[str, Any]],
    eventually: Callable[..., Any],
) -> None:
    emu.controller.echo_bot_messages = True
    emu.post("U_STEW1", "G_STAFF", "ping")
    echoes = eventually(
        lambda: [
            d for d in emu.state()["deliveries"] if d["detail"] == "message" and d["status"] == 200
        ][1:]
    )
    assert echoes
    time.sleep(0.2)  # had Bolt accepted the echo, its listener would have run by now
    messages = [r for r in received if r.get("type") == "message"]
    assert [m["text"] for m in messages] == ["ping"]
    replies = emu.state()["channels"]["G_STAFF"]["messages"][0]["replies"]
    assert [r["text"] for r in replies] == ["noted"]
    assert replies[0]["bot_id"] == emu.bot_id


def test_open_home_publishes(emu: SlackEmulator, bolt: Any, received: list[dict[str, Any]]) -> None:
    answer = emu.open_home("U_ALEX")
    assert answer["status"] == 200 and answer["published"] is True
    assert answer["view"]["type"] == "home"
    event = received[-1]
    assert event["type"] == "app_home_opened" and event["tab"] == "home"
    assert event["channel"] == emu.state()["dms"]["U_ALEX"]
    assert "view" not in event
    emu.open_home("U_ALEX")
    assert received[-1]["view"]["id"] == answer["view"]["id"]
    assert emu.state()["home_tabs"]["U_ALEX"]["blocks"][0]["text"]["text"] == "Your reports: none"


# -- the app's side ----------------------------------------------------------------------


def test_no_app_url_is_a_conflict(emu: SlackEmulator) -> None:
    with pytest.raises(ControlError) as info:
        emu.global_shortcut("U_ALEX", "report")
    assert info.value.status == 409 and info.value.error == "no_app_url"
    assert emu.post("U_STEW1", "G_STAFF", "still stored")["delivered"] is False
    assert emu.state()["channels"]["G_STAFF"]["messages"][0]["text"] == "still stored"


def test_unreachable_app_is_reported(emu: SlackEmulator) -> None:
    emu.app_url = "http://127.0.0.1:9/slack/events"
    answer = emu.global_shortcut("U_ALEX", "report")
    assert answer["status"] is None and answer["error"].startswith("unreachable")


def test_fifty_concurrent_shortcuts_each_get_their_modal(emu: SlackEmulator, bolt: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    users = ["U_ALEX", "U_BLAIR", "U_STEW1", "U_STEW2"]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda i: emu.global_shortcut(users[i % 4], "report"), range(50)))
    assert [a["status"] for a in answers] == [200] * 50, [a.get("error") for a in answers]
    assert all(len(a["views"]) == 1 for a in answers)
    assert len({a["views"][0]["id"] for a in answers}) == 50
    assert emu.state()["calls"]["views.open"] == 50
