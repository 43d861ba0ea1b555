"""Helpers for the records tests: the real command line, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.gateway.conftest import gateway, mail_settings, sink  # noqa: F401 - fixtures
from tests.slack.conftest import gateway_for, stack  # noqa: F401 - fixtures


def steward(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `steward ARGS` in a child process; the caller checks the exit code and output."""
    env = {**os.environ, "STEWARD_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "steward.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
