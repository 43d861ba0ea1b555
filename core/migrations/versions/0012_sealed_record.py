"""seal the record at rest; lookup hashes; the audit hash chain

Content, identities, attachments and raw messages become AES-GCM ciphertext
(core.infra.sealed), equality lookups move to keyed-hash columns, and audit events
gain their hash chain. Existing rows are sealed in place here, with the key
the process was started with; a database with rows and no key is refused.

Revision ID: 0012
Revises: 0014
Create Date: 2026-11-30 10:40:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.infra.models  # noqa: F401 - custom column types
from core.infra import crypto
from core.infra.models import Base

revision = "0012"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 500

# table -> sealed columns (their kind: how the old plaintext is read back)
SEALED: dict[str, dict[str, str]] = {
    "cases": {"root_message_id": "text"},
    "people": {"display_name": "text", "email": "text", "slack_user_id": "text"},
    "parties": {"reply_token": "text", "contact_email": "text"},
    "entries": {"text": "text", "full_text": "text", "data": "json", "dedupe_key": "text"},
    "inbound_messages": {
        "dedupe_key": "text",
        "message_id": "text",
        "sha256": "text",
        "raw": "bytes",
        "envelope_from": "text",
        "envelope_to": "json",
    },
    "attachments": {
        "filename": "text",
        "original_filename": "text",
        "sha256": "text",
        "content": "bytes",
    },
    "snapshot_files": {
        "filename": "text",
        "original_filename": "text",
        "sha256": "text",
        "content": "bytes",
    },
    "audit_events": {"detail": "json"},
    "outbox": {"recipient": "text", "payload": "json"},
    "message_snapshots": {"reporter": "text", "data": "json"},
    "decisions": {
        "other_description": "text",
        "remove_roles": "text",
        "public_statement": "text",
        "rationale": "text",
        "message_to_reported": "text",
        "message_to_reporter": "text",
    },
    "appeals": {"accept_reason": "text"},
    "submissions": {"payload": "json"},
}

# table -> (hash column, source column, unique, nullable)
HASHES: dict[str, list[tuple[str, str, bool, bool]]] = {
    "people": [
        ("email_hash", "email", False, True),
        ("slack_user_id_hash", "slack_user_id", False, True),
    ],
    "parties": [("reply_token_hash", "reply_token", True, False)],
    "entries": [("dedupe_key_hash", "dedupe_key", True, True)],
    "inbound_messages": [("dedupe_key_hash", "dedupe_key", True, False)],
    "outbox": [("recipient_hash", "recipient", False, True)],
}

# Plaintext lookups that go: (table, kind, name, columns)
OLD_LOOKUPS = {
    "people": [("index", "ix_people_email"), ("index", "ix_people_slack_user_id")],
    "parties": [("unique", "uq_parties_reply_token")],
    "entries": [("unique", "uq_entries_dedupe_key")],
    "inbound_messages": [("unique", "uq_inbound_messages_dedupe_key")],
    "outbox": [("index", "ix_outbox_recipient")],
}
PG_UNIQUE_NAMES = {
    "uq_parties_reply_token": "parties_reply_token_key",
    "uq_entries_dedupe_key": "entries_dedupe_key_key",
    "uq_inbound_messages_dedupe_key": "inbound_messages_dedupe_key_key",
}
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    _require_key_if_rows(bind)
    for table, columns in SEALED.items():
        _reshape(table, columns, sqlite)
    for table, columns in SEALED.items():
        _seal_rows(bind, table, columns)
    for table, hashes in HASHES.items():
        _index_hashes(table, hashes, sqlite)
    from core.infra.auditchain import rechain_all

    rechain_all(bind)


def _require_key_if_rows(bind: Any) -> None:
    """Sealing existing rows needs the key; an empty database can be keyed later."""
    has_rows = any(
        bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None  # noqa: S608
        for table in SEALED
    )
    if not has_rows:
        return
    try:
        crypto.keyring()
    except crypto.EncryptionKeyError:
        raise RuntimeError(
            "this database holds cases in plaintext: set STEWARD_ENCRYPTION_KEY "
            "so the upgrade can encrypt them"
        ) from None


def _reshape(table: str, columns: dict[str, str], sqlite: bool) -> None:
    """Sealed columns become binary; hash and chain columns are added; old lookups go."""
    added = [sa.Column(h, sa.String(length=64), nullable=True) for h, *_ in HASHES.get(table, [])]
    if table == "audit_events":
        added += [
            sa.Column("prev_hash", sa.String(length=64), nullable=True),
            sa.Column("chain_hash", sa.String(length=64), nullable=True),
        ]
    old = OLD_LOOKUPS.get(table, [])
    if sqlite:
        with op.batch_alter_table(table, recreate="always", naming_convention=NAMING) as batch:
            for kind, name in old:
                if kind == "index":
                    batch.drop_index(name)
                else:
                    batch.drop_constraint(name, type_="unique")
            for column in added:
                batch.add_column(column)
            for name, kind in columns.items():
                if kind != "bytes":
                    batch.alter_column(name, type_=sa.LargeBinary())
        return
    for kind, name in old:
        if kind == "index":
            op.drop_index(name, table_name=table)
        else:
            op.drop_constraint(PG_UNIQUE_NAMES[name], table, type_="unique")
    for column in added:
        op.add_column(table, column)
    for name, kind in columns.items():
        if kind != "bytes":
            op.alter_column(
                table,
                name,
                type_=sa.LargeBinary(),
                postgresql_using=f"convert_to({name}::text, 'UTF8')",
            )


def _plain(value: Any, kind: str) -> Any:
    """The value as the application knew it, from the unsealed bytes or text."""
    if value is None:
        return None
    if kind == "bytes":
        return bytes(value) if not isinstance(value, str) else value.encode()
    text = value if isinstance(value, str) else bytes(value).decode()
    return json.loads(text) if kind == "json" else text


def _seal_rows(bind: Any, table: str, columns: dict[str, str]) -> None:
    """Seal every row in batches, filling in the lookup hashes from the same values."""
    raw = sa.table(table, sa.column("id"), *[sa.column(c, sa.LargeBinary()) for c in columns])
    model = Base.metadata.tables[table]
    hashes = HASHES.get(table, [])
    last = 0
    while True:
        rows = bind.execute(
            sa.select(raw).where(raw.c.id > last).order_by(raw.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values = {c: _plain(getattr(row, c), kind) for c, kind in columns.items()}
            values.update({h: crypto.lookup_hash(values[source]) for h, source, *_ in hashes})
            bind.execute(sa.update(model).where(model.c.id == row.id).values(**values))
        last = rows[-1].id


def _index_hashes(table: str, hashes: list[tuple[str, str, bool, bool]], sqlite: bool) -> None:
    if sqlite:
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, _source, unique, nullable in hashes:
                if not nullable:
                    batch.alter_column(column, existing_type=sa.String(length=64), nullable=False)
                if unique:
                    batch.create_unique_constraint(f"uq_{table}_{column}", [column])
                else:
                    batch.create_index(f"ix_{table}_{column}", [column])
        return
    for column, _source, unique, nullable in hashes:
        if not nullable:
            op.alter_column(table, column, existing_type=sa.String(length=64), nullable=False)
        if unique:
            op.create_unique_constraint(f"{table}_{column}_key", table, [column])
        else:
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    raise RuntimeError("the sealed record cannot be downgraded to plaintext")
