"""The encryption key at startup: production refuses to run without a good one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.smtp_helpers import steward_cli

REFUSED_MISSING = (
    "steward: STEWARD_ENCRYPTION_KEY is not set; create one with `steward keys new` "
    "and keep it out of the database's backups\n"
)
REFUSED_FORMAT = (
    "steward: STEWARD_ENCRYPTION_KEY must be base64url keys of 32 bytes, comma-separated\n"
)


def steward(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "SLACK_"))}
    environment["STEWARD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'steward.db'}"
    environment.update(env)
    return steward_cli(tmp_path, *args, env=environment)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("worker",), {"SLACK_BOT_TOKEN": "xoxb-production"}),
        (("run",), {"SLACK_BOT_TOKEN": "xoxb-production"}),
        (("cases", "list"), {}),
        (("run",), {"STEWARD_DATABASE_URL": "postgresql://steward@127.0.0.1:1/none"}),
    ],
)
def test_production_without_a_key_is_refused_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = steward(tmp_path, *args, **env)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", REFUSED_MISSING)
    assert not (tmp_path / "steward.key").exists()


def test_a_malformed_key_is_refused_in_one_line_without_echoing_it(tmp_path: Path) -> None:
    result = steward(tmp_path, "cases", "list", STEWARD_ENCRYPTION_KEY="hunter2-not-a-key")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", REFUSED_FORMAT)


def test_keys_new_prints_a_key_the_service_accepts(tmp_path: Path) -> None:
    made = steward(tmp_path, "keys", "new")
    key = made.stdout.strip()
    assert made.returncode == 0 and len(key) == 43
    listed = steward(tmp_path, "cases", "list", STEWARD_ENCRYPTION_KEY=key)
    assert (listed.returncode, listed.stdout) == (0, "no cases yet\n")
