"""`steward doctor` against the emulator, a real SMTP relay and a real database: a good
setup passes, and each failure is found and comes with its fix on the same line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command

from core.infra.db import Database, alembic_config
from core.infra.settings import Settings
from slackapp.emulator import SlackEmulator
from slackapp.emulator.seed import load_seed
from steward import runtime
from steward.doctor import report, required_scopes, run_checks
from tests.conftest import free_port
from tests.smtp_helpers import Sink

ADDRESS = "conduct@steward-community.org"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    seed = load_seed(None)
    seed["channels"].append(
        {"id": "G_QUIET", "name": "quiet", "is_private": True, "members": ["U_STEW1"]}
    )
    with SlackEmulator(seed=seed) as running:
        yield running


@pytest.fixture
def good(settings: Settings, db: Database, emulator: SlackEmulator) -> Iterator[Settings]:
    with Sink(free_port()) as relay:
        yield replace(
            settings,
            conduct_address=ADDRESS,
            outbound_smtp_url=relay.url,
            slack_bot_token=emulator.bot_token,
            slack_signing_secret=emulator.signing_secret,
            slack_api_url=emulator.api_url,
            staff_channel="G_STAFF",
            escalation_channel="G_ESCALATE",
        )


def lines(settings: Settings) -> list[str]:
    out: list[str] = []
    report(run_checks(settings), out.append)
    return out


def failures(settings: Settings) -> list[str]:
    return [line for line in lines(settings) if line.startswith("FAIL")]


def test_a_good_setup_passes_every_check(good: Settings) -> None:
    out = lines(good)
    assert [line[:4] for line in out] == ["ok  "] * 10, out
    assert [line.split(":")[0][5:] for line in out] == [
        "settings",
        "database",
        "mail listen address",
        "outbound mail",
        "conduct address",
        "signing secret",
        "token",
        "token scopes",
        "staff channel",
        "escalation channel",
    ]
    assert "ok   token scopes: every scope manifest.yml asks for is granted" in out
    assert any("no TLS (allowed only because the relay is on loopback)" in line for line in out)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"staff_channel": "#stewards"},
            [
                "FAIL settings: STEWARD_STAFF_CHANNEL must be a channel ID such as G0123ABCD "
                "(at the bottom of the channel's details), not '#stewards'",
                "FAIL staff channel: #stewards: Slack answers channel_not_found -> fix: invite "
                "the bot with `/invite @Steward` in that channel",
            ],
        ),
        (
            {"slack_bot_token": "xoxb-revoked"},
            [
                "FAIL token: Slack refused the token (invalid_auth) -> fix: copy the Bot User "
                "OAuth Token (xoxb-) from OAuth & Permissions into SLACK_BOT_TOKEN; reinstall "
                "the app if it was revoked",
            ],
        ),
        (
            {"staff_channel": "C_GENERAL"},
            [
                "FAIL staff channel: C_GENERAL is PUBLIC: Steward refuses to post cases there "
                "-> fix: create a private channel, invite the bot, and set "
                "STEWARD_STAFF_CHANNEL to its ID",
            ],
        ),
        (
            {"staff_channel": None},
            [
                "FAIL staff channel: not set -> fix: create a private channel, invite the "
                "bot, and set STEWARD_STAFF_CHANNEL to its ID",
            ],
        ),
        (
            {"escalation_channel": "G_QUIET"},
            [
                "FAIL escalation channel: G_QUIET: Slack answers channel_not_found -> fix: "
                "invite the bot with `/invite @Steward` in that channel",
            ],
        ),
        (
            {"conduct_address": "conduct@example.org"},
            [
                "FAIL conduct address: conduct@example.org: mail to example.org can never "
                "arrive -> fix: set STEWARD_CONDUCT_ADDRESS to your community's conduct address",
            ],
        ),
        (
            {"outbound_smtp_url": "smtp://127.0.0.1:9"},
            [
                "FAIL outbound mail: 127.0.0.1:9 unreachable (ConnectionRefusedError) -> fix: "
                "check the host and port in STEWARD_OUTBOUND_SMTP_URL, and any firewall between",
            ],
        ),
        (
            {"database_url": "postgresql://steward@127.0.0.1:9/nowhere"},
            [
                "FAIL database: cannot connect (OperationalError) -> fix: check "
                "STEWARD_DATABASE_URL and that the database server is running",
            ],
        ),
    ],
)
def test_each_failure_comes_with_its_fix(
    good: Settings, changes: dict[str, object], expected: list[str]
) -> None:
    assert failures(replace(good, **changes)) == expected


def test_a_token_without_a_scope_from_the_manifest(good: Settings) -> None:
    """An app installed before manifest.yml gained a scope: Slack lists what it holds."""
    granted = required_scopes() - {"im:write", "commands"}
    with SlackEmulator(scopes=granted) as older:
        installed = replace(good, slack_bot_token=older.bot_token, slack_api_url=older.api_url)
        assert failures(installed) == [
            "FAIL token scopes: missing commands, im:write -> fix: add them under OAuth & "
            "Permissions (or update the app from manifest.yml) and reinstall the app to the "
            "workspace"
        ]


def test_a_database_behind_this_release(good: Settings, tmp_path: Path) -> None:
    behind = Database(f"sqlite:///{tmp_path / 'behind.db'}")
    with behind.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    [line] = failures(replace(good, database_url=behind.url))
    assert line.startswith("FAIL database: schema at migration 0003, this release needs ")
    assert line.endswith(" -> fix: run `steward db upgrade`")
    empty = replace(good, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert failures(empty) == [
        "FAIL database: reachable, but it has no Steward schema yet -> fix: run "
        "`steward db upgrade`"
    ]


def test_the_smtp_listen_address_must_be_free_or_ours(good: Settings, db: Database) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", good.smtp_port))
        other.listen()
        assert failures(good) == [
            f"FAIL mail listen address: smtp://127.0.0.1:{good.smtp_port} is taken by another "
            "program -> fix: stop that program, or set STEWARD_SMTP_PORT to a free port"
        ]
    ours = runtime.build_mail_server(db, replace(good, mail_storage_process=False))
    ours.start()
    try:
        assert failures(good) == []
        assert (
            f"ok   mail listen address: smtp://127.0.0.1:{good.smtp_port}: a Steward gateway "
            "is already listening there"
        ) in lines(good)
    finally:
        ours.stop()


def test_the_command_exits_non_zero_on_any_failure(good: Settings, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STEWARD_DATABASE_URL": good.database_url,
        "STEWARD_SMTP_PORT": str(good.smtp_port),
        "STEWARD_CONDUCT_ADDRESS": ADDRESS,
        "STEWARD_OUTBOUND_SMTP_URL": good.outbound_smtp_url or "",
        "SLACK_BOT_TOKEN": good.slack_bot_token or "",
        "SLACK_SIGNING_SECRET": good.slack_signing_secret or "",
        "SLACK_API_URL": good.slack_api_url,
        "STEWARD_STAFF_CHANNEL": "G_STAFF",
    }

    def doctor(**more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "steward.cli", "doctor"],
            env={**env, **more},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    passed = doctor()
    assert passed.returncode == 0, passed.stdout
    failed = doctor(SLACK_SIGNING_SECRET="", STEWARD_APPEAL_DAYS="0")
    assert failed.returncode == 1
    assert failed.stdout.count("FAIL") == 2, failed.stdout
    assert "FAIL settings: STEWARD_APPEAL_DAYS must be more than 0, not 0\n" in failed.stdout
    for secret in (good.slack_bot_token or "", good.slack_signing_secret or ""):
        assert secret not in failed.stdout + passed.stdout
