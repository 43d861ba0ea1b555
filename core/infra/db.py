"""Engine, sessions and schema upgrades for SQLite and PostgreSQL.

SQLite is tuned for one machine with several writers (WAL, a busy timeout and
`BEGIN IMMEDIATE`, so two writers queue instead of failing at commit time).
Every commit is durable (SQLite `synchronous=FULL`, PostgreSQL
`synchronous_commit=on` whatever the server's default): a 250 or a closed report
form promises the record is on disk, so the log is synced at each commit and not
only at checkpoints; group commit spreads that sync over everything committed together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from core.infra.writepriority import WritePriority, WriterQueue

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"

# FULL syncs the WAL at every commit. NORMAL (syncing only at checkpoints) can lose
# the last commits, already answered 250, when the machine loses power.
SQLITE_SYNCHRONOUS = "FULL"

# libpq's limit on establishing a connection; its default is to wait for ever.
PG_CONNECT_TIMEOUT_SECONDS = 10


class StorageError(RuntimeError):
    """The record could not be read or written. Carries no case content."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine with the settings each backend needs to share well.

    `hide_parameters` keeps bound values (report text, addresses) out of database
    error messages, so a logged traceback cannot leak them.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _tune_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # Durable commits whatever the server's default: a 250 means the record is on disk.
    # A server that accepts the connection but never answers (overloaded, half-failed
    # over) would otherwise hold the connecting thread for as long as TCP tries.
    kwargs.setdefault(
        "connect_args",
        {"options": "-c synchronous_commit=on", "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)
    # A many-row INSERT without RETURNING goes as one multi-row VALUES statement, one round
    # trip, as it does with RETURNING. psycopg's own executemany pipelines a statement per
    # row and costs three round trips, which a group commit pays for every table it fills.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The one way into the record: a unit of work per `session()` block."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite's one write lock: this process's writers queue here, interactive ones
        # first, and those also ask the mail storage process to wait (`core.infra.writepriority`).
        self._writers = WriterQueue() if self.dialect == "sqlite" else None
        self.write_priority = WritePriority.for_url(url)
        self._thread = threading.local()

    @contextmanager
    def interactive(self) -> Iterator[None]:
        """Writes made by this thread inside the block answer a person who is waiting (a
        Slack ack): on SQLite they go before background writers and mail storage."""
        before = getattr(self._thread, "interactive", False)
        self._thread.interactive = True
        try:
            yield
        finally:
            self._thread.interactive = before

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """This thread's turn to write (a no-op on PostgreSQL, which has no single lock).

        Priority is claimed before queueing, so mail storage stops starting transactions
        while an interactive writer waits behind this process's background writers; never
        from inside a turn, where a transaction may already be open."""
        if self._writers is None:
            yield
            return
        interactive = getattr(self._thread, "interactive", False)
        priority = self.write_priority if interactive and not self._writers.held_here() else None
        with priority.claimed() if priority else nullcontext(), self._writers.turn(interactive):
            yield

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Commit on success, roll back on any error; the caller never half-writes."""
        with self._write_lock():
            session = self._sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A bare transaction for a hot path that writes one row; no ORM bookkeeping."""
        with self._write_lock(), self.engine.begin() as conn:
            yield conn

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from alembic import command

        with self.engine.connect() as connection:
            self._sqlite_pragmas(connection, "foreign_keys=OFF", "secure_delete=ON")
            try:
                with connection.begin():
                    config = alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                self._sqlite_pragmas(
                    connection, "foreign_keys=ON", "secure_delete=OFF", "wal_checkpoint(TRUNCATE)"
                )

    def _sqlite_pragmas(self, connection: Connection, *pragmas: str) -> None:
        """SQLite, around a migration. One that recreates a table (Alembic's batch mode)
        drops the old one, which must not cascade into the tables that refer to it; what
        it drops or rewrites is zeroed, and the WAL emptied afterwards, so an upgrade that
        encrypts a plaintext record leaves no plaintext in the file. These pragmas only take
        effect outside a transaction, so they go straight to the driver."""
        if self.dialect == "sqlite":
            for pragma in pragmas:
                connection.connection.driver_connection.execute(f"PRAGMA {pragma}")

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("cases")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_priority is not None:
            self.write_priority.close()


def alembic_config() -> Any:
    """Alembic's configuration, built in code so no `alembic.ini` has to be found."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
