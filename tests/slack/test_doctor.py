"""`steward doctor` against the emulator: a good setup passes, a public staff channel fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.infra.db import Database
from slackapp.emulator import SlackEmulator
from tests.conftest import free_port


def doctor(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steward.cli", "doctor"],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_doctor_checks_the_staff_channel(db: Database, database_url: str, tmp_path: Path) -> None:
    with SlackEmulator() as emulator:
        env = {
            "STEWARD_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "SLACK_API_URL": emulator.api_url,
            "STEWARD_STAFF_CHANNEL": "G_STAFF",
            "STEWARD_ESCALATION_CHANNEL": "G_ESCALATE",
            "STEWARD_CONDUCT_ADDRESS": "conduct@steward-community.org",
            "STEWARD_SMTP_PORT": str(free_port()),
        }
        good = doctor(env, tmp_path)
        assert good.returncode == 0, good.stdout
        assert "ok   staff channel: G_STAFF is private" in good.stdout
        assert emulator.bot_token not in good.stdout

        public = doctor({**env, "STEWARD_STAFF_CHANNEL": "C_GENERAL"}, tmp_path)
        assert public.returncode == 1
        assert "FAIL staff channel: C_GENERAL is PUBLIC" in public.stdout

        wrong = doctor({**env, "SLACK_BOT_TOKEN": "xoxb-wrong"}, tmp_path)
        assert wrong.returncode == 1
        assert "FAIL token: Slack refused the token (invalid_auth)" in wrong.stdout
