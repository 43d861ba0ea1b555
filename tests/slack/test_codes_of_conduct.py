"""Each community's code of conduct drives the whole path, through the emulator (real
signed HTTP both ways): the report form, the decision modal and the terms it requires,
the notices' appeal wording, the appeal deadline (or none), the checklist, the
hearing rule, and the appeal where the code has one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.casework import cases as case_service
from core.casework.deadlines import DeadlineKind, pending
from core.decisions.decisions import appeal_deadline, latest_decision
from core.infra.clock import human_exact, utcnow
from core.infra.models import AuditEvent
from core.infra.settings import Settings
from tests.slack.conftest import Stack, form_values

REPORTER, REPORTED, STEWARD = "U_ALEX", "U_BLAIR", "U_STEW1"


@pytest.fixture
def preset() -> str:
    return "contributor-covenant-2.1"


@pytest.fixture
def settings(settings: Settings, preset: str) -> Settings:
    return replace(settings, code_of_conduct=preset)


def text(block_id: str, value: str) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}


def choice(block_id: str, value: str) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "static_select", "selected_option": {"value": value}}}}


def date(block_id: str, value: str) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "datepicker", "selected_date": value}}}


def messages(outcome: str, **extra: dict[str, Any]) -> dict[str, Any]:
    values = {
        **choice("outcome", outcome),
        **text("rationale", "Seen in the logs."),
        **text("message_to_reported", "Please read the terms below."),
        **text("message_to_reporter", "Thank you for telling us."),
    }
    for part in extra.values():
        values.update(part)
    return values


def report(stack: Stack, **answers: Any) -> dict[str, Any]:
    """File a report through the form; return the form as the reporter saw it."""
    opened = stack.emulator.global_shortcut(REPORTER, "report_concern")
    view = opened["views"][0]
    values = form_values(**{k: v for k, v in answers.items() if k != "extra"})
    values.update(answers.get("extra") or {})
    answer = stack.emulator.submit(REPORTER, view["id"], values)
    assert answer.get("view_closed") is True, answer
    stack.drain()
    return view


def root(stack: Stack) -> dict[str, Any]:
    return next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))


def click(stack: Stack, action: str, value: str = "1") -> dict[str, Any]:
    return stack.emulator.click(
        STEWARD, action, value=value, channel="G_STAFF", message_ts=root(stack)["ts"]
    )


def options(view: dict[str, Any], block_id: str) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return [o["value"] for o in block["element"]["options"]]


def input_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("type") == "input"]


def decide(stack: Stack, values: dict[str, Any]) -> dict[str, Any]:
    opened = click(stack, "case_decide")
    answer = stack.emulator.submit(STEWARD, opened["views"][0]["id"], values)
    stack.drain()
    return {"view": opened["views"][0], "answer": answer}


def refused_without(
    stack: Stack, outcome: str, field: str, error: str, term: dict[str, Any]
) -> dict[str, Any]:
    """The outcome without the term its code requires is refused beside that field;
    with the term it is recorded. Returns the decision modal as the steward saw it."""
    decided = decide(stack, messages(outcome))
    assert decided["answer"]["errors"] == {field: error}
    again = decide(stack, messages(outcome, term=term))
    assert again["answer"]["view_closed"] is True
    return decided["view"]


def notice(stack: Stack, user: str) -> str:
    """The words of the latest DM to `user`, as the sections show them."""
    last = stack.dm_messages(user)[-1]
    return "\n".join(b["text"]["text"] for b in last.get("blocks", []) if b.get("text"))


def has_appeal_button(stack: Stack, user: str) -> bool:
    return "case_appeal" in json.dumps(stack.dm_messages(user)[-1].get("blocks", []))


def status(stack: Stack) -> str:
    with stack.db.session() as session:
        return case_service.get_case(session, "COC-1").status


def decision_times(stack: Stack) -> tuple[Any, Any]:
    with stack.db.session() as session:
        decision = latest_decision(session, 1)
        assert decision is not None
        return decision.created_at, decision.appeal_deadline


def closed_without_window(stack: Stack) -> bool:
    """The decision closed the case at once: its code gives no appeal window."""
    return status(stack) == "closed" and decision_times(stack)[1] is None


def appeal(stack: Stack, user: str, words: str) -> None:
    dm = stack.emulator.state()["dms"][user]
    last = stack.dm_messages(user)[-1]
    opened = stack.emulator.click(user, "case_appeal", channel=dm, message_ts=last["ts"], value="1")
    answer = stack.emulator.submit(user, opened["views"][0]["id"], text("appeal", words))
    assert answer.get("view_closed") is True, answer
    stack.drain()


def decide_appeal(stack: Stack, result: str) -> None:
    opened = click(stack, "case_decide_appeal")
    values = {
        "result": {"result": {"type": "radio_buttons", "selected_option": {"value": result}}},
        **text("rationale", "Reviewed."),
        **text("message_to_reported", "We looked again."),
        **text("message_to_reporter", "We looked again."),
    }
    answer = stack.emulator.submit(STEWARD, opened["views"][0]["id"], values)
    assert answer.get("view_closed") is True, answer
    stack.drain()


@pytest.mark.parametrize("preset", ["pytorch"])
def test_pytorch_appeals_in_writing_to_conduct_within_30_days_and_final(stack: Stack) -> None:
    form = report(
        stack,
        category="event_concern",
        extra=text("q_event", "The Paris meetup next week"),
    )
    assert "event_concern" in options(form, "category")
    assert "q_event" in input_ids(form)
    decided = decide(stack, messages("role_removal"))
    assert decided["view"]["blocks"][0]["elements"][0]["text"].startswith(
        "Both people are told the outcome, with their right to appeal in writing to the "
        "PyTorch Foundation at conduct@pytorch.org within 30 days and the exact deadline."
    )
    assert options(decided["view"], "outcome") == [
        "no_violation",
        "warning",
        "temporary_ban",
        "permanent_ban",
        "role_removal",
        "event_expulsion",
        "authorities",
        "other",
    ]
    assert decided["answer"]["errors"] == {
        "remove_roles": "This outcome (Removal from leadership or contributor roles) needs "
        "the roles removed."
    }
    opened = click(stack, "case_decide")
    values = messages("role_removal", roles=text("remove_roles", "maintainer of the docs"))
    assert stack.emulator.submit(STEWARD, opened["views"][0]["id"], values)["view_closed"]
    stack.drain()
    assert status(stack) == "awaiting_appeal"
    decided_at, deadline = decision_times(stack)
    assert deadline == appeal_deadline(30, decided_at)
    words = notice(stack, REPORTED)
    assert "The stewards applied the PyTorch Foundation Code of Conduct (https://pytorch.org)." in (
        words
    )
    assert "- Removal from the roles listed below." in words
    assert "- You are removed from these roles: maintainer of the docs." in words
    assert (
        "You may appeal this decision in writing to the PyTorch Foundation at "
        f"conduct@pytorch.org until {human_exact(deadline)}." in words
    )
    assert "The stewards will review an appeal, and their decision on it is final." in words
    with stack.db.session() as session:
        kinds = {d.kind for d in pending(session, 1)}
    assert DeadlineKind.APPEAL_WINDOW in kinds
    # The reported person appeals from their DM; the answer is final.
    appeal(stack, REPORTED, "I was not a maintainer then.")
    assert status(stack) == "appeal_review"
    assert "Their decision on the appeal is final." in notice(stack, REPORTED)
    decide_appeal(stack, "uphold")
    assert status(stack) == "closed"
    assert "This decision is final: it cannot be appealed again." in notice(stack, REPORTED)


@pytest.mark.parametrize("preset", ["openinfra"])
def test_openinfra_asks_danger_first_hears_the_accused_and_states_no_appeal(
    stack: Stack,
) -> None:
    form = report(stack, category="stalking", extra=text("q_anonymity", "Yes please"))
    assert form["blocks"][1]["block_id"] == "urgency"  # the danger question comes first
    assert form["blocks"][1]["label"]["text"] == "First: is anyone in danger right now?"
    steps = [b for b in root(stack)["blocks"] if b.get("accessory")]
    assert len(steps) == 8
    assert steps[0]["text"]["text"] == (
        ":white_large_square: Check for immediate or physical danger; if there is any, "
        "call the local authorities."
    )
    # Deciding before the reported person is heard is refused, beside the outcome.
    decided = decide(stack, messages("cease_and_warn"))
    assert decided["answer"]["errors"] == {
        "outcome": "The OpenInfra Foundation Code of Conduct requires hearing the reported "
        "person before any decision. Ask for their side and wait for their answer or tick "
        "“Tell the alleged offender about the complaint and hear their response.” on the "
        "checklist, then decide."
    }
    assert options(decided["view"], "outcome")[:3] == [
        "no_violation",
        "cease_and_warn",
        "avoid_contact",
    ]
    assert status(stack) == "new"
    # A steward ticks the steps with the buttons on the thread root; each tick is audited.
    click(stack, "case_step_done", "1:danger")
    click(stack, "case_step_done", "1:hear")
    stack.drain()
    ticked = [b["text"]["text"] for b in root(stack)["blocks"] if b.get("accessory")]
    assert ticked[0].startswith(":white_check_mark: Check for immediate")
    assert "*Response steps* (2 of 8 done)" in json.dumps(root(stack)["blocks"])
    with stack.db.session() as session:
        audited = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "checklist.ticked")
        ).all()
    assert [(d["step"], d["done"]) for d in audited] == [("danger", True), ("hear", True)]
    # Avoiding contact is one of its actions, and it needs its no-contact term.
    until = (utcnow() + timedelta(days=90)).date().isoformat()
    refused_without(
        stack,
        "avoid_contact",
        "no_contact_until",
        "This outcome (Avoid all interaction and proximity) needs a no-contact term.",
        date("no_contact_until", until),
    )
    # No appeal: the decision closes the case, with no appeal window and no button.
    assert closed_without_window(stack)
    words = notice(stack, REPORTED)
    assert (
        "The OpenInfra Foundation Code of Conduct provides no appeal, so this decision is final."
        in (words)
    )
    assert "Your right to appeal" not in words and not has_appeal_button(stack, REPORTED)
    with stack.db.session() as session:
        assert DeadlineKind.APPEAL_WINDOW not in {d.kind for d in pending(session, 1)}


@pytest.mark.parametrize("preset", ["act"])
def test_act_warns_or_bans_may_post_a_public_comment_and_has_no_appeal(stack: Stack) -> None:
    report(stack, category="intimidation")
    with stack.db.session() as session:
        opened = case_service.get_case(session, "COC-1")
        ack = next(d for d in pending(session, 1) if d.kind == DeadlineKind.ACKNOWLEDGEMENT)
        assert ack.due_at - opened.created_at == timedelta(hours=12)  # the code's own deadline
    decided = decide(
        stack, messages("no_violation", statement=text("public_statement", "All clear."))
    )
    assert options(decided["view"], "outcome") == [
        "no_violation",
        "minor_warning",
        "serious_ban",
        "expulsion",
    ]
    assert decided["answer"]["errors"] == {
        "public_statement": "This outcome (No violation found) allows no public statement."
    }
    statement = text("public_statement", "We have acted on a report about the meetup.")
    decided = decide(stack, messages("minor_warning", statement=statement))
    assert decided["answer"]["view_closed"] is True
    assert status(stack) == "closed"
    with stack.db.session() as session:
        decision = latest_decision(session, 1)
        assert decision is not None and decision.appeal_deadline is None
        assert decision.public_statement == "We have acted on a report about the meetup."
    words = notice(stack, REPORTED)
    assert "- A warning for a minor violation. Repeating it may lead to a ban." in words
    assert "What was decided" not in notice(stack, REPORTER)
    assert (
        "The Alliance of Civic Technologists Code of Conduct provides no appeal, so this "
        "decision is final." in words
    )
    assert not has_appeal_button(stack, REPORTED)


@pytest.mark.parametrize("preset", ["all-tech-is-human"])
def test_all_tech_is_human_appeals_go_to_the_leadership_with_no_window(stack: Stack) -> None:
    form = report(stack, category="funds", extra=text("q_context", "It happened twice."))
    assert "funds" in options(form, "category") and "q_context" in input_ids(form)
    no_contact = date("no_contact_until", (utcnow() + timedelta(days=30)).date().isoformat())
    error = "This outcome (Warning, with no contact for a set period) needs a no-contact term."
    refused_without(stack, "warning", "no_contact_until", error, no_contact)
    # No window: the case closes with the decision and no deadline is set.
    assert closed_without_window(stack)
    for user in (REPORTER, REPORTED):
        words = notice(stack, user)
        assert (
            "You may appeal this decision in writing to the All Tech Is Human community "
            "leadership, with no time limit." in words
        )
        assert "The stewards will review an appeal and answer in writing." in words
        assert "final" not in words and has_appeal_button(stack, user)
    # The reporter is told the final action; an appeal reopens the case for review.
    assert "- A warning. Until the date below" in notice(stack, REPORTED)
    assert (
        "What was decided: Warning, with no contact for a set period; no contact until "
        in notice(stack, REPORTER)
    )
    appeal(stack, REPORTER, "A warning is not enough.")
    assert status(stack) == "appeal_review"
    assert "The code of conduct does not make their answer final." in notice(stack, REPORTER)
    decide_appeal(stack, "uphold")
    assert status(stack) == "closed"
    final = notice(stack, REPORTER)
    assert "This is the answer to your appeal, and the case is now closed." in final
    assert "cannot be appealed again" not in final


@pytest.mark.parametrize("preset", ["ai-alliance"])
def test_ai_alliance_warning_carries_a_no_contact_term_and_bans_have_a_period(
    stack: Stack,
) -> None:
    report(stack, category="privacy")
    ends = (utcnow() + timedelta(days=60)).date().isoformat()
    view = refused_without(
        stack,
        "temporary_ban",
        "ban_until",
        "This outcome (Temporary ban for a set period) needs an end date.",
        date("ban_until", ends),
    )
    assert options(view, "outcome") == [
        "no_violation",
        "correction",
        "warning",
        "temporary_ban",
        "permanent_ban",
    ]
    assert closed_without_window(stack)
    words = notice(stack, REPORTED)
    assert "- A temporary ban from all interaction with the AI Alliance, until " in words
    assert "The AI Alliance Code of Conduct provides no appeal, so this decision is final." in words
    assert not has_appeal_button(stack, REPORTED)
    with stack.db.session() as session:
        kinds = {d.kind for d in pending(session, 1)}
    # Closing starts the retention clock; the ban's end stays promised.
    assert kinds == {DeadlineKind.RETENTION_STARTS, DeadlineKind.BAN_ENDS}


def test_the_default_keeps_todays_ladder_and_thirty_day_window(stack: Stack) -> None:
    report(stack)
    decided = decide(stack, messages("warning"))
    assert decided["answer"]["view_closed"] is True
    assert status(stack) == "awaiting_appeal"
    decided_at, deadline = decision_times(stack)
    assert deadline == appeal_deadline(stack.settings.appeal_days, decided_at)
    words = notice(stack, REPORTED)
    assert f"You may appeal this decision in writing until {human_exact(deadline)}." in words
    assert "The stewards applied the Contributor Covenant, version 2.1" in words
    assert "*Response steps*" not in json.dumps(root(stack)["blocks"])
