"""Messages that arrive together are committed together, and each still gets its own answer."""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select

from core.infra.db import Database
from core.infra.models import AuditEvent, Case, Deadline, Entry, InboundMessage, OutboxItem, Party
from core.infra.settings import Settings
from mailgateway import ingest as ingest_module
from mailgateway import storage as storage_module
from mailgateway.ingest import Envelope, IngestResult, MailIngest
from mailgateway.server import MailServer
from mailgateway.storage import StorageFailed, StorageProcess
from tests.mail import corpus
from tests.smtp_helpers import send


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _report(n: int, **kwargs: Any) -> bytes:
    return corpus.plain(
        from_addr=f"Member {n} <member{n}@example.net>",
        subject=f"Report {n}",
        body=f"What happened to member {n}.\n",
        **kwargs,
    )


def test_concurrent_senders_each_get_250_and_their_own_case(
    gateway: MailServer, db: Database
) -> None:
    port = gateway.address[1]
    twice = _report(99, message_id="<twice@example.net>")
    load = [(_report(n), f"member{n}@example.net") for n in range(12)]
    load += [(twice, "member99@example.net")] * 2

    with ThreadPoolExecutor(len(load)) as pool:
        answers = list(pool.map(lambda item: send(port, item[0], mail_from=item[1]), load))

    assert [code for code, _ in answers] == [250] * len(load)
    assert count(db, Case) == 13 and count(db, InboundMessage) == 13
    with db.session() as session:
        refs = session.scalars(select(Case.id).order_by(Case.id)).all()
        acks = session.scalar(select(func.count()).where(OutboxItem.kind == "acknowledgement"))
    assert refs == list(range(1, 14))  # sequential references, none skipped
    assert acks == 13


def _deliveries(*raws: bytes) -> list[tuple[bytes, Envelope]]:
    return [(raw, Envelope("member@example.net", ["conduct@example.org"])) for raw in raws]


def test_a_group_with_a_repeat_stores_the_message_once(db: Database, settings: Settings) -> None:
    ingest = MailIngest(db, settings)
    raw = _report(1, message_id="<same@example.net>")
    first, repeat, other = ingest.ingest_many(_deliveries(raw, raw, _report(2)))
    assert isinstance(first, IngestResult) and first.new_case and not first.duplicate
    assert isinstance(repeat, IngestResult) and repeat.duplicate
    assert repeat.case_ref == first.case_ref
    assert isinstance(other, IngestResult) and other.case_ref != first.case_ref
    assert count(db, Case) == 2 and count(db, InboundMessage) == 2


def test_a_group_of_new_reports_sends_one_statement_per_table(
    db: Database, settings: Settings
) -> None:
    """On PostgreSQL every statement is a round trip to the server, paid before the 250s:
    the group's two lookups are one statement, its acknowledgements share the thread
    roots' statement, and on PostgreSQL each many-row INSERT is one multi-row statement
    (psycopg's executemany would send a statement per row)."""
    ingest = MailIngest(db, settings)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    deliveries = [
        (_report(n), Envelope(f"member{n}@example.net", ["conduct@example.org"])) for n in range(4)
    ]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        outcomes = ingest.ingest_many(deliveries)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert all(isinstance(o, IngestResult) and o.new_case and o.acknowledged for o in outcomes)
    lookups = [s for s in sent if s.startswith("SELECT") and "FROM inbound_messages" in s]
    assert len(lookups) == 1 and "FROM outbox" in lookups[0]
    rows = {"deadlines": 12, "audit_events": 24, "outbox": 8, "mail_references": 4}
    rows["inbound_messages"] = 4
    for table, count_of_rows in rows.items():
        (insert,) = [s for s in sent if s.startswith(f"INSERT INTO {table} ")]
        if db.dialect == "postgresql":
            assert insert.count("), (") == count_of_rows - 1, table
    with db.session() as session:
        kinds = session.scalars(select(OutboxItem.kind).order_by(OutboxItem.id)).all()
    assert kinds == ["case.root"] * 4 + ["acknowledgement"] * 4


def test_one_message_that_cannot_be_stored_costs_only_its_own_answer(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injected into evidence keeping, for one message of the group only."""
    real = ingest_module._evidence_rows

    def failing_for_report_2(*args: Any) -> Any:
        parsed = args[2]
        if parsed.subject == "Report 2":
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(ingest_module, "_evidence_rows", failing_for_report_2)
    outcomes = MailIngest(db, settings).ingest_many(_deliveries(*(_report(n) for n in range(4))))

    assert [type(o).__name__ for o in outcomes] == [
        "IngestResult",
        "IngestResult",
        "RuntimeError",
        "IngestResult",
    ]
    # The three that were answered 250 are whole; nothing of the failed one remains.
    assert count(db, Case) == 3 and count(db, InboundMessage) == 3
    with db.session() as session:
        for model in (Party, Entry):
            assert session.scalar(select(func.count()).select_from(model)) == 3
        assert session.scalar(select(func.count()).select_from(Deadline)) == 9
        orphans = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id.is_(None))
        )
        assert orphans == 0


def test_a_storage_process_that_died_is_started_again(
    db: Database, settings: Settings, gateway: MailServer
) -> None:
    storage = gateway.handler.storage
    assert isinstance(storage, StorageProcess)
    port = gateway.address[1]
    assert send(port, _report(1))[0] == 250
    first = storage._process
    first.kill()
    first.join(5)

    assert send(port, _report(2))[0] == 250
    assert storage._process is not first and storage._process.is_alive()
    assert count(db, Case) == 2


def test_a_storage_process_dying_mid_group_answers_451_for_that_group(
    db: Database, settings: Settings
) -> None:
    ingest = MailIngest(db, settings)
    group = [
        (ingest.parse(raw, env), env) for raw, env in _deliveries(*(_report(n) for n in range(400)))
    ]
    storage = StorageProcess(settings)
    storage.start()
    try:
        child = storage._process
        killer = threading.Timer(0.05, child.kill)
        killer.start()
        outcomes = storage.store_many(group)
        killer.join()

        assert {str(o) for o in outcomes} == {"the storage process stopped"}
        assert all(isinstance(o, StorageFailed) for o in outcomes) and len(outcomes) == 400
        assert count(db, Case) == 0  # the group's transaction never committed
        # The next group goes to a new storage process.
        (again,) = storage.store_many(group[:1])
        assert isinstance(again, IngestResult) and storage._process is not child
        assert count(db, Case) == 1
    finally:
        storage.close()


def test_a_stuck_storage_process_is_replaced_and_its_group_answered_451(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "ANSWER_TIMEOUT_SECONDS", 1.0)
    ingest = MailIngest(db, settings)
    group = [(ingest.parse(raw, env), env) for raw, env in _deliveries(_report(1), _report(2))]
    storage = StorageProcess(settings)
    storage.start()
    try:
        stuck = storage._process
        os.kill(stuck.pid, signal.SIGSTOP)  # alive, but it will never answer
        outcomes = storage.store_many(group)
        assert [str(o) for o in outcomes] == ["the storage process stopped"] * 2
        stuck.join(5)
        assert not stuck.is_alive()
        # The replacement spawns and imports from scratch: give it the real timeout,
        # so a loaded machine does not turn its start-up into a second "stuck" child.
        monkeypatch.setattr(storage_module, "ANSWER_TIMEOUT_SECONDS", 120.0)
        (again,) = storage.store_many(group[:1])
        assert isinstance(again, IngestResult)
        assert count(db, Case) == 1
    finally:
        storage.close()
