"""Shared helpers for Steward's benchmarks: free ports, child processes, waiting for them."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.infra import crypto

ROOT = Path(__file__).resolve().parent.parent

# The record is sealed in benchmarks as in production: one key per run, shared with
# every process the benchmark starts (they inherit the environment).
os.environ.setdefault("STEWARD_ENCRYPTION_KEY", crypto.generate_key())
crypto.install(crypto.parse_keys(os.environ["STEWARD_ENCRYPTION_KEY"]))


def scratch(prefix: str) -> Path:
    """A working directory removed when the benchmark exits, however it exits: a
    `scale.py --long` record alone is over half a gigabyte."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """A child process with its output kept out of the benchmark's own."""
    return subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_steward_run(
    emulator: Any, url: str, work: Path, smtp_port: int, web_port: int
) -> subprocess.Popen[bytes]:
    """`steward run` (web, mail and worker in one process) on `url`, talking to `emulator`."""
    env = {
        "STEWARD_DATABASE_URL": url,
        "STEWARD_SMTP_PORT": str(smtp_port),
        "STEWARD_WEB_PORT": str(web_port),
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": emulator.signing_secret,
        "SLACK_API_URL": emulator.api_url,
        "STEWARD_STAFF_CHANNEL": "G_STAFF",
        "STEWARD_MAIL_OUT_DIR": str(work / "mail-out"),
    }
    process = start(["-m", "steward.cli", "run"], env, work)
    try:
        wait_for_port(smtp_port)
        wait_for_port(web_port)
    except RuntimeError:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
