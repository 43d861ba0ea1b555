"""Slack ack latency: `steward web` against a bare Bolt app that only acks, in one run.

Fires N signed view submissions (default 500, 50 at a time) of the report form
at each, and reports p50, p95 and p99 latency and their ratio. Targets: p99
under 300 ms on a 2-core machine, and within 2x of the bare app.

    .venv/bin/python bench/ack_latency.py [--requests N] [--concurrency C] [--check]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, scratch, start, stop, wait_for_port  # noqa: E402
from slackapp.emulator import SlackEmulator, signed_headers  # noqa: E402

P99_TARGET_MS = 300.0
RATIO_TARGET = 2.0


def submission(n: int, run: str) -> dict:
    values = {
        "what": {"what": {"type": "plain_text_input", "value": f"Benchmark report {n}."}},
        "anonymous": {"anonymous": {"type": "radio_buttons", "selected_option": {"value": "no"}}},
        "contact": {"contact": {"type": "radio_buttons", "selected_option": {"value": "slack_dm"}}},
    }
    return {
        "type": "view_submission",
        "team": {"id": "T_STEWARD"},
        "user": {"id": "U_ALEX", "username": "alex", "team_id": "T_STEWARD"},
        "api_app_id": "A_STEWARD",
        "token": "legacy",
        "trigger_id": f"{run}.{n}",
        "view": {
            "id": f"V_BENCH_{run}_{n}",
            "type": "modal",
            "callback_id": "report_form",
            "private_metadata": "",
            "state": {"values": values},
        },
    }


def fire(url: str, secret: str, payloads: list[dict], concurrency: int) -> list[float]:
    def one(payload: dict) -> float:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        headers = signed_headers(secret, body, "application/x-www-form-urlencoded")
        request = urllib.request.Request(url, data=body, headers=headers)
        began = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        return (time.perf_counter() - began) * 1000

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, payloads))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": ordered[-1]}


def run(requests: int, concurrency: int) -> dict:
    work = scratch("steward-ack-")
    with SlackEmulator() as emulator:
        secret = emulator.signing_secret
        run_id = str(int(time.time()))
        env = {
            "STEWARD_DATABASE_URL": f"sqlite:///{work / 'steward.db'}",
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": emulator.api_url,
            "STEWARD_STAFF_CHANNEL": "G_STAFF",
            "PYTHONPATH": str(ROOT),
        }
        bare_port = free_port()
        bare = start(["bench/bare_app.py", str(bare_port), secret, emulator.api_url], env, ROOT)
        try:
            wait_for_port(bare_port)
            url = f"http://127.0.0.1:{bare_port}/slack/events"
            fire(url, secret, [submission(n, "warm") for n in range(20)], 10)
            bare_ms = fire(
                url, secret, [submission(n, run_id) for n in range(requests)], concurrency
            )
        finally:
            stop(bare)

        from core.infra.db import Database

        Database(env["STEWARD_DATABASE_URL"]).upgrade()
        port = free_port()
        steward = start(["-m", "steward.cli", "web"], {**env, "STEWARD_WEB_PORT": str(port)}, work)
        try:
            wait_for_port(port)
            url = f"http://127.0.0.1:{port}/slack/events"
            fire(url, secret, [submission(n, "warm") for n in range(20)], 10)
            wait_for_cases(env["STEWARD_DATABASE_URL"], 20)
            steward_ms = fire(
                url, secret, [submission(n, run_id) for n in range(requests)], concurrency
            )
            # Cases are opened from the journal after the ack: wait for them, not the acks.
            wait_for_cases(env["STEWARD_DATABASE_URL"], requests + 20)
        finally:
            stop(steward)
        cases = count_cases(env["STEWARD_DATABASE_URL"])
    bare_p, steward_p = percentiles(bare_ms), percentiles(steward_ms)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "bare_ms": bare_p,
        "steward_ms": steward_p,
        "p99_ratio": steward_p["p99"] / bare_p["p99"],
        "cases_filed": cases,
    }


def wait_for_cases(url: str, expected: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while count_cases(url) < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def count_cases(url: str) -> int:
    from sqlalchemy import func, select

    from core.infra.db import Database
    from core.infra.models import Case

    db = Database(url)
    try:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(Case)) or 0
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    result = run(args.requests, args.concurrency)
    print(json.dumps(result, indent=2))
    s, b = result["steward_ms"], result["bare_ms"]
    print(
        f"steward p50/p95/p99 {s['p50']:.0f}/{s['p95']:.0f}/{s['p99']:.0f} ms; "
        f"bare {b['p50']:.0f}/{b['p95']:.0f}/{b['p99']:.0f} ms; p99 ratio {result['p99_ratio']:.2f}"
        f" (targets: p99 < {P99_TARGET_MS:.0f} ms, ratio <= {RATIO_TARGET})"
    )
    complete = result["cases_filed"] == args.requests + 20
    if not complete:
        print(f"CASES FILED: {result['cases_filed']} of {args.requests + 20}")
    missed = s["p99"] >= P99_TARGET_MS or result["p99_ratio"] > RATIO_TARGET
    return 1 if (not complete or (args.check and missed)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
