"""The Slack stack for tests: the emulator, the real Bolt app behind waitress, the outbox.

Every interaction is a real signed HTTP request from the emulator to the app,
and every Slack call the app makes is real HTTP back to the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from core.infra.db import Database
from core.infra.outbox import OutboxWorker
from core.infra.settings import Settings
from mailgateway.server import MailServer
from slackapp.context import SlackContext
from slackapp.emulator import SlackEmulator
from slackapp.intake import SubmissionProcessor
from slackapp.web import WebServer
from steward import runtime
from tests.conftest import free_port
from tests.smtp_helpers import Sink


@dataclass
class Stack:
    emulator: SlackEmulator
    settings: Settings
    slack: SlackContext
    web: WebServer
    worker: OutboxWorker
    db: Database
    sink: Sink
    submissions: SubmissionProcessor

    def drain(self, rounds: int = 30) -> None:
        """Open cases from stored forms, then deliver what is due now, as the worker would."""
        self.submissions.process_pending()
        for _ in range(rounds):
            if not self.worker.run_once():
                return

    def staff_messages(self, channel: str = "G_STAFF") -> list[dict[str, Any]]:
        messages = self.emulator.state()["channels"][channel]["messages"]
        flat = []
        for message in messages:
            flat.append(message)
            flat.extend(message.get("replies", []))
        return flat

    def dm_messages(self, user: str) -> list[dict[str, Any]]:
        state = self.emulator.state()
        channel = state["dms"].get(user)
        return state["channels"][channel]["messages"] if channel else []

    def report(self, user: str = "U_ALEX", **answers: Any) -> dict[str, Any]:
        opened = self.emulator.global_shortcut(user, "report_concern")
        view_id = opened["views"][0]["id"]
        answer = self.emulator.submit(user, view_id, form_values(**answers))
        self.submissions.process_pending()
        return answer


def form_values(
    what: str = "They mocked my accent in #general after I asked them to stop.",
    reported: list[str] | None = None,
    anonymous: bool = False,
    contact: str = "slack_dm",
    email: str | None = None,
    danger: bool = False,
    category: str | None = "harassment",
) -> dict[str, Any]:
    """The modal's answers in Slack's `state.values` shape."""
    values: dict[str, Any] = {
        "what": {"what": {"type": "plain_text_input", "value": what}},
        "reported_users": {
            "reported_users": {
                "type": "multi_users_select",
                "selected_users": reported if reported is not None else ["U_BLAIR"],
            }
        },
        "anonymous": {
            "anonymous": {
                "type": "radio_buttons",
                "selected_option": {"value": "yes" if anonymous else "no"},
            }
        },
        "contact": {"contact": {"type": "radio_buttons", "selected_option": {"value": contact}}},
        "urgency": {
            "urgency": {
                "type": "checkboxes",
                "selected_options": [{"value": "danger"}] if danger else [],
            }
        },
    }
    if email is not None:
        values["email"] = {"email": {"type": "plain_text_input", "value": email}}
    if category:
        values["category"] = {
            "category": {"type": "static_select", "selected_option": {"value": category}}
        }
    return values


def emulated(settings: Settings, emulator: SlackEmulator) -> Settings:
    """The settings with Slack played by the emulator, and the web app on a free port."""
    return settings.with_overrides(
        slack_bot_token=emulator.bot_token,
        slack_signing_secret=emulator.signing_secret,
        slack_api_url=emulator.api_url,
        staff_channel="G_STAFF",
        escalation_channel="G_ESCALATE",
        web_port=0,
    )


@pytest.fixture
def stack(db: Database, settings: Settings) -> Iterator[Stack]:
    with Sink(free_port()) as sink, SlackEmulator() as emulator:
        base = replace(settings, outbound_smtp_url=sink.url, emulator_port=0)
        full = emulated(base, emulator)
        slack = runtime.build_slack(db, full)
        assert slack is not None
        web = runtime.build_web_server(slack)
        web.start()
        emulator.app_url = web.events_url
        worker = runtime.build_outbox_worker(db, full, slack)
        submissions = runtime.build_submission_processor(slack)
        try:
            yield Stack(emulator, full, slack, web, worker, db, sink, submissions)
        finally:
            web.stop()
            submissions.stop()


@pytest.fixture
def gateway_for(stack: Stack) -> Iterator[MailServer]:
    server = runtime.build_mail_server(stack.db, replace(stack.settings, smtp_port=free_port()))
    server.start()
    yield server
    server.stop()


def eventually(check: Any, timeout: float = 5.0) -> Any:
    """Poll for work the app does after it has answered Slack (after the ack)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def post_signed(
    url: str, secret: str | None, payload: dict[str, Any], *, forged: bool = False
) -> tuple[int, bytes]:
    """Send an interaction the way Slack does (form-encoded `payload=`), signed with `secret`."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from slackapp.emulator import signed_headers

    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed_headers(secret or "", body, "application/x-www-form-urlencoded")
    if forged:
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:-4] + "0000"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _from(user: str) -> dict[str, Any]:
    """What every interaction payload says about where it comes from."""
    return {
        "team": {"id": "T_STEWARD", "domain": "steward-demo"},
        "user": {"id": user, "username": user.lower(), "team_id": "T_STEWARD"},
        "api_app_id": "A_STEWARD",
        "token": "legacy",
        "trigger_id": "1.2.3",
    }


def submission(user: str, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """A view_submission payload for the report form, as Slack shapes it."""
    return {
        "type": "view_submission",
        **_from(user),
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": "report_form",
            "private_metadata": "",
            "state": {"values": values},
            "hash": "1",
        },
    }


def block_action(user: str, action_id: str, value: str, channel: str, ts: str) -> dict[str, Any]:
    """A block_actions payload, as Slack sends it when someone presses a message button."""
    return {
        "type": "block_actions",
        **_from(user),
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel, "name": "staff"},
        "message": {"ts": ts, "text": ""},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "case_actions_1",
                "value": value,
                "action_ts": ts,
            }
        ],
    }
