"""Decisions on the ladder, their notices, appeals from the DM button, and the final word."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.casework import cases as case_service
from core.casework.actions import NotAllowed, close, reopen
from core.casework.deadlines import DeadlineKind, pending
from core.decisions import appeals, decisions
from core.decisions.decisions import DecisionError, record_appeal_decision, record_decision
from core.infra.clock import human_exact, utcnow
from core.infra.db import Database
from core.infra.settings import Settings
from core.records.export import case_detail
from tests.followups.conftest import deadlines, dms, notices, open_case

STEWARD = "U_STEW1"


def decide(db: Database, settings: Settings, case_id: int, outcome: str = "warning", **kw):
    values = {
        "rationale": "Two witnesses confirmed it.",
        "message_to_reported": "Please stop contacting Alex.",
        "message_to_reporter": "We have warned the person you reported.",
    }
    values.update(kw)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        decision = record_decision(session, settings, case, STEWARD, outcome, **values)
        return decision.id, decision.appeal_deadline


def test_a_decision_tells_both_sides_with_the_exact_deadline(db: Database, quiet: Settings) -> None:
    case_id = open_case(db, quiet)
    before = utcnow()
    _, window = decide(db, quiet, case_id)
    # 30 days after the notice, rounded up to the minute: stated exactly, never shorter.
    assert window >= before + timedelta(days=30)
    assert window - before < timedelta(days=30, minutes=2)
    assert window.second == 0 and window.microsecond == 0
    stated = human_exact(window)
    assert stated.endswith("UTC")

    notices_sent = dms(db, "decision_notice")
    assert sorted(n["user"] for n in notices_sent) == ["U_ALEX", "U_BLAIR"]
    for dm in notices_sent:
        assert stated in dm["text"] and "appeal" in dm["text"].lower()
        assert dm["details"]["appeal_button"] is True
        assert dm["details"]["case_id"] == case_id
    to_blair = next(n for n in notices_sent if n["user"] == "U_BLAIR")
    assert "Please stop contacting Alex." in to_blair["text"]
    assert "A warning" in to_blair["text"]
    to_alex = next(n for n in notices_sent if n["user"] == "U_ALEX")
    assert "We have warned the person you reported." in to_alex["text"]
    assert "Please stop contacting Alex." not in to_alex["text"]

    with db.session() as session:
        case = case_service.get_case(session, case_id)
        assert case.status == "awaiting_appeal"
        kinds = [e.kind for e in case.entries]
        assert kinds == ["report", "decision", "decision_notice", "decision_notice"]
        # Each notice is on the record exactly as sent.
        sent = {e.party.role: e.text for e in case.entries if e.kind == "decision_notice"}
        assert sent["reported"] == to_blair["text"] and sent["reporter"] == to_alex["text"]
        assert [d.kind for d in pending(session, case_id)] == [DeadlineKind.APPEAL_WINDOW]
        data = case_detail(session, case)
    assert data["decision"]["outcome"] == "warning"
    assert data["decision"]["appeal_deadline"].startswith(window.strftime("%Y-%m-%dT%H:%M"))
    assert data["decision"]["appeal_decision"] is None
    # Follow-up reminders of an open case stop once the decision is out.
    cancelled = [d.kind for d in deadlines(db, case_id) if d.cancelled_at is not None]
    assert sorted(cancelled) == sorted(
        [DeadlineKind.ACKNOWLEDGEMENT, DeadlineKind.STALE, DeadlineKind.CHECK_IN]
    )
    [line] = notices(db, case_id, "decision")
    assert line["details"]["final"] is False and stated in line["details"]["summary"]


@pytest.mark.parametrize(
    ("outcome", "terms", "message"),
    [
        ("temporary_ban", {}, "needs an end date"),
        ("temporary_ban", {"ban_until": utcnow() - timedelta(days=1)}, "in the future"),
        (
            "warning",
            {"ban_until": utcnow() + timedelta(days=1)},
            r"\(Warning, with the consequences of repeating it\) has no end date",
        ),
        ("other", {}, "Describe the outcome"),
        ("exile", {}, "enforcement ladder"),
        ("warning", {"no_contact_until": utcnow() - timedelta(hours=1)}, "no-contact"),
        ("warning", {"message_to_reported": " "}, "reported person"),
    ],
)
def test_a_decision_is_checked_before_anything_is_sent(
    db: Database, quiet: Settings, outcome: str, terms: dict, message: str
) -> None:
    case_id = open_case(db, quiet)
    with pytest.raises(DecisionError, match=message):
        decide(db, quiet, case_id, outcome, **terms)
    assert dms(db, "decision_notice") == []
    with db.session() as session:
        assert case_service.get_case(session, case_id).status == "new"


def test_a_temporary_ban_and_no_contact_term_get_their_end_reminders(
    db: Database, quiet: Settings
) -> None:
    case_id = open_case(db, quiet)
    ban_until = utcnow() + timedelta(days=14)
    no_contact = utcnow() + timedelta(days=60)
    decide(
        db,
        quiet,
        case_id,
        "temporary_ban",
        ban_until=ban_until,
        no_contact_until=no_contact,
        remove_roles="meetup organiser",
    )
    [ban] = deadlines(db, case_id, DeadlineKind.BAN_ENDS)
    [term] = deadlines(db, case_id, DeadlineKind.NO_CONTACT_ENDS)
    assert (ban.due_at, term.due_at) == (ban_until, no_contact)
    to_blair = next(n for n in dms(db, "decision_notice") if n["user"] == "U_BLAIR")
    assert human_exact(ban_until) in to_blair["text"]
    assert human_exact(no_contact) in to_blair["text"]
    assert "meetup organiser" in to_blair["text"]
    # Extending the ban moves its reminder; the worker's job follows the row.
    later = ban_until + timedelta(days=7)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        decisions.extend_term(session, case, STEWARD, "ban", later)
    [ban] = deadlines(db, case_id, DeadlineKind.BAN_ENDS)
    assert ban.due_at == later and ban.fired_at is None


def test_an_appeal_from_the_dm_button_opens_the_review_and_its_decision_is_final(
    db: Database, quiet: Settings
) -> None:
    case_id = open_case(db, quiet)
    decision_id, window = decide(db, quiet, case_id)
    with db.session() as session, pytest.raises(NotAllowed):
        appeals.appeal_from_slack(session, quiet, case_id, "U_STEW2", "I object")
    with db.session() as session:
        appeal = appeals.appeal_from_slack(session, quiet, case_id, "U_BLAIR", "I was not there.")
        assert (appeal.late, appeal.status) == (False, "under_review")
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        assert case.status == "appeal_review"
        assert case.entries[-2].kind == "appeal"
        assert case.entries[-2].party.role == "reported"
    [received] = dms(db, "appeal_received")
    assert received["user"] == "U_BLAIR" and human_exact(window) in received["text"]
    [line] = notices(db, case_id, "appeal")
    assert line["details"]["late"] is False and line["details"]["role"] == "reported"

    ban_until = utcnow() + timedelta(days=10)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        with pytest.raises(DecisionError, match="needs an end date"):
            record_appeal_decision(session, quiet, case, STEWARD, "modify", outcome="temporary_ban")
        record_appeal_decision(
            session,
            quiet,
            case,
            STEWARD,
            "modify",
            outcome="temporary_ban",
            ban_until=ban_until,
            rationale="New evidence.",
            message_to_reported="Your appeal was reviewed.",
            message_to_reporter="The appeal was reviewed.",
        )
    finals = dms(db, "appeal_decision_notice")
    assert sorted(n["user"] for n in finals) == ["U_ALEX", "U_BLAIR"]
    assert all("final" in n["text"] and n["details"]["appeal_button"] is False for n in finals)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        assert case.status == "closed"
        data = case_detail(session, case)
        # Closing starts the retention clock; the ban's end stays promised.
        assert [d.kind for d in pending(session, case_id)] == [
            DeadlineKind.RETENTION_STARTS,
            DeadlineKind.BAN_ENDS,
        ]
    assert data["decision"]["id"] == decision_id
    final = data["decision"]["appeal_decision"]
    assert (final["appeal_result"], final["final"], final["outcome"]) == (
        "modify",
        True,
        "temporary_ban",
    )
    assert [(a["status"], a["late"], a["party_role"]) for a in data["appeals"]] == [
        ("decided", False, "reported")
    ]
    # The decision on the appeal is final: the button no longer opens anything.
    with db.session() as session, pytest.raises(NotAllowed, match="final"):
        appeals.appeal_from_slack(session, quiet, case_id, "U_ALEX", "again")


def test_recording_a_decision_twice_is_refused_until_reopened(
    db: Database, quiet: Settings
) -> None:
    case_id = open_case(db, quiet)
    decide(db, quiet, case_id)
    with pytest.raises(DecisionError, match="already has a decision"):
        decide(db, quiet, case_id)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        close(session, case, STEWARD)
        reopen(session, case, STEWARD)
    kinds = sorted(
        d.kind for d in deadlines(db, case_id) if d.fired_at is None and not d.cancelled_at
    )
    # Reopening restarts the follow-up clocks; a new decision replaces the old window.
    assert kinds == sorted([DeadlineKind.APPEAL_WINDOW, DeadlineKind.STALE, DeadlineKind.CHECK_IN])
    decide(db, replace(quiet, appeal_days=7.0), case_id, "correction")
    windows = deadlines(db, case_id, DeadlineKind.APPEAL_WINDOW)
    assert [d.cancelled_at is None for d in windows] == [False, True]


def test_a_recused_steward_cannot_decide(db: Database, quiet: Settings) -> None:
    case_id = open_case(db, quiet)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        case_service.flag(session, case, "recused", [STEWARD])
    with pytest.raises(NotAllowed):
        decide(db, quiet, case_id)
