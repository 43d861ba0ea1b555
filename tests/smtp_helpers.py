"""Real SMTP plumbing for tests: a running gateway, a sink that catches our mail, a client."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Caught:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class SinkHandler:
    """Accepts everything, or answers 451 for the next `fail_next` messages."""

    messages: list[Caught] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 4.3.0 try again later"
            self.messages.append(
                Caught(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 OK"


class Sink:
    """A local aiosmtpd server standing in for the outbound relay."""

    def __init__(self, port: int) -> None:
        self.handler = SinkHandler()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=port, decode_data=False
        )
        self.port = port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Caught]:
        return self.handler.messages

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def send(
    port: int,
    raw: bytes,
    *,
    mail_from: str = "alex@example.net",
    to: str | list[str] = "conduct@example.org",
    options: list[str] | None = None,
) -> tuple[int, bytes]:
    """Send raw bytes over real SMTP; returns the final (code, text) of the DATA phase."""
    recipients = [to] if isinstance(to, str) else to
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        code, text = client.mail(mail_from, options or [])
        assert code == 250, (code, text)
        for rcpt in recipients:
            code, text = client.rcpt(rcpt)
            if code >= 400:
                return code, text
        return client.data(raw)


def cases_show(database_url: str, ref: str, cwd: Path) -> dict[str, Any]:
    """The real command line, as an operator would run it."""
    out = run_cli(database_url, cwd, "cases", "show", ref, "--json")
    return json.loads(out)


def run_cli(database_url: str, cwd: Path, *args: str) -> str:
    result = cli_result(database_url, cwd, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli_result(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line's exit status and both outputs, success or not."""
    return steward_cli(cwd, *args, env={**os.environ, "STEWARD_DATABASE_URL": database_url})


def steward_cli(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`steward ARGS` in a process of its own, with exactly this environment."""
    return subprocess.run(
        [sys.executable, "-m", "steward.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
