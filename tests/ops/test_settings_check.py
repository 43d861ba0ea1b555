"""Settings that cannot work together stop a service at start: one line each, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.cli import main

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "STEWARD_STAFF_CHANNEL",
        "STEWARD_ESCALATION_CHANNEL",
        "STEWARD_OUTBOUND_SMTP_URL",
        "STEWARD_CONDUCT_ADDRESS",
        "STEWARD_ACK_HOURS",
        "STEWARD_ACK_ESCALATE_HOURS",
        "STEWARD_APPEAL_DAYS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'never-opened.db'}")


def refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    command: tuple[str, ...] = ("worker",),
) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(list(command)) == 2
    return capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("env", "command", "expected"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            ("web",),
            "steward: SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: copy the "
            "Signing Secret from the app's Basic Information page (or use Socket Mode "
            "with SLACK_APP_TOKEN)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
            ("web",),  # over HTTP, Slack's requests must be verified even with an app token
            "steward: SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: copy the "
            "Signing Secret from the app's Basic Information page (or use Socket Mode "
            "with SLACK_APP_TOKEN)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_SIGNING_SECRET": "s"},
            ("worker",),
            "steward: SLACK_BOT_TOKEN must be a bot token starting with xoxb- "
            "(OAuth & Permissions, Bot User OAuth Token)",
        ),
        (
            {**SLACK, "STEWARD_STAFF_CHANNEL": "#conduct-team"},
            ("mail",),
            "steward: STEWARD_STAFF_CHANNEL must be a channel ID such as G0123ABCD (at the "
            "bottom of the channel's details), not '#conduct-team'",
        ),
        (
            {"STEWARD_ESCALATION_CHANNEL": "escalations"},
            ("run",),
            "steward: STEWARD_ESCALATION_CHANNEL must be a channel ID such as G0123ABCD (at "
            "the bottom of the channel's details), not 'escalations'",
        ),
        (
            {"STEWARD_OUTBOUND_SMTP_URL": "https://user:hunter2@relay.example.org"},
            ("worker",),
            "steward: STEWARD_OUTBOUND_SMTP_URL must start with smtp:// or smtps://, not https://",
        ),
        (
            {"STEWARD_OUTBOUND_SMTP_URL": "relay.example.org:587"},
            ("worker",),
            "steward: STEWARD_OUTBOUND_SMTP_URL must start with smtp:// or smtps://, "
            "not relay.example.org://",
        ),
        (
            {"STEWARD_OUTBOUND_SMTP_URL": "smtp://"},
            ("worker",),
            "steward: STEWARD_OUTBOUND_SMTP_URL has no host: write smtp://user:password@host:587",
        ),
        (
            {"STEWARD_CONDUCT_ADDRESS": "conduct"},
            ("mail",),
            "steward: STEWARD_CONDUCT_ADDRESS must be a plain email address such as "
            "conduct@example.org, without '+', not 'conduct'",
        ),
        (
            {"STEWARD_CONDUCT_ADDRESS": "conduct+team@example.org"},
            ("mail",),
            "steward: STEWARD_CONDUCT_ADDRESS must be a plain email address such as "
            "conduct@example.org, without '+', not 'conduct+team@example.org'",
        ),
        (
            {"STEWARD_ACK_HOURS": "24", "STEWARD_ACK_ESCALATE_HOURS": "12"},
            ("worker",),
            "steward: STEWARD_ACK_ESCALATE_HOURS (12) must be more than STEWARD_ACK_HOURS "
            "(24): the stewards are all mentioned only after the acknowledgement is overdue",
        ),
        (
            {"STEWARD_APPEAL_DAYS": "0"},
            ("worker",),
            "steward: STEWARD_APPEAL_DAYS must be more than 0, not 0",
        ),
        (
            {"STEWARD_MAIL_HEALTH_PORT": "70000"},
            ("mail",),
            "steward: STEWARD_MAIL_HEALTH_PORT must be a port number from 0 to 65535, not 70000",
        ),
    ],
)
def test_each_problem_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    command: tuple[str, ...],
    expected: str,
) -> None:
    assert refused(monkeypatch, capsys, env, command) == [expected]


def test_every_problem_is_listed_at_once_and_no_secret_is_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = refused(
        monkeypatch,
        capsys,
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
            "STEWARD_STAFF_CHANNEL": "staff",
            "STEWARD_OUTBOUND_SMTP_URL": "ftp://user:hunter2@relay",
            "STEWARD_APPEAL_DAYS": "-1",
        },
    )
    assert len(lines) == 4, lines
    assert all(line.startswith("steward: ") for line in lines)
    assert not any("hunter2" in line or "secret-token" in line for line in lines)


def test_socket_mode_needs_no_signing_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an app token the worker and mail processes run without a signing secret;
    `steward web --socket-mode` gets past validation to the database check."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    from core.infra.settings import load_settings
    from core.infra.settings_check import settings_problems

    settings = load_settings(None)
    assert settings_problems(settings, serves_http=True, socket_mode=True) == []
    assert settings_problems(settings) == []
    assert settings_problems(settings, serves_http=True) != []


def test_the_other_commands_still_run_so_the_operator_can_inspect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_APPEAL_DAYS", "0")
    assert main(["db", "upgrade"]) == 0
    assert "database schema is up to date" in capsys.readouterr().out
