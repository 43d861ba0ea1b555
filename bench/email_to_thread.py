"""Email to Slack thread: from conduct@'s 250 to the case's thread root in the staff channel.

`steward run` (one process: web, mail, worker) talks to the Slack emulator,
which runs in this process. Two parts, in one run:

1. Latency, no rate limit: N reports (default 20; `--long`: 100), one at a
   time, each timed from the SMTP 250 until its thread root is in the staff
   channel. The baseline, in the same run: one bare `chat.postMessage` round
   trip to the emulator plus one SMTP delivery to a bare aiosmtpd sink. Target:
   p95 under 500 ms.
2. Burst under Slack's rate limit (`chat.postMessage` at one message per
   second per channel): B reports (default 30; `--long`: 300) sent at once.
   Every case must get exactly one root, in the order the reports were sent,
   and calls refused with 429 must stay under 5 % of all calls.

    .venv/bin/python bench/email_to_thread.py [--long] [--reports N] [--burst B] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import smtplib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    free_port,
    scratch,
    start,
    start_steward_run,
    stop,
    wait_for_port,
)
from bench.smtp_ingest import message as report  # noqa: E402
from slackapp.emulator import SlackEmulator  # noqa: E402

P95_TARGET_MS = 500.0
RATE_LIMITED_TARGET = 0.05
STAFF = "G_STAFF"
REF = re.compile(r"COC-(\d+)")


def roots(emulator: SlackEmulator) -> list[int]:
    """The case numbers of the staff channel's top-level messages, oldest first."""
    messages = emulator.state()["channels"][STAFF]["messages"]
    found = []
    for message in messages:
        match = REF.search(json.dumps(message))
        if match:
            found.append(int(match.group(1)))
    return found


def wait_for_roots(emulator: SlackEmulator, count: int, timeout: float, poll: float) -> float:
    """Wait until the staff channel has `count` roots; returns the time it happened."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if len(emulator.state()["channels"][STAFF]["messages"]) >= count:
            return time.perf_counter()
        time.sleep(poll)
    raise RuntimeError(f"fewer than {count} thread roots after {timeout} s")


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "max": max(samples)}


def baseline(emulator: SlackEmulator, runs: int) -> dict[str, dict[str, float]]:
    """A bare chat.postMessage round trip, and one SMTP delivery to a bare sink."""
    from slack_sdk import WebClient

    client = WebClient(token=emulator.bot_token, base_url=emulator.api_url)
    post = []
    for n in range(runs):
        began = time.perf_counter()
        client.chat_postMessage(channel="G_ESCALATE", text=f"baseline {n}")
        post.append((time.perf_counter() - began) * 1000)
    port = free_port()
    sink = start(["bench/sink.py", str(port)], {"PYTHONPATH": str(ROOT)}, ROOT)
    smtp = []
    try:
        wait_for_port(port)
        for n in range(runs):
            sender, raw = report(n, "sink")
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as session:
                began = time.perf_counter()
                session.sendmail(sender, ["conduct@example.org"], raw)
                smtp.append((time.perf_counter() - began) * 1000)
    finally:
        stop(sink)
    return {"chat_postMessage_ms": percentiles(post), "smtp_to_sink_ms": percentiles(smtp)}


def latency(emulator: SlackEmulator, port: int, reports: int, run: str) -> list[float]:
    """Milliseconds from each 250 until the case's root is in the staff channel."""
    seen = len(emulator.state()["channels"][STAFF]["messages"])
    samples = []
    for n in range(reports):
        sender, raw = report(n, run)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as session:
            session.sendmail(sender, ["conduct@example.org"], raw)
            accepted = time.perf_counter()
        seen += 1
        samples.append((wait_for_roots(emulator, seen, 30, 0.002) - accepted) * 1000)
    return samples


def burst(emulator: SlackEmulator, port: int, count: int, run: str) -> dict:
    """Send `count` reports at once under one post per second per channel; check the roots."""
    emulator.rate_limit("chat.postMessage", 1)
    before_roots = roots(emulator)
    before = emulator.state()
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as session:
        for n in range(count):
            sender, raw = report(n, run)
            session.sendmail(sender, ["conduct@example.org"], raw)
    sent = time.perf_counter()
    expected = len(before["channels"][STAFF]["messages"]) + count
    arrived = wait_for_roots(emulator, expected, count * 3 + 60, 0.05)
    time.sleep(2)  # anything posted twice would show up by now
    after = emulator.state()
    emulator.rate_limit("chat.postMessage", None)
    new = roots(emulator)[len(before_roots) :]
    posts = after["calls"].get("chat.postMessage", 0) - before["calls"].get("chat.postMessage", 0)
    refused = after["rate_limited"].get("chat.postMessage", 0) - before["rate_limited"].get(
        "chat.postMessage", 0
    )
    return {
        "reports": count,
        "send_seconds": round(sent - began, 2),
        "all_roots_seconds": round(arrived - began, 1),
        "roots": len(new),
        "distinct": len(set(new)),
        "in_order": new == sorted(new),
        "post_calls": posts,
        "rate_limited_calls": refused,
        "rate_limited_share": refused / max(1, posts + refused),
    }


def run(reports: int, burst_size: int) -> dict:
    work = scratch("steward-thread-")
    url = f"sqlite:///{work / 'steward.db'}"
    run_id = str(int(time.time()))
    with SlackEmulator() as emulator:
        base = baseline(emulator, reports)
        from core.infra.db import Database

        Database(url).upgrade()
        smtp_port, web_port = free_port(), free_port()
        steward = start_steward_run(emulator, url, work, smtp_port, web_port)
        try:
            latency(emulator, smtp_port, 3, f"{run_id}-warm")
            samples = latency(emulator, smtp_port, reports, run_id)
            flood = burst(emulator, smtp_port, burst_size, f"{run_id}-burst")
        finally:
            stop(steward)
    return {"baseline": base, "steward_ms": percentiles(samples), "burst": flood}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--long", action="store_true", help="100 reports, a burst of 300")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    reports, burst_size = (100, 300) if args.long else (args.reports, args.burst)
    result = run(reports, burst_size)
    print(json.dumps(result, indent=2))
    s, b = result["steward_ms"], result["burst"]
    post, sink = result["baseline"]["chat_postMessage_ms"], result["baseline"]["smtp_to_sink_ms"]
    print(
        f"250 -> thread root p50/p95 {s['p50']:.0f}/{s['p95']:.0f} ms (target p95 <"
        f" {P95_TARGET_MS:.0f}); baseline postMessage p50 {post['p50']:.1f} ms + SMTP to sink"
        f" p50 {sink['p50']:.1f} ms"
    )
    print(
        f"burst of {b['reports']} at 1 post/s: {b['roots']} roots, {b['distinct']} distinct,"
        f" in order: {b['in_order']}, 429s {b['rate_limited_calls']} of"
        f" {b['post_calls'] + b['rate_limited_calls']} calls ({b['rate_limited_share']:.1%}),"
        f" all in {b['all_roots_seconds']} s"
    )
    correct = b["roots"] == b["reports"] == b["distinct"] and b["in_order"]
    if not correct:
        print("BURST LOST, DOUBLED OR REORDERED ROOTS")
    missed = s["p95"] >= P95_TARGET_MS or b["rate_limited_share"] >= RATE_LIMITED_TARGET
    return 1 if (not correct or (args.check and missed)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
