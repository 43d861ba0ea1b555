"""Re-sealing the record under the newest key (`steward keys rotate`).

The operator lists the new key first and the old one after it in
`STEWARD_ENCRYPTION_KEY` and restarts Steward, which then writes under the new
key and reads under both. Rotation re-seals what the old key sealed and
recomputes the lookup hashes beside it, a batch of rows per transaction. Its
progress is in the data itself: a row still to do is one with a value whose
key id is not the newest key's. An interrupted rotation resumes where it
stopped when run again; once it reports nothing left, the old key can go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, LargeBinary, Table, func, literal, or_, select, type_coerce, update

from core.infra import crypto
from core.infra.db import Database
from core.infra.models import Base
from core.infra.sealed import LookupHash, SealedBytes


@dataclass(frozen=True)
class SealedTable:
    """A table's sealed columns and the lookup hashes computed from them."""

    table: Table
    sealed: list[Column[Any]]
    hashes: dict[str, str]  # hash column -> sealed source column


def sealed_tables() -> list[SealedTable]:
    found = []
    for table in Base.metadata.sorted_tables:
        sealed = [c for c in table.columns if isinstance(c.type, SealedBytes)]
        hashes = {c.name: c.type.source for c in table.columns if isinstance(c.type, LookupHash)}
        if sealed:
            found.append(SealedTable(table, sealed, hashes))
    return found


def _raw(column: Column[Any]) -> Any:
    """The column's stored bytes, not opened."""
    return type_coerce(column, LargeBinary())


def _stale(spec: SealedTable, key_id: bytes) -> Any:
    """Rows with a value sealed by another key than `key_id` (bytes 2-5 of the value)."""
    wanted = literal(key_id, LargeBinary())
    # A NULL compares as unknown, so an empty value never makes a row stale.
    return or_(*[func.substr(_raw(c), 2, crypto.KEY_ID_BYTES) != wanted for c in spec.sealed])


def remaining(db: Database) -> dict[str, int]:
    """Rows per table still sealed (at least partly) under an older key."""
    key_id = crypto.keyring().primary_id
    counts = {}
    with db.connection() as conn:
        for spec in sealed_tables():
            query = select(func.count()).select_from(spec.table).where(_stale(spec, key_id))
            counts[spec.table.name] = conn.execute(query).scalar() or 0
    return counts


def rotate(
    db: Database,
    batch_size: int = 200,
    max_batches: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Re-seal every stale row, one batch per transaction; the number of rows re-sealed.

    `max_batches` stops early (as an interruption would); running again resumes.
    """
    done = 0
    batches = 0
    for spec in sealed_tables():
        for count in _batches(db, spec, batch_size):
            done += count
            batches += 1
            if progress is not None:
                progress(spec.table.name, count)
            if max_batches is not None and batches >= max_batches:
                return done
    return done


def _batches(db: Database, spec: SealedTable, batch_size: int) -> Iterator[int]:
    key_id = crypto.keyring().primary_id
    table = spec.table
    query = (
        select(table.c.id, *spec.sealed)
        .where(_stale(spec, key_id))
        .order_by(table.c.id)
        .limit(batch_size)
        # Locked until the batch commits, so a concurrent change to a row is not lost.
        .with_for_update()
    )
    while True:
        with db.connection() as conn:
            rows = conn.execute(query).mappings().all()
            for row in rows:
                values = {c.name: row[c.name] for c in spec.sealed}
                values.update(
                    {h: crypto.lookup_hash(values[source]) for h, source in spec.hashes.items()}
                )
                conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
        if not rows:
            return
        yield len(rows)
