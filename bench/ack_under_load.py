"""Slack ack latency during an SMTP flood: `steward run` on SQLite, with and without the flood.

The web process and the mail storage process share SQLite's one write lock.
This fires N signed report-form submissions (default 300, 20 at a time;
`--long`: 1,000, 50 at a time) at `steward run`, first with nothing else going
on, then while 20 SMTP connections send reports as fast as Steward takes them,
then quiet again. Each phase gets its own submissions. Target: the flood adds
under 50 % to the p99 of the quiet phases. Checks that every submission and
every accepted email became a case.

    .venv/bin/python bench/ack_under_load.py [--long] [--requests N] [--concurrency C]
        [--connections 20] [--check]
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack_latency import count_cases, fire, percentiles, submission  # noqa: E402
from bench.common import free_port, scratch, start_steward_run, stop  # noqa: E402
from bench.smtp_ingest import message  # noqa: E402
from slackapp.emulator import SlackEmulator  # noqa: E402

ADDED_TARGET = 0.5


class Flood:
    """`connections` SMTP sessions sending distinct reports until stopped."""

    def __init__(self, port: int, connections: int, run: str) -> None:
        self.port, self.connections, self.run = port, connections, run
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(n,)) for n in range(connections)]

    def __enter__(self) -> Flood:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 60
        while self.sent < 2 * self.connections and time.monotonic() < deadline:
            time.sleep(0.05)  # measure only once the flood is flowing
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _send(self, lane: int) -> None:
        n = lane
        with smtplib.SMTP("127.0.0.1", self.port, timeout=120) as client:
            while not self._stop.is_set():
                sender, raw = message(n, self.run)
                client.sendmail(sender, ["conduct@example.org"], raw)
                with self._lock:
                    self.sent += 1
                n += self.connections


def run(requests: int, concurrency: int, connections: int) -> dict:
    work = scratch("steward-ackload-")
    url = f"sqlite:///{work / 'steward.db'}"
    run_id = str(int(time.time()))
    from core.infra.db import Database

    Database(url).upgrade()
    with SlackEmulator() as emulator:
        secret = emulator.signing_secret
        web_port, smtp_port = free_port(), free_port()
        steward = start_steward_run(emulator, url, work, smtp_port, web_port)
        try:
            events = f"http://127.0.0.1:{web_port}/slack/events"

            def phase(name: str) -> list[float]:
                batch = [submission(n, f"{run_id}-{name}") for n in range(requests)]
                return fire(events, secret, batch, concurrency)

            fire(events, secret, [submission(n, f"{run_id}-warm") for n in range(20)], 10)
            quiet_before = phase("quiet1")
            with Flood(smtp_port, connections, run_id) as flood:
                began, sent_before = time.perf_counter(), flood.sent
                flooded = phase("flood")
                flood_rate = (flood.sent - sent_before) / (time.perf_counter() - began)
            emails = flood.sent
            quiet_after = phase("quiet2")
            expected = 20 + 3 * requests + emails
            deadline = time.monotonic() + 120
            while count_cases(url) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            stop(steward)
    quiet = percentiles(quiet_before + quiet_after)
    loaded = percentiles(flooded)
    return {
        "requests_per_phase": requests,
        "concurrency": concurrency,
        "flood_connections": connections,
        "emails_during_flood": emails,
        "emails_per_second_while_measuring": round(flood_rate, 1),
        "quiet_ms": quiet,
        "quiet_before_ms": percentiles(quiet_before),
        "quiet_after_ms": percentiles(quiet_after),
        "flood_ms": loaded,
        "p99_added": loaded["p99"] / quiet["p99"] - 1,
        "cases": count_cases(url),
        "cases_expected": expected,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--long", action="store_true", help="1,000 submissions, 50 at a time")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    requests, concurrency = (1000, 50) if args.long else (args.requests, args.concurrency)
    result = run(requests, concurrency, args.connections)
    print(json.dumps(result, indent=2))
    q, f = result["quiet_ms"], result["flood_ms"]
    print(
        f"ack p50/p95/p99 quiet {q['p50']:.0f}/{q['p95']:.0f}/{q['p99']:.0f} ms, during a"
        f" {result['flood_connections']}-connection flood ({result['emails_during_flood']} emails)"
        f" {f['p50']:.0f}/{f['p95']:.0f}/{f['p99']:.0f} ms: p99 +{result['p99_added']:.0%}"
        f" (target < +{ADDED_TARGET:.0%})"
    )
    complete = result["cases"] == result["cases_expected"]
    if not complete:
        print(f"CASES: {result['cases']} of {result['cases_expected']}")
    return 1 if (not complete or (args.check and result["p99_added"] >= ADDED_TARGET)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
