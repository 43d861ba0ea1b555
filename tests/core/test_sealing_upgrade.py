"""The upgrade that seals the record converts a plaintext database in place, and refuses
to do it without a key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from core.casework.cases import party_by_token
from core.casework.people import Contact, find_or_create_person
from core.infra import crypto
from core.infra.auditchain import verify
from core.infra.db import Database, alembic_config
from core.infra.models import Entry, InboundMessage, OutboxItem, Person
from tests.conftest import TEST_KEY

WHEN = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
ROWS = [
    "INSERT INTO cases (id, code_name, status, source, anonymous, immediate_danger, escalated,"
    " root_message_id, flags, created_at, updated_at, last_activity_at) VALUES (1, 'calm-otter',"
    " 'new', 'email', false, false, false, '<root@mua.example>', '{}', :t, :t, :t)",
    "INSERT INTO people (id, display_name, email, slack_user_id, created_at)"
    " VALUES (1, 'Morgan Plaintext', 'morgan@old.example', 'U0MORGAN', :t)",
    "INSERT INTO parties (id, case_id, person_id, role, reply_token, contact_email, anonymous,"
    " created_at) VALUES (1, 1, 1, 'reporter', 'tok3n0ld', 'morgan@old.example', false, :t)",
    "INSERT INTO entries (id, case_id, kind, source, party_id, text, full_text, data, dedupe_key,"
    " created_at) VALUES (1, 1, 'report', 'email', 1, 'Old plaintext report', NULL,"
    " '{\"subject\": \"Old subject\"}', 'mid:<root@mua.example>', :t)",
    "INSERT INTO inbound_messages (id, case_id, entry_id, dedupe_key, message_id, sha256, size,"
    " raw, envelope_from, envelope_to, received_at) VALUES (1, 1, 1, 'mid:<root@mua.example>',"
    " '<root@mua.example>', 'ab', 3, :raw, 'morgan@old.example', '{\"rcpt_tos\": []}', :t)",
    "INSERT INTO audit_events (id, case_id, actor, action, detail, created_at)"
    " VALUES (1, 1, 'reporter', 'case.opened', '{\"source\": \"email\"}', :t)",
    "INSERT INTO audit_events (id, case_id, actor, action, detail, created_at)"
    " VALUES (2, 1, 'system', 'case.flagged', '{\"flag\": \"x\"}', :t)",
    "INSERT INTO outbox (id, case_id, channel, kind, recipient, payload, status, attempts,"
    " next_attempt_at, created_at) VALUES (1, 1, 'email', 'acknowledgement',"
    " 'morgan@old.example', '{\"to\": \"morgan@old.example\"}', 'pending', 0, :t, :t)",
]


@pytest.fixture
def old_database(database_url: str) -> Iterator[Database]:
    """A database at the last plaintext revision, holding one case. The test database
    comes at the newest revision: it is emptied first (on SQLite, a new file)."""
    database = Database(database_url)
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    if database.dialect == "sqlite":
        database.dispose()
        Path(database.engine.url.database or "").unlink()
    with database.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    with database.engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement), {"t": WHEN, "raw": b"raw"})
        if database.dialect == "postgresql":
            for table in ("cases", "people", "parties", "entries", "audit_events", "outbox"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', 10)"))
            conn.execute(text("SELECT setval('inbound_messages_id_seq', 10)"))
    yield database
    crypto.install(crypto.parse_keys(TEST_KEY))
    database.upgrade()  # leave the schema at head for the tests that follow
    database.dispose()


def test_the_upgrade_seals_existing_rows_and_keeps_them_findable(old_database: Database) -> None:
    old_database.upgrade()
    with old_database.engine.connect() as conn:
        people = conn.execute(text("SELECT display_name, email FROM people")).one()
        report = conn.execute(text("SELECT text, data FROM entries")).one()
        assert all(b"Morgan" not in bytes(v) and b"morgan" not in bytes(v) for v in people)
        assert b"Old plaintext report" not in bytes(report[0])
        assert b"Old subject" not in bytes(report[1])
        assert verify(conn) == (2, [])
    if old_database.dialect == "sqlite":  # nothing of the plaintext is left in the files
        path = Path(old_database.engine.url.database or "")
        files = [path, path.with_name(path.name + "-wal")]
        stored = b"".join(f.read_bytes() for f in files if f.exists())
        assert b"Morgan" not in stored and b"Old plaintext report" not in stored
    with old_database.session() as session:
        person = find_or_create_person(session, Contact(email="MORGAN@old.example"))
        assert (person.id, person.display_name) == (1, "Morgan Plaintext")
        party = party_by_token(session, "TOK3N0LD")
        assert party is not None and party.contact_email == "morgan@old.example"
        entry = session.get(Entry, 1)
        assert entry is not None
        assert (entry.text, entry.data) == ("Old plaintext report", {"subject": "Old subject"})
        assert entry.dedupe_key_hash == crypto.lookup_hash("mid:<root@mua.example>")
        message = session.scalars(select(InboundMessage)).one()
        assert (message.raw, message.envelope_to) == (b"raw", {"rcpt_tos": []})
        outbox = session.scalars(select(OutboxItem)).one()
        assert outbox.recipient_hash == crypto.lookup_hash("morgan@old.example")
        assert session.get(Person, 1).slack_user_id == "U0MORGAN"


def test_the_upgrade_refuses_plaintext_cases_without_a_key(old_database: Database) -> None:
    crypto.install(None)
    with pytest.raises(RuntimeError) as refused:
        old_database.upgrade()
    assert str(refused.value) == (
        "this database holds cases in plaintext: set STEWARD_ENCRYPTION_KEY "
        "so the upgrade can encrypt them"
    )
