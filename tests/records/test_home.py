"""The steward's App Home: the desk at a glance, with no report content."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from core.casework import actions, followups
from core.casework import cases as case_service
from core.decisions.decisions import record_decision
from core.infra.clock import utcnow
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.followups.conftest import QUIET, seconds, wait_until
from tests.slack.conftest import Stack
from tests.smtp_helpers import send

WHAT = "They mocked my accent in #general after I asked them to stop."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An acknowledgement due in a second; a closed case kept a minute, its notice at once."""
    return replace(
        settings,
        **{**QUIET, "appeal_days": seconds(0.3), "ack_hours": seconds(1, "hours")},
        retention_warning_days=seconds(60),
        expunge_notice_days=seconds(90),
    )


def home(stack: Stack, user: str) -> str:
    """The user's Home tab once the app has published it (its row is queued by the
    app_home_opened handler, which may run after the first drain under load)."""
    stack.emulator.open_home(user, wait=0)

    def published() -> dict | None:
        stack.drain()
        return stack.emulator.state()["home_tabs"].get(user)

    return json.dumps(wait_until(published))


def test_the_desk_shows_waiting_overdue_and_expunge_lists_without_content(
    stack: Stack, gateway_for: MailServer
) -> None:
    stack.report("U_ALEX", what=WHAT)  # COC-1: claimed by U_STEW1
    assert send(gateway_for.address[1], b"From: alex@example.net\r\nSubject: x\r\n\r\nhi")[0] == 250
    stack.report("U_ALEX", what=WHAT)  # COC-3: decided and closed
    with stack.db.session() as session:
        actions.claim(session, case_service.get_case(session, "COC-1"), "U_STEW1")
        record_decision(
            session,
            stack.settings,
            case_service.get_case(session, "COC-3"),
            "U_STEW1",
            "warning",
            rationale="Confirmed.",
            message_to_reported="Please keep to the code.",
            message_to_reporter="We have acted on your report.",
        )
    later = utcnow() + timedelta(seconds=3)
    followups.fire_due(stack.db, stack.settings, later)  # acknowledgements, appeal window
    followups.fire_due(stack.db, stack.settings, later)  # retention starts
    steward = home(stack, "U_STEW1")
    waiting = steward.split("Waiting on you")[1].split("Overdue acknowledgements")[0]
    overdue = steward.split("Overdue acknowledgements")[1].split("Expunge notices due")[0]
    expunge = steward.split("Expunge notices due")[1]
    assert "COC-1" in waiting and "COC-2" not in waiting
    assert "COC-2" in overdue and "acknowledgement was due" in overdue and "COC-1" not in overdue
    assert "COC-3" in expunge and "expunged" in expunge and "COC-1" not in expunge
    assert "mocked" not in steward and "alex@example.net" not in steward
    other = home(stack, "U_STEW2")
    assert "Nothing is waiting on you." in other and "COC-2" in other
    member = home(stack, "U_ALEX")
    assert "Waiting on you" not in member and "Expunge notices due" not in member
