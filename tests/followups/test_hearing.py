"""A code that requires hearing the reported person first: a decision is refused until
they have written on the case, or a steward ticked the step that records hearing them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.casework import cases as case_service
from core.casework import checklist
from core.casework.actions import receive_message
from core.casework.cases import EntryKind, Role, Source
from core.decisions.decisions import DecisionError
from core.infra.db import Database
from core.infra.settings import Settings
from core.policy import load_code
from tests.followups.conftest import open_case
from tests.followups.test_decisions import decide

REFUSAL = (
    "The OpenInfra Foundation Code of Conduct requires hearing the reported person before any "
    "decision. Ask for their side and wait for their answer or tick “Tell the alleged offender "
    "about the complaint and hear their response.” on the checklist, then decide."
)


@pytest.fixture
def openinfra(settings: Settings) -> Settings:
    return replace(settings, code_of_conduct="openinfra")


def test_their_own_answer_on_the_case_counts_as_being_heard(
    db: Database, openinfra: Settings
) -> None:
    case_id = open_case(db, openinfra)
    with pytest.raises(DecisionError) as refused:
        decide(db, openinfra, case_id, "cease_and_warn")
    assert str(refused.value) == REFUSAL and refused.value.field == "outcome"
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        reported = next(p for p in case.parties if p.role == Role.REPORTED)
        receive_message(
            session,
            case,
            reported,
            "My side of it.",
            source=Source.SLACK,
            kind=EntryKind.RESPONDENT_MESSAGE,
        )
    decide(db, openinfra, case_id, "cease_and_warn")
    with db.session() as session:
        assert case_service.get_case(session, case_id).status == "closed"


def test_unticking_the_hearing_step_refuses_the_decision_again(
    db: Database, openinfra: Settings
) -> None:
    code = load_code("openinfra")
    case_id = open_case(db, openinfra)
    with db.session() as session:
        case = case_service.get_case(session, case_id)
        checklist.tick(session, code, case, "U_STEW1", "hear", True)
        checklist.tick(session, code, case, "U_STEW1", "hear", False)
        assert checklist.state(session, case) == {"hear": False}
    with pytest.raises(DecisionError, match="requires hearing the reported person"):
        decide(db, openinfra, case_id, "cease_and_warn")
