"""Where conduct@ throughput goes: the same load against the gateway's stages, in one run.

Runs the smtp_ingest load (default 2,000 messages over 4 connections) against:
1. the bare aiosmtpd sink (the baseline of smtp_ingest);
2. Steward's SMTP front with parsing off and a stand-in store that records nothing;
3. the same front with parsing on, still with the stand-in store;
4. `steward mail` itself (parsing, and storage in its own process).

The stand-in store is not Steward's storage: it answers every message as stored
without touching a database. It is here only to show the ceiling that SMTP
handling and parsing set before any record is written.

    .venv/bin/python bench/smtp_stages.py [--messages N] [--connections C]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, scratch  # noqa: E402
from bench.smtp_ingest import message, sink_run, steward_run  # noqa: E402
from core.infra.settings import Settings  # noqa: E402
from mailgateway.ingest import Envelope, IngestResult, MailIngest, Outcome  # noqa: E402
from mailgateway.parsing import ParsedMail  # noqa: E402
from mailgateway.server import MailServer  # noqa: E402


class StandInStore:
    """Answers every message as stored and stores nothing (a measuring device, not storage)."""

    def start(self) -> None:
        pass

    def store_many(self, items: list[tuple[ParsedMail, Envelope]]) -> list[Outcome]:
        return [IngestResult("COC-0", True, False, False, None) for _ in items]

    def close(self) -> None:
        pass


class NoParse(MailIngest):
    """Skips parsing, to measure SMTP handling alone."""

    def parse(self, raw: bytes, envelope: Envelope) -> ParsedMail:
        return ParsedMail(raw=raw)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def front(load: list[tuple[str, bytes]], connections: int, parse: bool) -> dict[str, float]:
    """The SMTP front in this process; the client runs in a child so the CPU split is clear."""
    port = free_port()
    settings = Settings(smtp_port=port)
    ingest = (MailIngest if parse else NoParse)(None, settings)  # type: ignore[arg-type]
    server = MailServer(ingest, settings, "127.0.0.1", port, storage=StandInStore())
    server.start()
    try:
        began = _cpu_seconds()
        seconds = _client(port, len(load), connections)
        cpu = _cpu_seconds() - began
    finally:
        server.stop()
    return {"per_second": len(load) / seconds, "front_cpu_ms": cpu / len(load) * 1000}


def _client(port: int, messages: int, connections: int) -> float:
    """The smtp_ingest client in a child process; returns its elapsed seconds."""
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "from bench.smtp_ingest import blast, message;"
        "load = [message(n, 'stages') for n in range(int(sys.argv[3]))];"
        "print(json.dumps(blast(int(sys.argv[2]), load, int(sys.argv[4]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(port), str(messages), str(connections)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def sink(load: list[tuple[str, bytes]], connections: int) -> float:
    return len(load) / sink_run(load, connections)


def steward(load: list[tuple[str, bytes]], connections: int) -> float:
    from core.infra.db import Database

    work = scratch("steward-bench-")
    url = f"sqlite:///{work / 'steward.db'}"
    Database(url).upgrade()
    return len(load) / steward_run(load, connections, url, work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    load = [message(n, str(os.getpid())) for n in range(args.messages)]
    baseline = sink(load, args.connections)
    smtp_only = front(load, args.connections, parse=False)
    with_parse = front(load, args.connections, parse=True)
    full = steward(load, args.connections)
    result = {
        "sink_per_second": baseline,
        "front_smtp_only": smtp_only,
        "front_with_parsing": with_parse,
        "steward_mail_per_second": full,
    }
    print(json.dumps(result, indent=2))
    for name, rate in (
        ("sink", baseline),
        ("front, SMTP only", smtp_only["per_second"]),
        ("front, SMTP + parsing", with_parse["per_second"]),
        ("steward mail", full),
    ):
        print(f"{name:24} {rate:6.0f} msg/s  ratio to sink {rate / baseline:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
