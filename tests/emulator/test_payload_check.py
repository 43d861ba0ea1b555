"""The CI payload check (.ci/check_slack_payloads.py): its Python judges really judge.

The TypeScript half needs node and `npm ci`, so it runs in .ci/run only; there
known_bad.ts keeps it honest the same way.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator
from slackapp.emulator.webapi import RECORD_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]


def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check", ROOT / ".ci/check_slack_payloads.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_slack_sdk_refuses_what_slack_refuses_and_reads_back_what_it_knows() -> None:
    check = checker()
    assert check.sdk_still_judges() == []
    good = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    assert check.sdk_problems("good.json", good) == []
    unknown = {"blocks": [{"type": "divider", "colour": "red"}]}
    assert check.sdk_problems("unknown.json", unknown) == [
        "unknown.json: slack_sdk does not read the blocks back unchanged"
    ]
    too_long = {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}
    assert check.sdk_problems("long.json", too_long)[0].startswith("long.json: slack_sdk refuses")


def test_the_manifest_keeps_the_documented_limits() -> None:
    check = checker()
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert check.manifest_problems(manifest) == []
    manifest["display_information"]["name"] = "n" * 36
    manifest["features"]["bot_user"]["display_name"] = "Steward Bot"
    manifest["display_information"]["background_color"] = "teal"
    assert check.manifest_problems(manifest) == [
        "manifest display_information.name is over 35 characters",
        "manifest bot display_name may use only a-z, 0-9, '-', '_' and '.'",
        "manifest background_color must be #rgb or #rrggbb",
    ]


def test_the_emulator_records_each_accepted_payload_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RECORD_DIR_ENV, str(tmp_path))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    with SlackEmulator() as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        for _ in range(2):
            client.chat_postMessage(channel="G_STAFF", text="hello", blocks=blocks)
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="G_STAFF", text="x", blocks=[{"type": "banner"}])
    [recorded] = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert recorded == {
        "method": "chat.postMessage",
        "arguments": {"channel": "G_STAFF", "text": "hello", "blocks": blocks},
    }
