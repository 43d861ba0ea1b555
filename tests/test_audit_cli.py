"""`steward audit verify`: the audit trail is a hash chain per case, and an altered,
removed or forked event is found and named."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from sqlalchemy import select, text

from core.casework.cases import ReportDraft, Source, get_case, open_case
from core.casework.people import Contact
from core.infra import audit
from core.infra.auditchain import verify
from core.infra.db import Database
from core.infra.models import AuditEvent
from core.infra.settings import Settings
from tests.smtp_helpers import steward_cli


def steward(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(cwd, *args, env={**os.environ, "STEWARD_DATABASE_URL": database_url})


def _two_cases(db: Database, settings: Settings) -> None:
    with db.session() as session:
        for n in range(2):
            draft = ReportDraft(
                source=Source.EMAIL,
                text=f"Chain report {n}",
                reporter=Contact(email=f"chain{n}@example.net"),
            )
            open_case(session, draft, settings)
        audit.record(session, "policy.checked")  # an event without a case


def test_verify_passes_an_intact_trail_and_names_an_altered_event(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    _two_cases(db, settings)
    intact = steward(settings.database_url, tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit trail intact: ")
    with db.session() as session:
        second = session.scalars(
            select(AuditEvent.id).where(AuditEvent.case_id == 2).order_by(AuditEvent.id)
        ).all()
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'steward:U_FORGER' WHERE id = :id"),
            {"id": second[2]},
        )
    broken = steward(settings.database_url, tmp_path, "audit", "verify")
    with db.session() as session:
        total = len(session.scalars(select(AuditEvent.id)).all())
    assert (broken.returncode, broken.stdout.splitlines()) == (
        1,
        [
            f"BROKEN COC-2: audit event {second[2]} was changed after it was written",
            f"1 audit chains broken ({total} events checked)",
        ],
    )


def test_a_removed_event_breaks_the_chain_after_it(db: Database, settings: Settings) -> None:
    _two_cases(db, settings)
    with db.session() as session:
        first = session.scalars(
            select(AuditEvent.id).where(AuditEvent.case_id == 1).order_by(AuditEvent.id)
        ).all()
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": first[1]})
    with db.engine.connect() as conn:
        _checked, broken = verify(conn)
    assert [(b.chain, b.event_id, b.reason) for b in broken] == [
        ("COC-1", first[2], "does not follow the event before it")
    ]


def test_the_export_is_audited_with_who_ran_it(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    _two_cases(db, settings)
    shown = steward(settings.database_url, tmp_path, "cases", "show", "COC-1", "--json")
    assert shown.returncode == 0, shown.stderr
    with db.session() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.exported")
        ).all()
        assert [(e.case_id, e.actor.startswith("operator:"), e.detail) for e in exports] == [
            (1, True, {"format": "json"})
        ]


def test_concurrent_events_on_one_case_do_not_fork_its_chain(
    db: Database, settings: Settings
) -> None:
    """The second writer waits for the first to commit, then links to its event."""
    _two_cases(db, settings)
    flushed = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.session() as session:
                audit.record(session, "case.read", actor="steward:U_A", case=get_case(session, 1))
                session.flush()
                flushed.set()
                threading.Event().wait(0.5)  # hold the transaction open
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            flushed.set()

    def second() -> None:
        flushed.wait(10)
        with db.session() as session:
            audit.record(session, "case.read", actor="steward:U_B", case=get_case(session, 1))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with db.session() as session:
        a, b = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.read").order_by(AuditEvent.id)
        ).all()
        assert (a.actor, b.actor) == ("steward:U_A", "steward:U_B")
        assert b.prev_hash == a.chain_hash
    with db.engine.connect() as conn:
        assert verify(conn)[1] == []
