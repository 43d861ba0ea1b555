"""Cases closed before retention existed get it on upgrade, with the full notice.

Migration 0018 changes no table, so the test database is brought back to 0017
(as a database from before retention would be) and upgraded again.
"""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select

from core.casework import cases as case_service
from core.casework import followups
from core.casework.deadlines import DeadlineKind, pending, schedule
from core.casework.status import Status
from core.infra.clock import iso, utcnow
from core.infra.db import Database, alembic_config
from core.infra.models import Deadline
from core.infra.settings import Settings
from core.records.retention import is_expunged
from tests.followups.conftest import open_case


def upgrade_from_0017(db: Database) -> None:
    with db.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0017")
    db.upgrade()


def close_long_ago(db: Database, case_id: int, **flags: str) -> None:
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        case.status = Status.CLOSED
        case.closed_at = utcnow() - timedelta(days=800)
        case.flags = {**(case.flags or {}), **flags}


def retention_starts(db: Database) -> dict[int, Deadline]:
    query = select(Deadline).where(Deadline.kind == DeadlineKind.RETENTION_STARTS)
    with db.session() as session:
        return {d.case_id: d for d in session.scalars(query)}


def test_only_closed_cases_without_retention_get_a_retention_clock(
    db: Database, settings: Settings
) -> None:
    old, gone, planned, live = (open_case(db, settings) for _ in range(4))
    close_long_ago(db, old)
    close_long_ago(db, gone, expunged_at=iso(utcnow()))
    close_long_ago(db, planned)
    with db.session() as session:
        case = case_service.get_case(session, planned)
        schedule(session, case, DeadlineKind.RETENTION_STARTS, case.closed_at)

    upgrade_from_0017(db)

    starts = retention_starts(db)
    assert set(starts) == {old, planned}
    assert starts[old].payload == {"full_notice": True}
    assert starts[old].fired_at is None
    assert live not in starts and gone not in starts


def test_a_case_past_its_period_is_expunged_only_after_a_full_notice(
    db: Database, settings: Settings
) -> None:
    old = open_case(db, settings)
    close_long_ago(db, old)  # no decision: the dismissed period, long run out
    upgrade_from_0017(db)

    now = utcnow()
    followups.fire_due(db, settings, now)

    with db.session() as session:
        due = {d.kind: d.due_at for d in pending(session, old)}
    notice = timedelta(days=settings.expunge_notice_days)
    assert due[DeadlineKind.EXPUNGE] == now + notice
    assert due[DeadlineKind.EXPUNGE_NOTICE] == now  # the stewards are told at once

    followups.fire_due(db, settings, now + notice - timedelta(seconds=1))
    with db.session() as session:
        assert not is_expunged(case_service.get_case(session, old))
        assert DeadlineKind.EXPUNGE_NOTICE not in {d.kind for d in pending(session, old)}
    followups.fire_due(db, settings, now + notice)
    with db.session() as session:
        assert is_expunged(case_service.get_case(session, old))
