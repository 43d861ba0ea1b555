"""Fixtures for the emulator tests: a running emulator, a WebClient, a real Bolt app.

The Bolt app is slack_bolt.App with real signature verification, served by a
threaded stdlib WSGI server on a free port, so every interaction crosses real
HTTP in both directions, as it would with Slack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from slackapp.emulator import SlackEmulator
from slackapp.emulator.scopes import EVERY_SCOPE

SECRET = "test-signing-secret"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under 50 concurrent requests


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class BoltServer:
    """A Bolt app on a free loopback port; ``url`` is its /slack/events."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.httpd = make_server(
            "127.0.0.1",
            0,
            SlackRequestHandler(app),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/slack/events"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> BoltServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def report_modal(private_metadata: str = "") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "report_modal",
        "title": {"type": "plain_text", "text": "Report a concern"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": private_metadata,
        "blocks": [
            {
                "type": "input",
                "block_id": "what",
                "label": {"type": "plain_text", "text": "What happened?"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "anon",
                "label": {"type": "plain_text", "text": "Stay anonymous?"},
                "element": {
                    "type": "static_select",
                    "action_id": "choice",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"},
                        {"text": {"type": "plain_text", "text": "No"}, "value": "no"},
                    ],
                },
            },
            {
                "type": "actions",
                "block_id": "more",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "add_detail",
                        "text": {"type": "plain_text", "text": "Add detail"},
                        "value": "detail",
                    }
                ],
            },
        ],
    }


def case_blocks(status: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": f"*Case C-1* status: {status}"},
        },
        {
            "type": "actions",
            "block_id": "case_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "text": {"type": "plain_text", "text": "Claim"},
                    "value": "C-1",
                },
                {
                    "type": "button",
                    "action_id": "view_report",
                    "text": {"type": "plain_text", "text": "View report"},
                    "value": "C-1",
                },
            ],
        },
    ]


def build_app(emu: SlackEmulator, secret: str, received: list[dict[str, Any]]) -> App:
    """A minimal Steward-like Bolt app: every handler records what it got."""
    client = WebClient(base_url=emu.api_url, token=emu.bot_token)
    app = App(
        signing_secret=secret,
        client=client,
        token_verification_enabled=False,
        ignoring_self_events_enabled=True,
    )

    @app.shortcut("report")
    def on_shortcut(ack, body, client):
        ack()
        received.append(body)
        client.views_open(trigger_id=body["trigger_id"], view=report_modal())

    @app.shortcut("report_message")
    def on_message_shortcut(ack, body, client):
        ack()
        received.append(body)
        snapshot = f"{body['channel']['id']}:{body['message_ts']}"
        client.views_open(trigger_id=body["trigger_id"], view=report_modal(snapshot))

    @app.view("report_modal")
    def on_submit(ack, body, view, client):
        received.append(body)
        text = view["state"]["values"]["what"]["text"]["value"]
        if not text.strip():
            ack(response_action="errors", errors={"what": "Please tell us what happened."})
            return
        ack()
        client.chat_postMessage(channel="G_STAFF", text="New case C-1", blocks=case_blocks("new"))

    @app.shortcut("slow")
    def on_slow(ack, body):
        time.sleep(0.5)
        ack()

    @app.view("wizard")
    def on_wizard(ack, body, view):
        received.append(body)
        step = view["state"]["values"]["step"]["choice"]["selected_option"]["value"]
        next_view = {
            "type": "modal",
            "callback_id": "wizard_next",
            "title": {"type": "plain_text", "text": f"Step: {step}"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": step}}],
        }
        if step in ("update", "push"):
            ack(response_action=step, view=next_view)
        else:
            ack(response_action="clear")

    @app.action("claim")
    def on_claim(ack, body, client):
        ack()
        received.append(body)
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text="Case C-1 claimed",
            blocks=case_blocks(f"claimed by <@{body['user']['id']}>"),
        )

    @app.action("view_report")
    def on_view_report(ack, body, client):
        ack()
        received.append(body)
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "Report C-1"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "details"}}],
            },
        )

    @app.action("add_detail")
    def on_add_detail(ack, body):
        ack()
        received.append(body)

    @app.event("message")
    def on_message(event, client):
        received.append(event)
        client.chat_postMessage(
            channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text="noted"
        )

    @app.event("app_home_opened")
    def on_home(event, client):
        received.append(event)
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Your reports: none"}}
                ],
            },
        )

    return app


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    """An emulator whose app holds every scope, so each method can be tested on its own.

    The scope checks themselves are tested in test_emulator_scopes.py.
    """
    with SlackEmulator(signing_secret=SECRET, scopes=EVERY_SCOPE) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(base_url=emu.api_url, token=emu.bot_token, timeout=10)


@pytest.fixture
def received() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def start_bolt(
    emu: SlackEmulator, received: list[dict[str, Any]]
) -> Iterator[Callable[[str], BoltServer]]:
    """Start the Bolt app with a given signing secret and point the emulator at it."""
    servers: list[BoltServer] = []

    def start(secret: str) -> BoltServer:
        server = BoltServer(build_app(emu, secret, received)).__enter__()
        servers.append(server)
        emu.app_url = server.url
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture
def bolt(start_bolt: Callable[[str], BoltServer]) -> BoltServer:
    """The Bolt app with the emulator's signing secret, running and wired up."""
    return start_bolt(SECRET)


def wizard_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "wizard",
        "title": {"type": "plain_text", "text": "Wizard"},
        "submit": {"type": "plain_text", "text": "Next"},
        "blocks": [
            {
                "type": "input",
                "block_id": "step",
                "label": {"type": "plain_text", "text": "Next step"},
                "element": {
                    "type": "static_select",
                    "action_id": "choice",
                    "options": [
                        {"text": {"type": "plain_text", "text": s}, "value": s}
                        for s in ("update", "push", "clear")
                    ],
                },
            }
        ],
    }


@pytest.fixture
def open_wizard(emu: SlackEmulator, client: WebClient) -> Callable[[str], dict[str, Any]]:
    """Open the wizard modal for a user, as if the app had done so from a shortcut."""

    def open_for(user: str) -> dict[str, Any]:
        trigger = emu.workspace.issue_trigger(user, "test")
        return client.views_open(trigger_id=trigger, view=wizard_modal())["view"]

    return open_for


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until predicate() is truthy: the app works after it acknowledges."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def eventually() -> Callable[..., Any]:
    return wait_until
