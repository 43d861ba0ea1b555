"""``steward emulator``: run the Slack emulator on its own until interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .emulator import DEFAULT_SIGNING_SECRET, SlackEmulator
from .seed import SeedError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steward emulator",
        description="A local Slack Web API and interaction sender for Steward.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=3001, help="port (0 picks a free one)")
    parser.add_argument("--app-url", default=None, help="the app's /slack/events URL")
    parser.add_argument(
        "--signing-secret",
        default=os.environ.get("SLACK_SIGNING_SECRET") or DEFAULT_SIGNING_SECRET,
        help="secret to sign requests to the app with (default: $SLACK_SIGNING_SECRET)",
    )
    parser.add_argument("--seed", default=None, help="workspace seed, YAML or JSON")
    parser.add_argument(
        "--trigger-ttl", type=float, default=3.0, help="trigger_id lifetime in seconds"
    )
    parser.add_argument(
        "--manifest",
        default=None,
        help="app manifest whose bot scopes the app holds (default: Steward's manifest.yml)",
    )
    parser.add_argument(
        "--echo-bot-messages",
        action="store_true",
        help="send the app message events for its own posts, as Slack does",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print its URLs, and serve until SIGINT/SIGTERM."""
    args = build_parser().parse_args(argv)
    try:
        emulator = SlackEmulator(
            seed=args.seed,
            signing_secret=args.signing_secret,
            app_url=args.app_url,
            host=args.host,
            port=args.port,
            trigger_ttl=args.trigger_ttl,
            echo_bot_messages=args.echo_bot_messages,
            scopes=args.manifest,
        ).start()
    except (OSError, SeedError) as err:
        print(f"steward emulator: {err}", file=sys.stderr)
        return 1
    print("Slack emulator running", flush=True)
    print(f"  Viewer:      {emulator.url}/", flush=True)
    print(f"  Web API:     {emulator.api_url}", flush=True)
    print(f"  Control API: {emulator.control_url}", flush=True)
    print(f"  State:       {emulator.control_url}state", flush=True)
    print(f"  App URL:     {emulator.app_url or '(not set; POST /_emulator/config)'}", flush=True)
    print(f"  Bot token:   {emulator.bot_token}", flush=True)
    print(f"  App token:   {emulator.app_token} (Socket Mode)", flush=True)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print("Slack emulator stopped", flush=True)
    return 0
