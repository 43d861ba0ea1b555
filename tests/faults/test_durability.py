"""Power-loss durability: a 250 or a closed report form means the record is on disk.

SQLite in WAL mode with `synchronous=NORMAL` syncs only at checkpoints, so the
last commits can vanish with the power. Every connection Steward opens for intake
(the mail storage process, `steward web`'s submission journal) must run FULL.
On PostgreSQL the same promise is `synchronous_commit=on`, which Steward asks for
on its connections whatever the server's default (CI's throwaway server sets it off).
"""

from __future__ import annotations

from sqlalchemy import text

from core.infra.db import Database
from core.infra.settings import Settings
from steward import runtime

FULL = 2  # what `PRAGMA synchronous` reads back for FULL


def _durable(db: Database) -> None:
    with db.session() as session:
        if db.dialect == "sqlite":
            assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        else:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    with db.connection() as conn:  # the bare transaction of the hot paths
        if db.dialect == "sqlite":
            assert conn.execute(text("PRAGMA synchronous")).scalar() == FULL


def test_the_record_as_intake_opens_it_commits_durably(settings: Settings) -> None:
    """`steward web` and `steward mail` open the record through `open_database`."""
    db = runtime.open_database(settings, upgrade=True)
    try:
        _durable(db)
    finally:
        db.dispose()


def test_every_pooled_connection_commits_durably(db: Database) -> None:
    """The mail storage child builds its own `Database`; each new connection is tuned."""
    fresh = Database(db.url)
    try:
        connections = [fresh.engine.raw_connection() for _ in range(3)]
        try:
            for conn in connections:
                cursor = conn.cursor()
                if fresh.dialect == "sqlite":
                    cursor.execute("PRAGMA synchronous")
                    assert cursor.fetchone()[0] == FULL
                else:
                    cursor.execute("SHOW synchronous_commit")
                    assert cursor.fetchone()[0] == "on"
                cursor.close()
        finally:
            for conn in connections:
                conn.close()
        db.upgrade()  # a migration's own pragmas leave synchronous alone
        _durable(fresh)
    finally:
        fresh.dispose()
