"""Steward refuses a staff channel that is not private, with only the manifest's scopes.

The manifest grants `groups:read`, not `channels:read`: Slack answers
`conversations.info` on a public channel with `missing_scope`. The emulator here
is granted exactly the manifest's bot scopes, so it answers as Slack would.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.db import Database
from core.models import OutboxItem
from slackapp.emulator import SlackEmulator
from slackapp.emulator.seed import load_seed
from tests.slack.conftest import Stack
from tests.slack.test_doctor import doctor
from tests.slack.test_manifest import manifest


def manifest_scopes() -> list[str]:
    return list(manifest()["oauth_config"]["scopes"]["bot"])


def grant_manifest_scopes(emulator: SlackEmulator) -> None:
    with emulator.workspace.lock:
        emulator.workspace.bot["scopes"] = manifest_scopes()


def root_outbox(stack: Stack) -> OutboxItem:
    with stack.db.session() as session:
        return session.scalars(select(OutboxItem).where(OutboxItem.kind == "case.root")).one()


def posted_reports(stack: Stack, channel: str) -> list[dict]:
    return [m for m in stack.staff_messages(channel) if "COC-1" in m.get("text", "")]


def test_the_manifest_does_not_grant_channels_read() -> None:
    scopes = manifest_scopes()
    assert "groups:read" in scopes
    assert "channels:read" not in scopes


def test_a_private_staff_channel_works_with_the_manifests_scopes(stack: Stack) -> None:
    grant_manifest_scopes(stack.emulator)
    stack.report()
    stack.drain()
    assert len(posted_reports(stack, "G_STAFF")) == 1
    assert root_outbox(stack).status == "delivered"


def test_a_public_staff_channel_is_refused_on_missing_scope(stack: Stack) -> None:
    grant_manifest_scopes(stack.emulator)
    stack.slack.settings = stack.slack.settings.with_overrides(staff_channel="C_GENERAL")
    stack.report()
    stack.drain()
    assert posted_reports(stack, "C_GENERAL") == []
    root = root_outbox(stack)
    assert root.status == "pending"
    assert root.last_error == "the staff channel is a public channel, not private"
    general = stack.emulator.state()["channels"]["C_GENERAL"]["messages"]
    assert [m.get("bot_id") for m in general] == [None, None, "B_DEPLOYBOT", None]
    assert stack.emulator.state()["calls"]["conversations.info"] == 1


def test_a_direct_message_as_staff_channel_is_refused(stack: Stack) -> None:
    grant_manifest_scopes(stack.emulator)
    dm, _ = stack.emulator.workspace.open_dm("U_STEW1")
    stack.slack.settings = stack.slack.settings.with_overrides(staff_channel=dm["id"])
    stack.report()
    stack.drain()
    assert root_outbox(stack).last_error == "the staff channel is a direct message, not private"
    assert [m for m in stack.dm_messages("U_STEW1") if "COC-1" in m.get("text", "")] == []


def test_doctor_names_a_public_channel_with_the_manifests_scopes(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    seed = load_seed(None)
    seed["bot"]["scopes"] = manifest_scopes()
    with SlackEmulator(seed=seed) as emulator:
        env = {
            "STEWARD_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "SLACK_API_URL": emulator.api_url,
            "STEWARD_STAFF_CHANNEL": "C_GENERAL",
            "STEWARD_ESCALATION_CHANNEL": "G_ESCALATE",
        }
        result = doctor(env, tmp_path)
    assert result.returncode == 1
    assert "FAIL staff channel: C_GENERAL is PUBLIC" in result.stdout
    assert "ok   escalation channel: G_ESCALATE is private" in result.stdout
