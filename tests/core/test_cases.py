"""The case engine: opening, lifecycle checks, audit trail, and the record on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from core.casework import cases as case_service
from core.casework.cases import EntryKind, ReportDraft, Role, Source
from core.casework.deadlines import DeadlineKind, claim_firing, pending
from core.casework.people import Contact
from core.casework.status import Status, TransitionError, check_transition
from core.infra.db import Database
from core.infra.models import AppendOnlyError, AuditEvent, Base, Case
from core.infra.settings import Settings
from core.records.export import case_detail


def draft(**changes: object) -> ReportDraft:
    values: dict[str, object] = {
        "source": Source.SLACK,
        "text": "Someone kept messaging me after I asked them to stop.",
        "reporter": Contact(slack_user_id="U_ALEX", display_name="Alex"),
        "involved": [(Role.REPORTED, Contact(slack_user_id="U_BLAIR"))],
    }
    values.update(changes)
    return ReportDraft(**values)  # type: ignore[arg-type]


def test_open_case_builds_the_whole_record(db: Database, settings: Settings) -> None:
    with db.session() as session:
        first = case_service.open_case(session, draft(), settings).case
        second = case_service.open_case(session, draft(), settings).case
        first_id, second_id = first.id, second.id
    assert (first_id, second_id) == (1, 2)
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.ref == "COC-1"
        assert case.status == "new"
        adjective, noun = case.code_name.split("-")[:2]
        assert adjective and noun
        assert [p.role for p in case.parties] == ["reporter", "reported"]
        assert [e.kind for e in case.entries] == ["report"]
        assert case.entries[0].text.startswith("Someone kept messaging")
        ack, stale, check_in = pending(session, case.id)
        # Every open case runs the acknowledgement, stale-case and check-in clocks.
        assert [d.kind for d in (ack, stale, check_in)] == [
            DeadlineKind.ACKNOWLEDGEMENT,
            DeadlineKind.STALE,
            DeadlineKind.CHECK_IN,
        ]
        hours = (ack.due_at - case.created_at).total_seconds() / 3600
        assert hours == pytest.approx(settings.ack_hours, abs=0.01)
        days = (stale.due_at - case.created_at).total_seconds() / 86400
        assert days == pytest.approx(settings.stale_days, abs=0.01)
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case.id)
        ).all()
        assert "case.opened" in actions and "entry.added" in actions


def test_code_names_are_unique(db: Database, settings: Settings) -> None:
    with db.session() as session:
        names = {
            case_service.open_case(session, draft(), settings).case.code_name for _ in range(60)
        }
    assert len(names) == 60


def test_every_transition_is_checked() -> None:
    assert check_transition("new", "triage") == Status.TRIAGE
    assert check_transition("closed", "triage") == Status.TRIAGE
    assert check_transition("triage", "awaiting_appeal") == Status.AWAITING_APPEAL
    assert check_transition("closed", "appeal_review") == Status.APPEAL_REVIEW
    with pytest.raises(TransitionError):
        check_transition("new", "awaiting_appeal")
    with pytest.raises(TransitionError):
        check_transition("appeal_review", "investigating")
    with pytest.raises(TransitionError):
        check_transition("new", "archived")


def test_transition_is_audited_and_illegal_moves_change_nothing(
    db: Database, settings: Settings
) -> None:
    with db.session() as session:
        case = case_service.open_case(session, draft(), settings).case
        case_service.transition(session, case, Status.TRIAGE, "steward:U_STEW1", "acknowledged")
        with pytest.raises(TransitionError):
            case_service.transition(session, case, Status.APPEAL_REVIEW, "steward:U_STEW1", "x")
        case_id = case.id
    with db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "triage"
        moves = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).all()
        assert [(m.actor, m.detail["status"]) for m in moves] == [("steward:U_STEW1", "triage")]


def test_audit_trail_is_append_only(db: Database, settings: Settings) -> None:
    with db.session() as session:
        case_service.open_case(session, draft(), settings)
    with pytest.raises(AppendOnlyError), db.session() as session:
        event = session.scalars(select(AuditEvent).limit(1)).one()
        event.action = "rewritten"
        session.flush()
    with pytest.raises(AppendOnlyError), db.session() as session:
        session.delete(session.scalars(select(AuditEvent).limit(1)).one())
        session.flush()
    with db.session() as session:
        assert "rewritten" not in session.scalars(select(AuditEvent.action)).all()


def test_a_deadline_fires_once(db: Database, settings: Settings) -> None:
    with db.session() as session:
        case = case_service.open_case(session, draft(), settings).case
        deadline_id = pending(session, case.id)[0].id
    with db.session() as session:
        assert claim_firing(session, deadline_id) is True
    with db.session() as session:
        assert claim_firing(session, deadline_id) is False


def test_people_are_shared_between_cases(db: Database, settings: Settings) -> None:
    with db.session() as session:
        one = case_service.open_case(session, draft(), settings).case
        two = case_service.open_case(session, draft(), settings).case
        assert one.parties[0].person_id == two.parties[0].person_id
        assert one.parties[0].reply_token != two.parties[0].reply_token


def test_anonymous_reporter_is_sealed_in_the_export(db: Database, settings: Settings) -> None:
    with db.session() as session:
        case = case_service.open_case(session, draft(anonymous=True), settings).case
        data = case_detail(session, case)
    reporter = data["people"][0]
    assert reporter == {
        "role": "reporter",
        "name": None,
        "email": None,
        "slack_user": None,
        "anonymous": True,
        "contact_route": "slack",
    }
    assert data["entries"][0]["kind"] == EntryKind.REPORT


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
