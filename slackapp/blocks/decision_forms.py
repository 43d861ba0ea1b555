"""Modals for deciding: a decision on the enforcement ladder, an appeal decision,
accepting a late appeal, and the appeal form a reporter or reported person fills in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.policy import OUTCOMES, Option
from slackapp.blocks.common import Block, context, modal, plain

DECISION_CALLBACK = "decision_form"
APPEAL_DECISION_CALLBACK = "appeal_decision_form"
LATE_APPEAL_CALLBACK = "late_appeal_form"
APPEAL_CALLBACK = "appeal_form"
TEXT_LIMIT = 3000
APPEAL_RESULTS = (
    Option("uphold", "Uphold the decision"),
    Option("modify", "Modify it (choose the new outcome below)"),
    Option("overturn", "Overturn it"),
)


def _input(block_id: str, label: str, element: Block, optional: bool = True) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }


def _text(multiline: bool = True) -> Block:
    return {"type": "plain_text_input", "multiline": multiline}


def _select(options: tuple[Option, ...], radio: bool = False) -> Block:
    return {
        "type": "radio_buttons" if radio else "static_select",
        "options": [{"text": plain(o.label[:75]), "value": o.value} for o in options],
    }


def _terms() -> list[Block]:
    return [
        _input("other_description", "If other: what is it?", _text(False)),
        _input("ban_until", "Temporary ban ends on", {"type": "datepicker"}),
        _input("no_contact_until", "No contact with the reporter until", {"type": "datepicker"}),
        _input("remove_roles", "Roles removed, if any", _text(False)),
        _input("rationale", "Rationale (stewards only)", _text()),
        _input("message_to_reported", "Message to the reported person", _text()),
        _input("message_to_reporter", "Message to the reporter", _text()),
    ]


def decision_modal(case_id: int, ref: str, appeal_days: str) -> Block:
    blocks = [
        context(
            f"Both people are told the outcome, with their right to appeal in writing within "
            f"{appeal_days} days and the exact deadline."
        ),
        _input("outcome", "Outcome", _select(OUTCOMES), optional=False),
        *_terms(),
    ]
    return modal(
        f"Decide · {ref}",
        blocks,
        callback_id=DECISION_CALLBACK,
        submit="Record decision",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def appeal_decision_modal(case_id: int, ref: str) -> Block:
    blocks = [
        context("An appeal decision is final; the notices say so and the case closes."),
        _input("result", "Result", _select(APPEAL_RESULTS, radio=True), optional=False),
        _input("outcome", "New outcome (if modified)", _select(OUTCOMES)),
        *_terms(),
    ]
    return modal(
        f"Appeal · {ref}",
        blocks,
        callback_id=APPEAL_DECISION_CALLBACK,
        submit="Record and close",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def late_appeal_modal(case_id: int, ref: str) -> Block:
    return modal(
        f"Late appeal · {ref}",
        [
            context(
                "The appeal arrived after its window closed. Accepting it is your explicit "
                "choice, and your reason is recorded."
            ),
            _input("reason", "Why accept it?", _text(), optional=False),
        ],
        callback_id=LATE_APPEAL_CALLBACK,
        submit="Accept appeal",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def appeal_modal(case_id: int, ref: str) -> Block:
    return modal(
        f"Appeal · {ref}",
        [
            context(
                "Write why you think the decision should change. The stewards who review "
                "appeals will read it; their decision on it is final."
            ),
            _input("appeal", "Your appeal", _text(), optional=False),
        ],
        callback_id=APPEAL_CALLBACK,
        submit="Send appeal",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


@dataclass
class DecisionAnswers:
    outcome: str | None
    result: str | None
    other_description: str | None
    ban_until: datetime | None
    no_contact_until: datetime | None
    remove_roles: str | None
    rationale: str
    message_to_reported: str
    message_to_reporter: str


def read_decision(values: dict[str, Any]) -> DecisionAnswers:
    def field(block_id: str) -> dict[str, Any]:
        return (values.get(block_id) or {}).get(block_id) or {}

    def text(block_id: str) -> str:
        return (field(block_id).get("value") or "").strip()

    def option(block_id: str) -> str | None:
        return (field(block_id).get("selected_option") or {}).get("value")

    def date(block_id: str) -> datetime | None:
        value = field(block_id).get("selected_date")
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    return DecisionAnswers(
        outcome=option("outcome"),
        result=option("result"),
        other_description=text("other_description") or None,
        ban_until=date("ban_until"),
        no_contact_until=date("no_contact_until"),
        remove_roles=text("remove_roles") or None,
        rationale=text("rationale"),
        message_to_reported=text("message_to_reported"),
        message_to_reporter=text("message_to_reporter"),
    )


def too_long(values: dict[str, Any]) -> dict[str, str]:
    """Inline errors for any text over the limit, keyed by its block."""
    errors = {}
    for block_id, fields in values.items():
        for value in (fields or {}).values():
            text = (value or {}).get("value") or ""
            if len(text) > TEXT_LIMIT:
                errors[block_id] = f"This is {len(text)} characters; the limit is {TEXT_LIMIT}."
    return errors


def error_block(message: str) -> str:
    """Which field a refusal from the core is about, so the error shows beside it."""
    lowered = message.lower()
    for needle, block in (
        ("no-contact", "no_contact_until"),
        ("ban", "ban_until"),
        ("describe", "other_description"),
        ("other", "other_description"),
        ("reported person", "message_to_reported"),
        ("reporter", "message_to_reporter"),
    ):
        if needle in lowered:
            return block
    return "outcome"
