"""`steward keys rotate`: the record moves to a new key in batches, resumably, and stays
readable and findable all along."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.casework.cases import ReportDraft, Source, open_case, party_by_token
from core.casework.people import Contact, find_or_create_person
from core.infra import crypto
from core.infra.auditchain import verify
from core.infra.db import Database
from core.infra.models import Entry, Person
from core.infra.rotation import remaining, rotate
from core.infra.settings import Settings
from tests.conftest import TEST_KEY
from tests.smtp_helpers import steward_cli

NEW_KEY = crypto.generate_key()


@pytest.fixture
def keys_restored() -> Iterator[None]:
    yield
    crypto.install(crypto.parse_keys(TEST_KEY))


def _open_cases(db: Database, settings: Settings) -> list[str]:
    tokens = []
    with db.session() as session:
        for n in range(4):
            draft = ReportDraft(
                source=Source.EMAIL,
                text=f"Rotation report {n}",
                reporter=Contact(email=f"rotate{n}@example.net", display_name=f"Person {n}"),
                dedupe_key=f"mid:<rotate-{n}@example.net>",
            )
            tokens.append(open_case(session, draft, settings).reporter.reply_token)
    return tokens


def _rotate_cli(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_ENCRYPTION_KEY": f"{NEW_KEY},{TEST_KEY}",
    }
    return steward_cli(cwd, "keys", "rotate", "--batch-size", "3", env=env)


def test_an_interrupted_rotation_resumes_and_the_old_key_can_then_go(
    db: Database, settings: Settings, tmp_path: Path, keys_restored: None
) -> None:
    tokens = _open_cases(db, settings)
    crypto.install(crypto.parse_keys(f"{NEW_KEY},{TEST_KEY}"))
    before = sum(remaining(db).values())
    assert rotate(db, batch_size=2, max_batches=3) == 6  # interrupted after three batches
    assert 0 < sum(remaining(db).values()) == before - 6

    # Midway, both keys open the record and lookups find rows under either hash.
    with db.session() as session:
        person = find_or_create_person(session, Contact(email="ROTATE3@example.net"))
        assert person.id is not None and person.display_name == "Person 3"
        assert all(party_by_token(session, t) is not None for t in tokens)

    result = _rotate_cli(settings.database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "Nothing is left under an older key: the others can be removed from the setting.\n"
    )
    assert sum(remaining(db).values()) == 0

    crypto.install(crypto.parse_keys(NEW_KEY))  # the old key is gone
    with db.session() as session:
        texts = sorted(session.scalars(select(Entry.text)).all())
        assert texts == [f"Rotation report {n}" for n in range(4)]
        known = find_or_create_person(session, Contact(email="rotate0@example.net"))
        assert known.id is not None
        assert len(session.scalars(select(Person)).all()) == 4
        assert all(party_by_token(session, t) is not None for t in tokens)
    with db.engine.connect() as conn:
        assert verify(conn)[1] == []


def test_rotation_refuses_values_under_a_key_it_does_not_have(
    db: Database, settings: Settings, tmp_path: Path, keys_restored: None
) -> None:
    _open_cases(db, settings)
    crypto.install(crypto.parse_keys(NEW_KEY))
    with pytest.raises(crypto.SealError, match="sealed with a key that is not configured"):
        rotate(db)
