"""`steward emulator` standalone: prints its URLs, serves, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_standalone_prints_urls_serves_and_stops() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "steward.cli",
            "emulator",
            "--port",
            "0",
            "--app-url",
            "http://127.0.0.1:3000/slack/events",
            "--signing-secret",
            "s3cret",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        urls = {
            line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
            for line in lines
            if ":" in line
        }
        api_url = urls["Web API"]
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/api/")
        assert urls["Control API"].endswith("/_emulator/")
        with urllib.request.urlopen(urls["State"], timeout=5) as response:
            state = json.loads(response.read())
        assert state["app_url"] == "http://127.0.0.1:3000/slack/events"
        assert "G_STAFF" in state["channels"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in out


def test_main_reports_a_bad_seed(tmp_path: Path, capsys) -> None:
    from slackapp.emulator import main

    bad = tmp_path / "bad.yml"
    bad.write_text("channels:\n  - id: G_X\n    members: [U_GHOST]\n")
    assert main(["--port", "0", "--seed", str(bad)]) == 1
    assert "U_GHOST" in capsys.readouterr().err
