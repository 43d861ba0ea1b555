"""Fault tests: real processes killed with SIGKILL, Slack (the emulator) failing, the
database going away. Each is bounded for CI; `--long` (or STEWARD_LONG_TESTS=1) runs
the deeper variant. Nothing here is a mock: the emulator is Slack over HTTP, the
processes are `steward` as an operator starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.models import OutboxItem
from core.infra.settings import Settings
from slackapp.delivery import METADATA_EVENT
from slackapp.emulator import SlackEmulator
from tests.followups.conftest import wait_until

STAFF = "G_STAFF"


class Steward:
    """`python -m steward.cli COMMAND` as an operator runs it, killable as a crash would."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], ready: str) -> None:
        self.lines: list[str] = []
        self._log = open(cwd / f"{command}.log", "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "steward.cli", command],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(lambda: any(ready in line for line in self.lines), timeout=60)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def kill(self) -> None:
        """SIGKILL to the whole process group (a storage child too): no chance to finish."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)
        self._log.close()


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as running:
        yield running


def slack_env(emulator: SlackEmulator, database_url: str) -> dict[str, str]:
    """What `steward worker` needs to deliver to the emulator."""
    return {
        "STEWARD_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": emulator.signing_secret,
        "SLACK_API_URL": emulator.api_url,
        "STEWARD_STAFF_CHANNEL": STAFF,
        "STEWARD_ESCALATION_CHANNEL": "G_ESCALATE",
    }


def let_leases_run_out(db: Database) -> int:
    """A killed worker's rows stay leased for a minute; move the leases back instead of
    waiting. The lease stays set, as it would be once it had run out."""
    with db.session() as session:
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.claimed_until.is_not(None))
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        return result.rowcount or 0


def posted(emulator: SlackEmulator) -> list[tuple[str, dict[str, Any]]]:
    """Every message Steward posted, with its channel, thread replies included."""
    found = []
    for channel_id, channel in emulator.state()["channels"].items():
        for message in channel["messages"]:
            for each in [message, *message.get("replies", [])]:
                if each.get("bot_id"):
                    found.append((channel_id, each))
    return found


def outbox_part(message: dict[str, Any]) -> tuple[int, int, int] | None:
    """(outbox id, part, parts) from a message's metadata, if Steward put it there."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata["event_payload"]
    return payload["outbox_id"], payload["part"], payload["parts"]


def assert_each_row_posted_once(db: Database, emulator: SlackEmulator) -> list[OutboxItem]:
    """Every chat row delivered, each of its parts in Slack exactly once, its ref the first."""
    with db.session() as session:
        rows = list(
            session.scalars(
                select(OutboxItem)
                .where(OutboxItem.channel.in_(["staff", "chat"]))
                .order_by(OutboxItem.id)
            )
        )
    assert [r.id for r in rows if r.status != "delivered"] == []
    messages = posted(emulator)
    parts = Counter(p[:2] for _, m in messages if (p := outbox_part(m)) is not None)
    assert [key for key, count in parts.items() if count > 1] == [], "posted twice"
    by_row: dict[int, dict[int, int]] = {}
    first_ts: dict[int, str] = {}
    for _, message in messages:
        found = outbox_part(message)
        if found is None:
            continue
        outbox_id, part, total = found
        by_row.setdefault(outbox_id, {})[part] = total
        if part == 1:
            first_ts[outbox_id] = message["ts"]
    for row in rows:
        if row.kind not in ("case.root", "case.notice", "dm"):
            continue
        if row.kind == "case.root" and row.id not in by_row:
            continue  # an update of a root already posted: chat.update, no new message
        got = by_row.get(row.id, {})
        total = next(iter(got.values()), 0)
        assert total and sorted(got) == list(range(1, total + 1)), f"row {row.id} parts {got}"
        assert row.result_ref == first_ts[row.id]
    return rows


def quiet_worker_env(settings: Settings) -> dict[str, str]:
    """No deadline fires during a fault test; the scheduler has its own test."""
    del settings
    return {
        "STEWARD_ACK_HOURS": "1000",
        "STEWARD_ACK_ESCALATE_HOURS": "2000",
        "STEWARD_STALE_DAYS": "1000",
        "STEWARD_CHECKIN_DAYS": "1000",
    }
