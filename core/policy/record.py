"""Which code of conduct a case is handled under, kept on the record.

A case stores the version (a content hash) of the code in force when it was
opened, and the code itself is stored once per version. Its form answers,
decision options, notices, appeal rule and checklist all come from that
version, so editing the file later changes new cases only.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from core.infra.clock import utcnow
from core.infra.models import Case, ConductCode
from core.infra.settings import Settings
from core.policy.code import Code
from core.policy.loading import as_data, load_code, parse

# Versions are content hashes, so a code read once is the same code in every database.
_BY_VERSION: dict[str, Code] = {}


def code_in_force(settings: Settings) -> Code:
    """The code `STEWARD_CODE_OF_CONDUCT` names (checked when Steward starts)."""
    return load_code(settings.code_of_conduct)


def register(connection: Session | Connection, code: Code) -> None:
    """Store this version of the code unless it is already stored; safe under races."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    # Imported on use: the mail storage process starts fresh and must answer quickly.
    name = "postgresql" if bind.dialect.name == "postgresql" else "sqlite"
    dialect = import_module(f"sqlalchemy.dialects.{name}")
    statement = dialect.insert(ConductCode).on_conflict_do_nothing(index_elements=["version"])
    connection.execute(
        statement,
        {
            "version": code.version,
            "name": code.name,
            "snapshot": as_data(code),
            "created_at": utcnow(),
        },
    )
    _BY_VERSION.setdefault(code.version, code)


def pin(session: Session, case: Case, code: Code) -> None:
    """Keep on the case the version of the code it will be handled under."""
    register(session, code)
    case.conduct_version = code.version


def case_code(session: Session, settings: Settings | None, case: Case) -> Code:
    """The code this case is handled under; a case from before codes were kept uses
    the code in force (the default one when no settings are at hand)."""
    settings = settings or Settings()
    version = case.conduct_version
    if not version:
        return code_in_force(settings)
    known = _BY_VERSION.get(version)
    if known is not None:
        return known
    row = session.get(ConductCode, version)
    if row is None:
        return code_in_force(settings)
    code = replace(parse(row.snapshot, source=f"stored code {row.name}"), version=version)
    _BY_VERSION[version] = code
    return code
