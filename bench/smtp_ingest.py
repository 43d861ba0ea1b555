"""SMTP ingest throughput: `steward mail` against a bare aiosmtpd sink, in one run.

Sends the same load (default 2,000 messages over 4 connections) to both and
reports messages per second and their ratio. Checks that every message became a
case. Target on SQLite: steward >= 0.25 x the sink's rate.

    .venv/bin/python bench/smtp_ingest.py [--messages N] [--connections C]
        [--database-url URL] [--check]
"""

from __future__ import annotations

import argparse
import json
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, scratch, start, stop, wait_for_port  # noqa: E402

TARGET_RATIO = 0.25


def message(n: int, run: str) -> tuple[str, bytes]:
    sender = f"member{n}@example.net"
    msg = EmailMessage()
    msg["From"] = f"Member {n} <{sender}>"
    msg["To"] = "conduct@example.org"
    msg["Subject"] = f"Report {n}: something happened in the forum"
    msg["Date"] = formatdate()
    msg["Message-ID"] = f"<bench-{run}-{n}@example.net>"
    msg.set_content(
        "Hello,\n\nDuring yesterday's call someone made repeated remarks about my accent "
        "after I asked them to stop. Two others saw it.\n\nThanks,\nMember\n" * 3
    )
    return sender, msg.as_bytes()


def blast(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    """Send everything over `connections` parallel SMTP sessions; returns the elapsed seconds."""
    shares = [messages[i::connections] for i in range(connections)]
    errors: list[str] = []

    def worker(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            for sender, raw in share:
                refused = client.sendmail(sender, ["conduct@example.org"], raw)
                if refused:
                    errors.append("refused")

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} messages refused")
    return elapsed


def count_cases(database_url: str) -> int:
    from sqlalchemy import func, select

    from core.infra.db import Database
    from core.infra.models import Case

    db = Database(database_url)
    try:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(Case)) or 0
    finally:
        db.dispose()


def run(messages: int, connections: int, database_url: str | None) -> dict[str, float]:
    work = scratch("steward-bench-")
    url = database_url or f"sqlite:///{work / 'steward.db'}"
    run_id = str(int(time.time()))
    load = [message(n, run_id) for n in range(messages)]
    sink_seconds = sink_run(load, connections)
    from core.infra.db import Database

    Database(url).upgrade()
    before = count_cases(url)
    steward_seconds = steward_run(load, connections, url, work)
    stored = count_cases(url) - before
    return {
        "database": url.split(":", 1)[0],
        "messages": messages,
        "connections": connections,
        "sink_per_second": messages / sink_seconds,
        "steward_per_second": messages / steward_seconds,
        "ratio": (messages / steward_seconds) / (messages / sink_seconds),
        "cases_stored": stored,
    }


def sink_run(load: list[tuple[str, bytes]], connections: int) -> float:
    """Seconds for the bare aiosmtpd sink to take the load."""

    def launch(port: int) -> subprocess.Popen[bytes]:
        return start(["bench/sink.py", str(port)], {"PYTHONPATH": str(ROOT)}, ROOT)

    return _timed(launch, load, connections)


def steward_run(load: list[tuple[str, bytes]], connections: int, url: str, work: Path) -> float:
    """Seconds for `steward mail`, as a separate process on `url`, to take the load."""

    def launch(port: int) -> subprocess.Popen[bytes]:
        env = {
            "STEWARD_DATABASE_URL": url,
            "STEWARD_SMTP_PORT": str(port),
            "STEWARD_MAIL_HEALTH_PORT": "0",
        }
        return start(["-m", "steward.cli", "mail"], env, work)

    return _timed(launch, load, connections)


def _timed(
    launch: Callable[[int], subprocess.Popen[bytes]],
    load: list[tuple[str, bytes]],
    connections: int,
) -> float:
    port = free_port()
    server = launch(port)
    try:
        wait_for_port(port)
        return blast(port, load, connections)
    finally:
        stop(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="PostgreSQL, migrated if needed")
    parser.add_argument("--check", action="store_true", help="exit 1 below the target ratio")
    args = parser.parse_args()
    result = run(args.messages, args.connections, args.database_url)
    print(json.dumps(result, indent=2))
    print(
        f"sink {result['sink_per_second']:.0f} msg/s, steward {result['steward_per_second']:.0f}"
        f" msg/s, ratio {result['ratio']:.2f} (target >= {TARGET_RATIO})"
    )
    complete = result["cases_stored"] == args.messages
    if not complete:
        print(f"MISSING CASES: {result['cases_stored']} of {args.messages}")
    if not complete or (args.check and result["ratio"] < TARGET_RATIO):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
