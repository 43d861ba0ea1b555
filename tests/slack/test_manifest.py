"""manifest.yml and the app agree: every shortcut and event has a handler, and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slackapp.handlers import casework, conversation, decisions, reporting
from tests.slack.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
EVENT_SUBSCRIPTIONS = {"message.groups": "message", "message.im": "message"}


class Recorder:
    """Stands in for the Bolt app during `register`, noting what each module listens to."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {"shortcut": set(), "event": set()}

    def __getattr__(self, kind: str) -> Any:
        def listen(name: str) -> Any:
            self.seen.setdefault(kind, set()).add(name)
            return lambda function: function

        return listen


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def registered() -> dict[str, set[str]]:
    recorder = Recorder()
    for module in (reporting, casework, decisions, conversation):
        module.register(recorder, None)  # type: ignore[arg-type]
    return recorder.seen


def test_every_manifest_entry_has_a_handler_and_back() -> None:
    data = manifest()
    shortcuts = {s["callback_id"] for s in data["features"]["shortcuts"]}
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    seen = registered()
    assert seen["shortcut"] == shortcuts
    assert {EVENT_SUBSCRIPTIONS.get(e, e) for e in events} == seen["event"]
    assert {"message.groups", "message.im", "app_home_opened"} == events
    assert data["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_scopes_are_the_ones_used() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "chat:write",
        "commands",
        "files:read",
        "groups:read",
        "groups:history",
        "groups:write",
        "im:history",
        "im:write",
    }


def test_each_manifest_shortcut_opens_the_report_form(stack: Stack) -> None:
    for shortcut in manifest()["features"]["shortcuts"]:
        if shortcut["type"] == "global":
            answer = stack.emulator.global_shortcut("U_ALEX", shortcut["callback_id"])
        else:
            ts = stack.emulator.state()["channels"]["C_GENERAL"]["messages"][0]["ts"]
            answer = stack.emulator.message_shortcut(
                "U_ALEX", "C_GENERAL", ts, shortcut["callback_id"]
            )
        assert answer["views"][0]["callback_id"] == "report_form", shortcut
