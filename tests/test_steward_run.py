"""`steward run` as a new user starts it: every part up, wired together, stopping cleanly."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.mail import corpus
from tests.smtp_helpers import send


def wait_for(check, timeout: float = 20.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    return None


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def start_steward(
    tmp_path: Path,
    database_url: str,
    command: str,
    ports: dict[str, int],
    unset: tuple[str, ...] = (),
    **popen: Any,
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`steward <command>` as an operator starts it, on a schema made ready first."""
    env = {
        **os.environ,
        "STEWARD_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **{name: str(port) for name, port in ports.items()},
    }
    for name in ("SLACK_BOT_TOKEN", *unset):
        env.pop(name, None)
    if database_url.startswith("postgresql"):
        subprocess.run(
            [sys.executable, "-m", "steward.cli", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            check=True,
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "steward.cli", command],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )
    return process, env


def test_steward_run_serves_mail_slack_and_the_worker(tmp_path: Path, database_url: str) -> None:
    web, smtp, emulator = free_port(), free_port(), free_port()
    ports = {
        "STEWARD_WEB_PORT": web,
        "STEWARD_SMTP_PORT": smtp,
        "STEWARD_EMULATOR_PORT": emulator,
    }
    # On the embedded defaults, `steward run` makes its own development key.
    embedded = database_url.startswith("sqlite")
    unset = ("STEWARD_ENCRYPTION_KEY",) if embedded else ()
    process, _ = start_steward(tmp_path, database_url, "run", ports, unset)
    try:
        health = wait_for(lambda: get_json(f"http://127.0.0.1:{web}/healthz"))
        assert health == {"ok": True}
        assert send(smtp, corpus.plain(subject="hello", body="A report."))[0] == 250

        def staff_root() -> list:
            state = get_json(f"http://127.0.0.1:{emulator}/_emulator/state")
            messages = state["channels"]["G_STAFF"]["messages"]
            return [m for m in messages if "COC-1" in m.get("text", "")]

        assert wait_for(staff_root), "the worker should post the case thread"
        assert wait_for(lambda: list((tmp_path / "mail-out").glob("*.eml")))
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"smtp://127.0.0.1:{smtp}" in output
    assert f"http://127.0.0.1:{web}/slack/events" in output
    assert "A report." not in output and "alex@example.net" not in output
    if embedded:
        assert "  generated a development encryption key in ./steward.key" in output
        assert stat.S_IMODE((tmp_path / "steward.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_steward_mail_stops_cleanly_when_its_process_group_is_signalled(
    tmp_path: Path, database_url: str, stop_signal: signal.Signals
) -> None:
    """Ctrl-C in a terminal, or a process manager, signals the gateway and its storage
    process together; the mail taken in is kept and nobody prints a traceback."""
    smtp = free_port()
    process, env = start_steward(
        tmp_path, database_url, "mail", {"STEWARD_SMTP_PORT": smtp}, start_new_session=True
    )
    try:
        assert wait_for(lambda: send(smtp, corpus.plain(body="Kept."))[0] == 250)
    finally:
        os.killpg(process.pid, stop_signal)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output, output

    def group_gone() -> bool:
        found = subprocess.run(["pgrep", "-a", "-g", str(process.pid)], capture_output=True)
        return found.stdout.strip() == b""

    assert wait_for(group_gone, timeout=10), "a child process outlived the gateway"
    assert (
        '"ref": "COC-1"'
        in subprocess.run(
            [sys.executable, "-m", "steward.cli", "cases", "show", "COC-1", "--json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
