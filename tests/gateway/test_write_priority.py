"""The mail storage process gives way to Slack writers on SQLite, and still stores everything."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from core.infra.db import Database
from core.infra.models import Case, InboundMessage
from core.infra.settings import Settings
from core.infra.writepriority import GIVE_WAY_MAX_SECONDS
from mailgateway.ingest import Envelope, IngestResult, MailIngest
from mailgateway.server import MailServer
from mailgateway.storage import TRANSACTION_MESSAGES, StorageProcess
from tests.mail import corpus
from tests.smtp_helpers import send


def _report(n: int) -> bytes:
    return corpus.plain(
        from_addr=f"Member {n} <member{n}@example.net>",
        subject=f"Report {n}",
        body=f"What happened to member {n}.\n",
    )


def _cases(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def test_mail_storage_waits_while_a_slack_writer_holds_priority(
    db: Database, gateway: MailServer
) -> None:
    if db.write_priority is None:
        pytest.skip("PostgreSQL writers do not share one lock: nothing to give way to")
    port = gateway.address[1]
    assert send(port, _report(0))[0] == 250  # the storage process is up and warm
    answers: list[int] = []
    sender = threading.Thread(target=lambda: answers.append(send(port, _report(1))[0]))

    with db.write_priority.claimed():  # as the web process does while an ack waits
        began = time.monotonic()
        sender.start()
        sender.join(30)
        took = time.monotonic() - began
        # Stored while priority was still held: mail storage is slowed, never starved.
        assert answers == [250]

    assert took >= GIVE_WAY_MAX_SECONDS * 0.9
    assert _cases(db) == 2


def test_a_flood_sized_group_is_stored_whole_in_short_transactions(
    db: Database, settings: Settings
) -> None:
    ingest = MailIngest(db, settings)
    envelope = Envelope("member@example.net", ["conduct@example.org"])
    size = 2 * TRANSACTION_MESSAGES + 3
    group = [(ingest.parse(_report(n), envelope), envelope) for n in range(size)]
    storage = StorageProcess(settings)
    try:
        outcomes = storage.store_many(group)
    finally:
        storage.close()

    assert all(isinstance(o, IngestResult) and o.new_case for o in outcomes)
    refs = [o.case_ref for o in outcomes if isinstance(o, IngestResult)]
    assert len(set(refs)) == size
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == size
    assert _cases(db) == size
