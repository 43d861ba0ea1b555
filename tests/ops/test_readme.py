"""The README's operator commands, run as written: backups and restores on SQLite and
PostgreSQL, the Procfile, and the readiness answer it shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.infra.db import Database
from core.infra.health import Health
from core.infra.settings import Settings
from steward.cli import build_parser
from tests.conftest import POSTGRES_URL
from tests.followups.conftest import open_case
from tests.ops.readme import README, example

ROOT = README.parent


def shell(block: str, cwd: Path, database_url: str) -> None:
    env = {**os.environ, "STEWARD_DATABASE_URL": database_url}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example(block)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (block, result.stdout, result.stderr)


def case_refs(database_url: str, cwd: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "steward.cli", "cases", "list", "--json"],
        cwd=cwd,
        env={**os.environ, "STEWARD_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [row["ref"] for row in json.loads(out)]


@pytest.mark.parametrize("backup", ["sqlite-backup", "sqlite-backup-python"])
def test_sqlite_backup_and_restore_as_the_readme_says(backup: str, tmp_path: Path) -> None:
    if backup == "sqlite-backup" and not shutil.which("sqlite3"):
        pytest.skip("the sqlite3 command is not installed (Debian: apt-get install sqlite3)")
    url = "sqlite:///steward.db"  # relative, as the README's commands expect
    db = Database(f"sqlite:///{tmp_path / 'steward.db'}")
    db.upgrade()
    open_case(db, _settings(url))
    shell(backup, tmp_path, url)  # while the database is open, as a running Steward has it
    open_case(db, _settings(url))  # after the backup: gone after the restore
    assert case_refs(url, tmp_path) == ["COC-2", "COC-1"]
    db.dispose()
    shell("sqlite-restore", tmp_path, url)
    assert case_refs(url, tmp_path) == ["COC-1"]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (STEWARD_TEST_DATABASE_URL)")
@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")
def test_pg_dump_and_restore_as_the_readme_says(db: Database, tmp_path: Path) -> None:
    settings = _settings(db.url)
    open_case(db, settings)
    shell("pg-backup", tmp_path, db.url)
    open_case(db, settings)
    assert case_refs(db.url, tmp_path) == ["COC-2", "COC-1"]
    db.engine.dispose()  # let pg_restore --clean drop the tables
    shell("pg-restore", tmp_path, db.url)
    assert case_refs(db.url, tmp_path) == ["COC-1"]


def test_the_procfile_releases_with_a_migration_and_names_real_commands() -> None:
    processes = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert processes["release"] == "steward db upgrade"
    assert set(processes) == {"release", "web", "mail", "worker"}
    for command in processes.values():
        program, *args = command.split()
        assert program == "steward"
        build_parser().parse_args(args)


def test_the_readiness_answer_the_readme_shows(db: Database) -> None:
    text = README.read_text()
    shown = text.split("curl -s http://127.0.0.1:3000/readyz\n  # ", 1)[1].split("\n", 1)[0]
    assert Health(db, 3600).readiness() == (True, json.loads(shown))


def _settings(url: str) -> Settings:
    return Settings(database_url=url)
