"""The audit trail as hash chains: one per case, and one for events without a case.

Every event stores the hash of the event before it in its chain (`prev_hash`)
and its own hash (`chain_hash`) over that and its own fields. Changing,
removing or reordering an event breaks every link after it, and
`steward audit verify` names the first break in each chain.

Two events on one case in concurrent transactions must not both link to the
same predecessor. On PostgreSQL the case's chain is locked with a transaction
advisory lock before its head is read; SQLite already takes one writer at a
time (`BEGIN IMMEDIATE`).

The hash covers the plaintext detail, not its ciphertext, so re-sealing under a
new key (`steward keys rotate`) leaves every chain intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, select, text, update
from sqlalchemy.orm import Session, object_session

from core.infra.clock import as_utc, utcnow
from core.infra.models import AuditEvent

_HEADS = "audit_chain_heads"  # session.info key: chain heads computed in the current flush
_LOCK_SPACE = 12  # first key of pg_advisory_xact_lock(int, int): the audit chains


def event_hash(
    prev_hash: str | None,
    case_id: int | None,
    entry_id: int | None,
    actor: str,
    action: str,
    detail: dict[str, Any] | None,
    created_at: datetime,
) -> str:
    """SHA-256 over a canonical JSON form of the event and its predecessor's hash."""
    moment = as_utc(created_at)
    body = [prev_hash, case_id, entry_id, actor, action, detail or {}, moment.isoformat()]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _row_hash(prev_hash: str | None, row: Any) -> str:
    get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
    return event_hash(
        prev_hash,
        get("case_id"),
        get("entry_id"),
        get("actor"),
        get("action"),
        get("detail"),
        get("created_at"),
    )


def link_new_cases(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chain the events of cases opened in this transaction (bulk inserts), in order."""
    heads: dict[int | None, str | None] = {}
    for row in rows:
        prev = heads.get(row["case_id"])
        row["prev_hash"] = prev
        row["chain_hash"] = heads[row["case_id"]] = _row_hash(prev, row)
    return rows


def _head(connection: Connection, case_id: int | None) -> str | None:
    """The newest hash of a chain, read under the chain's lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _LOCK_SPACE, "key": case_id or 0},
        )
    where = AuditEvent.case_id.is_(None) if case_id is None else AuditEvent.case_id == case_id
    query = select(AuditEvent.chain_hash).where(where).order_by(AuditEvent.id.desc()).limit(1)
    return connection.execute(query).scalar()


@event.listens_for(AuditEvent, "before_insert")
def _link(_mapper: Any, connection: Connection, target: AuditEvent) -> None:
    """Give an event its place in its chain as the unit of work inserts it."""
    session = object_session(target)
    heads = session.info.setdefault(_HEADS, {}) if session is not None else {}
    if target.created_at is None:
        target.created_at = utcnow()
    if target.detail is None:
        target.detail = {}
    case_id = target.case_id
    prev = heads[case_id] if case_id in heads else _head(connection, case_id)
    target.prev_hash = prev
    target.chain_hash = heads[case_id] = _row_hash(prev, target)


@event.listens_for(Session, "after_flush")
def _forget_heads(session: Session, _context: Any) -> None:
    session.info.pop(_HEADS, None)


@event.listens_for(Session, "after_rollback")
def _forget_heads_after_rollback(session: Session) -> None:
    session.info.pop(_HEADS, None)


@dataclass(frozen=True)
class Break:
    """Where a chain stops holding: the case (None for events without one) and the event."""

    case_id: int | None
    event_id: int
    reason: str

    @property
    def chain(self) -> str:
        return f"COC-{self.case_id}" if self.case_id is not None else "(events without a case)"


def _events(connection: Connection) -> Iterable[Any]:
    columns = [
        AuditEvent.id,
        AuditEvent.case_id,
        AuditEvent.entry_id,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.detail,
        AuditEvent.created_at,
        AuditEvent.prev_hash,
        AuditEvent.chain_hash,
    ]
    return connection.execute(select(*columns).order_by(AuditEvent.id)).mappings()


def verify(connection: Connection) -> tuple[int, list[Break]]:
    """Check every chain; the number of events checked and the first break of each chain."""
    heads: dict[int | None, str | None] = {}
    broken: dict[int | None, Break] = {}
    count = 0
    for row in _events(connection):
        count += 1
        case_id = row["case_id"]
        if case_id in broken:
            continue
        expected_prev = heads.get(case_id)
        if row["prev_hash"] != expected_prev:
            broken[case_id] = Break(case_id, row["id"], "does not follow the event before it")
        elif row["chain_hash"] != _row_hash(row["prev_hash"], row):
            broken[case_id] = Break(case_id, row["id"], "was changed after it was written")
        heads[case_id] = row["chain_hash"]
    return count, list(broken.values())


def rechain_all(connection: Connection) -> None:
    """Chain a trail that has none yet (the upgrade that introduced the chains)."""
    heads: dict[int | None, str | None] = {}
    for row in list(_events(connection)):
        prev = heads.get(row["case_id"])
        heads[row["case_id"]] = own = _row_hash(prev, row)
        connection.execute(
            update(AuditEvent)
            .where(AuditEvent.id == row["id"])
            .values(prev_hash=prev, chain_hash=own)
        )
