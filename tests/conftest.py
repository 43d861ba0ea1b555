"""Shared fixtures: a real database (SQLite, or PostgreSQL when CI provides one).

Set STEWARD_TEST_DATABASE_URL to a PostgreSQL URL to run the same tests there;
each test then starts from empty tables with sequences reset. That pass leaves out
the tests that cannot reach the test database (no `database_url` among their
fixtures, directly or through `settings`, `db`, `stack`...): they would repeat the
SQLite pass exactly. STEWARD_TEST_EVERYTHING=1 runs them too. On SQLite each test
gets a database file of its own, copied from one migrated once per session (running
every migration takes about a second, and most tests want a database).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.infra import crypto
from core.infra.db import Database
from core.infra.models import Base
from core.infra.settings import Settings

POSTGRES_URL = os.environ.get("STEWARD_TEST_DATABASE_URL")

# A fixed key for every test: the record is sealed in tests exactly as in production.
TEST_KEY = "c3Rld2FyZC10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDA"
crypto.install(crypto.parse_keys(TEST_KEY))
os.environ.setdefault("STEWARD_ENCRYPTION_KEY", TEST_KEY)  # for the processes tests start
# A fixed health port would collide between the `steward mail` processes of concurrent runs.
os.environ.setdefault("STEWARD_MAIL_HEALTH_PORT", "0")


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database | None]:
    if not POSTGRES_URL:
        yield None
        return
    db = Database(POSTGRES_URL)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest migration, closed, for tests to copy."""
    path = tmp_path_factory.mktemp("template") / "steward.db"
    template = Database(f"sqlite:///{path}")
    template.upgrade()
    template.dispose()  # the last connection closed: the WAL is folded into the file
    return path


@pytest.fixture
def database_url(
    tmp_path: Path, postgres_db: Database | None, request: pytest.FixtureRequest
) -> str:
    if postgres_db is None:
        path = tmp_path / "steward.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with postgres_db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return POSTGRES_URL or ""


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_port=free_port(),
        web_port=free_port(),
        mail_out_dir=tmp_path / "mail-out",
        community_name="the Example community",
        authserv_id="mx.example.org",
        encryption_key=TEST_KEY,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    database.upgrade()
    yield database
    database.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="deeper fault runs (more messages, longer outages); also STEWARD_LONG_TESTS=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    """`--long` and `STEWARD_LONG_TESTS=1` are one switch: the Hypothesis profiles are
    chosen when tests/hostile is collected, from the environment, so set it here first."""
    if config.getoption("--long"):
        os.environ["STEWARD_LONG_TESTS"] = "1"


@pytest.fixture(scope="session")
def long_mode(request: pytest.FixtureRequest) -> bool:
    """Whether fault tests run their deep variant; CI runs the bounded one."""
    return os.environ.get("STEWARD_LONG_TESTS", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, deselect the tests that never reach the test database.

    A test reaches it only through the `database_url` fixture (every database fixture
    builds on it), so a test without it in its fixture closure runs the same on both
    passes, on SQLite files of its own or on no database at all."""
    if not POSTGRES_URL or os.environ.get("STEWARD_TEST_EVERYTHING") == "1":
        return
    keep: list[pytest.Item] = []
    leave: list[pytest.Item] = []
    for item in items:
        (keep if "database_url" in getattr(item, "fixturenames", ()) else leave).append(item)
    if leave:
        config.hook.pytest_deselected(items=leave)
        items[:] = keep
