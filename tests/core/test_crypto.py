"""Sealing at rest: AES-GCM with a key id and a column bound in, keyed lookup hashes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.casework.cases import ReportDraft, Source, open_case
from core.casework.people import Contact, find_or_create_person
from core.infra import crypto
from core.infra.db import Database
from core.infra.models import Party, Person
from core.infra.sealed import SealedComparisonError
from core.infra.settings import Settings
from steward.keyfile import DEV_KEY_FILE, load_key
from tests.conftest import TEST_KEY

OTHER_KEY = crypto.generate_key()
FORMAT = "^STEWARD_ENCRYPTION_KEY must be base64url keys of 32 bytes, comma-separated$"


def test_a_sealed_value_opens_only_in_its_own_column_and_unaltered() -> None:
    ring = crypto.parse_keys(TEST_KEY)
    first = ring.seal(b"what happened", "entries.text")
    second = ring.seal(b"what happened", "entries.text")
    assert first != second, "every value gets its own nonce"
    assert first[:1] == crypto.VERSION and crypto.key_id_of(first) == ring.primary_id
    assert b"what happened" not in first
    assert ring.open(first, "entries.text") == b"what happened"
    with pytest.raises(crypto.SealError, match="^a value in people.email was altered"):
        ring.open(first, "people.email")
    altered = first[:-1] + bytes([first[-1] ^ 1])
    with pytest.raises(crypto.SealError, match="^a value in entries.text was altered"):
        ring.open(altered, "entries.text")


def test_both_keys_open_during_a_rotation_and_the_new_one_seals() -> None:
    old = crypto.parse_keys(TEST_KEY)
    both = crypto.parse_keys(f"{OTHER_KEY},{TEST_KEY}")
    sealed_before = old.seal(b"report", "entries.text")
    assert both.open(sealed_before, "entries.text") == b"report"
    assert crypto.key_id_of(both.seal(b"report", "entries.text")) != old.primary_id
    assert old.lookup_hash("a@example.net") in both.lookup_hashes("a@example.net")
    with pytest.raises(crypto.SealError, match="sealed with a key that is not configured"):
        crypto.parse_keys(OTHER_KEY).open(sealed_before, "entries.text")


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (None, crypto.KeyMissingError, "STEWARD_ENCRYPTION_KEY is not set"),
        ("", crypto.KeyMissingError, "STEWARD_ENCRYPTION_KEY is not set"),
        ("not a key!", crypto.KeyFormatError, FORMAT),
        ("c2hvcnQ", crypto.KeyFormatError, FORMAT),
        (f"{TEST_KEY},c2hvcnQ", crypto.KeyFormatError, FORMAT),
        (TEST_KEY + "A", crypto.KeyFormatError, FORMAT),
    ],
)
def test_a_missing_or_malformed_key_is_refused_without_echoing_it(
    raw: str | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        crypto.parse_keys(raw)
    if raw:
        assert raw not in str(caught.value)


def test_people_are_found_by_keyed_hash_and_stored_sealed(db: Database, settings: Settings) -> None:
    with db.session() as session:
        draft = ReportDraft(
            source=Source.EMAIL,
            text="Distinctive report words",
            reporter=Contact(email="Robin@Example.net", display_name="Robin Quill"),
        )
        case = open_case(session, draft, settings).case
        token = case.parties[0].reply_token
    with db.session() as session:
        again = find_or_create_person(session, Contact(email="robin@example.net"))
        assert again.display_name == "Robin Quill" and again.id is not None
        party = session.scalars(select(Party)).one()
        assert party.reply_token == token
        assert party.reply_token_hash == crypto.lookup_hash(token)
    with db.engine.connect() as conn:
        email, name, email_hash = conn.execute(
            text("SELECT email, display_name, email_hash FROM people")
        ).one()
    assert b"robin" not in bytes(email) and b"Robin" not in bytes(name)
    assert email_hash == crypto.lookup_hash("robin@example.net")
    with db.session() as session:
        assert session.scalars(select(Person)).one().email == "robin@example.net"


def test_the_development_key_file_is_made_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dev = Settings(database_url=f"sqlite:///{tmp_path / 'steward.db'}")
    try:
        loaded = load_key(dev, "run")
        assert loaded.note == (
            "generated a development encryption key in ./steward.key "
            "(set STEWARD_ENCRYPTION_KEY in production)"
        )
        assert stat.S_IMODE(os.stat(DEV_KEY_FILE).st_mode) == 0o600
        key = DEV_KEY_FILE.read_text().strip()
        assert loaded.settings.encryption_key == key
        assert load_key(dev, "cases").note.startswith("using a development encryption key")
        with pytest.raises(crypto.KeyMissingError, match="STEWARD_ENCRYPTION_KEY is not set"):
            load_key(dev.with_overrides(slack_bot_token="xoxb-1"), "run")
    finally:
        crypto.install(crypto.parse_keys(TEST_KEY))


def test_comparing_a_sealed_column_in_sql_is_refused_at_once() -> None:
    """Ciphertext never equals a value sealed again (fresh nonce), so such a query would
    silently find nothing; it fails when written instead."""
    with pytest.raises(SealedComparisonError) as refused:
        select(Person).where(Person.email == "robin@example.net")
    assert str(refused.value) == (
        "people.email is sealed and cannot be compared in SQL; use its lookup hash column"
    )
    assert "IS NULL" in str(select(Person).where(Person.display_name.is_(None)))
