"""Column types that keep values sealed at rest, and the lookup hashes beside them.

A column declared `SealedText("people.email")` holds AES-GCM ciphertext; the
model and every query above it see plain `str` values, so code that reads the
record does not change. The name given is the value's associated data: it ties
the ciphertext to its table and column.

Sealed columns cannot be compared in SQL. Where the record must find a row by
a value (a person by address, a message by its dedupe key), a `LookupHash`
column beside it holds the keyed hash of that value; `hashed_lookups` keeps it
filled in from the sealed column on every ORM write and on Core inserts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary, String, TypeDecorator, event, func, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, ColumnElement, operators

from core.infra import crypto


class SealedComparisonError(TypeError):
    """SQL compared a sealed column with a value: it would never match (random nonces)."""


class _Uncomparable(LargeBinary.Comparator[Any]):
    """Only IS [NOT] NULL makes sense on ciphertext; anything else is a bug to catch early."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        # NULL tests, ordering and SQLAlchemy's own column-to-column comparisons pass.
        values = [o for o in other if o is not None and not isinstance(o, ClauseElement)]
        if not values or op in (operators.is_, operators.is_not):
            return super().operate(op, *other, **kwargs)
        raise SealedComparisonError(
            f"{self.type.context} is sealed and cannot be compared in SQL; "
            "use its lookup hash column"
        )


class SealedBytes(TypeDecorator[Any]):
    """Bytes sealed at rest (raw messages, attachments); the base of the other sealed types."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _Uncomparable

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes) -> Any:
        return data

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return crypto.keyring().seal(self.encode(value), self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.decode(crypto.keyring().open(bytes(value), self.context))


class SealedText(SealedBytes):
    """Text sealed at rest (report text, names, addresses)."""

    cache_ok = True

    def encode(self, value: str) -> bytes:
        return value.encode()

    def decode(self, data: bytes) -> str:
        return data.decode()


class SealedJSON(SealedBytes):
    """A JSON document sealed at rest. Assign a new dict to change it (no in-place tracking)."""

    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


def plaintext_size(column: Any) -> ColumnElement[int]:
    """The size in bytes of a sealed column's plaintext (UTF-8 for text), read from the
    stored length in SQL: a reader can plan around large values without opening them.
    NULL stays NULL."""
    return func.length(type_coerce(column, LargeBinary())) - crypto.SEAL_OVERHEAD


class LookupHash(TypeDecorator[str]):
    """The keyed hash of the sealed column `source` (hex HMAC-SHA256), for equality lookups."""

    impl = String(64)
    cache_ok = True

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source


def hash_default(source: str) -> Any:
    """A column default hashing `source` from the same row: Core bulk inserts get it too."""

    def default(context: Any) -> str | None:
        return crypto.lookup_hash(context.get_current_parameters().get(source))

    return default


def hashed_lookups(model: type, **hash_of: str) -> None:
    """Recompute `hash_column` whenever its source attribute is set on an ORM object.

    Called as `hashed_lookups(Person, email_hash="email")`.
    """
    for hash_column, source in hash_of.items():

        @event.listens_for(getattr(model, source), "set", propagate=True)
        def _rehash(
            target: Any, value: Any, _old: Any, _initiator: Any, column: str = hash_column
        ) -> None:
            setattr(target, column, crypto.lookup_hash(value))
