"""The emulator's Socket Mode, driven by slack_sdk's own Socket Mode client and by Bolt.

The client is slack_sdk's built-in ``SocketModeClient`` (and Bolt's
``SocketModeHandler`` on top of it): the same code that talks to Slack's
``wss://wss-primary.slack.com`` talks here to the emulator's ``ws://``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from slackapp.emulator import SlackEmulator


class Recorder:
    """A Socket Mode client that records every message and acks unless told to stay silent."""

    def __init__(self, emu: SlackEmulator, silent_for: int = 0) -> None:
        self.messages: list[dict[str, Any]] = []
        self.silent_for = silent_for
        self.changed = threading.Condition()
        web = WebClient(base_url=emu.api_url)
        self.client = SocketModeClient(app_token=emu.app_token, web_client=web)
        self.client.message_listeners.append(self._message)
        self.client.socket_mode_request_listeners.append(self._request)

    def _message(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def _request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        with self.changed:
            if self.silent_for > 0:
                self.silent_for -= 1
                return
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    def envelopes(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "envelope_id" in m]

    def hellos(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        def said_hello() -> list[dict[str, Any]]:
            return [m for m in self.messages if m.get("type") == "hello"]

        with self.changed:
            self.changed.wait_for(lambda: len(said_hello()) >= count, timeout)
            return said_hello()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.envelopes()) >= count, timeout)
            return self.envelopes()


def wait_connected(emu: SlackEmulator, count: int = 1, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while emu.state()["socket_mode"]["connections"] < count:
        assert time.monotonic() < deadline, "the app never connected"
        time.sleep(0.02)


@pytest.fixture
def socket_emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(ack_timeout=1.0, event_retry_delays=(0.0, 0.1, 0.1)) as emu:
        yield emu


@pytest.fixture
def recorder(socket_emu: SlackEmulator) -> Iterator[Recorder]:
    recorder = Recorder(socket_emu)
    recorder.client.connect()
    wait_connected(socket_emu)
    yield recorder
    recorder.client.close()


def test_connections_open_takes_the_app_token_only(socket_emu: SlackEmulator) -> None:
    web = WebClient(base_url=socket_emu.api_url)
    opened = web.apps_connections_open(app_token=socket_emu.app_token)
    assert opened["url"].startswith(f"ws://127.0.0.1:{socket_emu.port}/link/?ticket=")
    assert "app_id=A_STEWARD" in opened["url"]
    with pytest.raises(SlackApiError) as bot_token:
        web.apps_connections_open(app_token=socket_emu.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as unknown:
        web.apps_connections_open(app_token="xapp-1-nobody")
    assert unknown.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as app_token_elsewhere:
        WebClient(base_url=socket_emu.api_url, token=socket_emu.app_token).chat_postMessage(
            channel="G_STAFF", text="hello"
        )
    assert app_token_elsewhere.value.response["error"] == "not_allowed_token_type"


def test_a_ticket_opens_one_connection(socket_emu: SlackEmulator) -> None:
    web = WebClient(base_url=socket_emu.api_url)
    url = web.apps_connections_open(app_token=socket_emu.app_token)["url"]
    first = SocketModeClient(app_token=socket_emu.app_token, web_client=web)
    first.wss_uri = url
    first.connect()
    try:
        wait_connected(socket_emu)
        parts = urllib.parse.urlsplit(url)
        again = http.client.HTTPConnection(parts.netloc, timeout=5)
        again.request(
            "GET",
            f"{parts.path}?{parts.query}",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
        )
        refused = again.getresponse()
        assert refused.status == 401
        assert json.loads(refused.read()) == {"ok": False, "error": "invalid_ticket"}
        again.close()
    finally:
        first.close()


def test_hello_then_an_event_envelope_that_is_acked(
    socket_emu: SlackEmulator, recorder: Recorder
) -> None:
    (hello,) = recorder.hellos()
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A_STEWARD"}

    result = socket_emu.post("U_ALEX", socket_emu.bot_user_id, "hello over the socket")
    assert result["delivered"] is True
    assert result["status"] == 200

    (envelope,) = recorder.wait_for(1)
    assert set(envelope) == {
        "envelope_id",
        "type",
        "payload",
        "accepts_response_payload",
        "retry_attempt",
        "retry_reason",
    }
    assert envelope["type"] == "events_api"
    assert envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    payload = envelope["payload"]
    assert payload["type"] == "event_callback"
    assert payload["event"]["text"] == "hello over the socket"
    assert payload["event"]["channel_type"] == "im"
    delivery = socket_emu.state()["deliveries"][-1]
    assert delivery["transport"] == "socket_mode"
    assert delivery["status"] == 200


def test_an_unacked_event_is_retried_with_a_new_envelope(socket_emu: SlackEmulator) -> None:
    recorder = Recorder(socket_emu, silent_for=2)
    recorder.client.connect()
    try:
        wait_connected(socket_emu)
        result = socket_emu.post("U_ALEX", socket_emu.bot_user_id, "are you there?")
        assert result["status"] is None
        assert result["error"] == "timeout"
        envelopes = recorder.wait_for(3)
        assert [(e["retry_attempt"], e["retry_reason"]) for e in envelopes] == [
            (0, ""),
            (1, "timeout"),
            (2, "timeout"),
        ]
        assert len({e["envelope_id"] for e in envelopes}) == 3
        assert len({e["payload"]["event_id"] for e in envelopes}) == 1
        deadline = time.monotonic() + 5
        while True:
            retries = [d for d in socket_emu.state()["deliveries"] if d.get("retry_attempt")]
            if len(retries) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [(d["retry_attempt"], d["status"]) for d in retries] == [(1, None), (2, 200)]
        time.sleep(0.3)
        assert len(recorder.envelopes()) == 3  # acked: no fourth delivery
    finally:
        recorder.client.close()


def test_interactive_payloads_are_not_retried(socket_emu: SlackEmulator) -> None:
    recorder = Recorder(socket_emu, silent_for=1)
    recorder.client.connect()
    try:
        wait_connected(socket_emu)
        result = socket_emu.global_shortcut("U_ALEX", "report_concern", wait=0)
        assert result["status"] is None and result["error"] == "timeout"
        time.sleep(0.5)
        (envelope,) = recorder.envelopes()
        assert envelope["type"] == "interactive"
        assert envelope["accepts_response_payload"] is False
        assert "retry_attempt" not in envelope
        assert envelope["payload"]["type"] == "shortcut"
    finally:
        recorder.client.close()


def test_without_a_connection_the_emulator_posts_over_http_again(
    socket_emu: SlackEmulator, recorder: Recorder
) -> None:
    recorder.client.close()
    deadline = time.monotonic() + 5
    while socket_emu.state()["socket_mode"]["connections"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    result = socket_emu.post("U_ALEX", socket_emu.bot_user_id, "nobody listens")
    assert result["delivered"] is False  # no socket and no app_url


def bolt_modal_app(emu: SlackEmulator) -> App:
    """A Bolt app that opens a modal and answers its submission with response_action."""
    app = App(
        client=WebClient(base_url=emu.api_url, token=emu.bot_token),
        token_verification_enabled=False,
        request_verification_enabled=False,
    )
    modal = {
        "type": "modal",
        "callback_id": "ask",
        "title": {"type": "plain_text", "text": "Ask"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "what",
                "label": {"type": "plain_text", "text": "What?"},
                "element": {"type": "plain_text_input", "action_id": "what"},
            }
        ],
    }

    @app.shortcut("ask")
    def open_modal(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view("ask")
    def submitted(ack: Any, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["what"]["what"]["value"]
        if not text.strip():
            ack(response_action="errors", errors={"what": "Say something"})
        else:
            thanks = {
                **modal,
                "submit": None,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks"}}],
            }
            del thanks["submit"]
            ack(response_action="update", view=thanks)

    return app


def test_bolt_over_socket_mode_gets_response_actions_honoured(socket_emu: SlackEmulator) -> None:
    socket_emu.controller.ack_timeout = 3.0
    handler = SocketModeHandler(bolt_modal_app(socket_emu), socket_emu.app_token)
    handler.connect()
    try:
        wait_connected(socket_emu)
        opened = socket_emu.global_shortcut("U_ALEX", "ask")
        view_id = opened["views"][0]["id"]
        empty = {"what": {"what": {"type": "plain_text_input", "value": " "}}}
        refused = socket_emu.submit("U_ALEX", view_id, empty)
        assert refused["view_closed"] is False
        assert refused["errors"] == {"what": "Say something"}
        filled = {"what": {"what": {"type": "plain_text_input", "value": "hello"}}}
        updated = socket_emu.submit("U_ALEX", view_id, filled)
        assert updated["view_closed"] is False
        assert updated["view"]["blocks"][0]["text"]["text"] == "Thanks"
        kinds = [(d["kind"], d["transport"]) for d in socket_emu.state()["deliveries"]]
        assert kinds == [("shortcut", "socket_mode")] + [("view_submission", "socket_mode")] * 2
    finally:
        handler.close()


def test_disconnect_makes_the_client_reconnect(socket_emu: SlackEmulator) -> None:
    recorder = Recorder(socket_emu)
    recorder.client.connect()
    try:
        wait_connected(socket_emu)
        assert socket_emu.socket_mode.disconnect_all() == 1
        assert len(recorder.hellos(2)) == 2, "the client did not reconnect"
        wait_connected(socket_emu)
        result = socket_emu.post("U_ALEX", socket_emu.bot_user_id, "after the refresh")
        assert result["status"] == 200
    finally:
        recorder.client.close()
