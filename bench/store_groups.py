"""Storing a group of parsed messages, in process: where a group commit's time goes.

Calls `MailIngest.store_many` (what `steward mail`'s storage process does for each
group) on groups of 1, 2, 4 and 16 messages already parsed, each message a new
report from a new sender, as in `smtp_ingest.py`. For each size it reports the
wall time per message and per group, the CPU time of this process per message,
the CPU time of the PostgreSQL server process serving it (when the server runs on
this machine and /proc shows it), and the statements the group sends to the
database driver (a many-row INSERT counts once per batch the engine sends; with
PostgreSQL, three more round trips a group are not counted: the pool's ping, BEGIN
and COMMIT). Run it on SQLite and on PostgreSQL to compare.

    .venv/bin/python bench/store_groups.py [--database-url URL] [--sizes 1,2,4,16]
        [--messages N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from bench.common import ROOT, scratch  # noqa: E402, F401 - installs the run's key
from bench.smtp_ingest import message  # noqa: E402
from core.infra.db import Database  # noqa: E402
from core.infra.settings import Settings  # noqa: E402
from mailgateway.ingest import Envelope, MailIngest  # noqa: E402
from mailgateway.parsing import ParsedMail  # noqa: E402

Group = list[tuple[ParsedMail, Envelope]]


class Counts:
    """What the engine sent, and which server processes served it."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.backends: set[int] = set()
        event.listen(db.engine, "before_cursor_execute", self._statement)
        if db.dialect == "postgresql":
            event.listen(db.engine, "checkout", self._checkout)

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self.backends.add(dbapi_connection.info.backend_pid)

    def server_cpu(self) -> float | None:
        """CPU seconds of the server processes seen, if /proc shows them."""
        try:
            return sum(_cpu_seconds(pid) for pid in self.backends) if self.backends else None
        except OSError:
            return None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def groups(ingest: MailIngest, size: int, count: int, first: int, run: str) -> list[Group]:
    """`count` groups of `size` parsed reports, each from its own sender."""
    made: list[Group] = []
    for g in range(count):
        group: Group = []
        for n in range(first + g * size, first + (g + 1) * size):
            sender, raw = message(n, run)
            envelope = Envelope(sender, ["conduct@example.org"])
            group.append((ingest.parse(raw, envelope), envelope))
        made.append(group)
    return made


def measure(ingest: MailIngest, counts: Counts, batch: list[Group]) -> dict[str, float | None]:
    ingest.store_many(batch[0])  # warm-up: connection, caches, prepared statements
    counts.statements = 0
    server_before = counts.server_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    times = []
    for group in batch[1:]:
        began = time.perf_counter()
        outcomes = ingest.store_many(group)
        times.append(time.perf_counter() - began)
        if any(isinstance(o, Exception) or not o.new_case for o in outcomes):
            raise RuntimeError("a message was not stored as a new case")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_after = counts.server_cpu()
    messages = sum(len(g) for g in batch[1:])
    server = None
    if server_before is not None and server_after is not None:
        server = (server_after - server_before) / messages * 1000
    return {
        "wall_ms_per_message": wall / messages * 1000,
        "median_group_ms": statistics.median(times) * 1000,
        "cpu_ms_per_message": cpu / messages * 1000,
        "server_cpu_ms_per_message": server,
        "statements_per_group": counts.statements / len(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL, migrated if needed")
    parser.add_argument("--sizes", default="1,2,4,16")
    parser.add_argument("--messages", type=int, default=256, help="per group size")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{scratch('steward-bench-')}/s.db"
    db = Database(url)
    db.upgrade()
    counts = Counts(db)
    ingest = MailIngest(db, Settings(database_url=url))
    run, first = str(time.time_ns()), time.time_ns() % 10**12  # new senders every run
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            batch = groups(ingest, size, max(args.messages // size, 4) + 1, first, run)
            first += size * len(batch)
            result = measure(ingest, counts, batch)
            server = result["server_cpu_ms_per_message"]
            print(
                f"{db.dialect} group of {size:2d}: {result['wall_ms_per_message']:5.2f} ms"
                f" a message (median group {result['median_group_ms']:6.2f} ms),"
                f" CPU {result['cpu_ms_per_message']:4.2f} ms here"
                + (f" + {server:4.2f} ms in the server" if server is not None else "")
                + f", {result['statements_per_group']:.1f} statements a group",
                flush=True,
            )
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
