"""Modals for deciding: a decision on the enforcement ladder, an appeal decision,
accepting a late appeal, and the appeal form a reporter or reported person fills in.

The outcomes, and the term fields beside them, come from the case's code of
conduct: a field appears only when some outcome takes it, and its hint says which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.policy import Code, DecisionOption, Need, Option
from slackapp.blocks.common import Block, clip, context, modal, picked_date, plain

DECISION_CALLBACK = "decision_form"
APPEAL_DECISION_CALLBACK = "appeal_decision_form"
LATE_APPEAL_CALLBACK = "late_appeal_form"
KEEP_LONGER_CALLBACK = "keep_longer_form"
APPEAL_CALLBACK = "appeal_form"
TEXT_LIMIT = 3000
APPEAL_RESULTS = (
    Option("uphold", "Uphold the decision"),
    Option("modify", "Modify it (choose the new outcome below)"),
    Option("overturn", "Overturn it"),
)


def _input(
    block_id: str, label: str, element: Block, optional: bool = True, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint[:150])
    return block


def _text(multiline: bool = True) -> Block:
    return {"type": "plain_text_input", "multiline": multiline}


def _select(options: tuple[Option, ...], radio: bool = False) -> Block:
    return {
        "type": "radio_buttons" if radio else "static_select",
        "options": [{"text": plain(o.label[:75]), "value": o.value} for o in options],
    }


def _outcomes(code: Code) -> tuple[Option, ...]:
    return tuple(Option(o.id, o.label) for o in code.decisions)


def _which(code: Code, takes: Any) -> str | None:
    """Which outcomes need a term and which allow it, for the field's hint."""
    needed = [o.label for o in code.decisions if takes(o) == Need.REQUIRED]
    allowed = [o.label for o in code.decisions if takes(o) == Need.OPTIONAL]
    parts = []
    if needed:
        parts.append("Needed for: " + "; ".join(needed))
    if allowed:
        parts.append("Optional for: " + "; ".join(allowed))
    return ". ".join(parts) or None


def _term_field(code: Code, block_id: str, label: str, element: Block, takes: Any) -> list[Block]:
    hint = _which(code, takes)
    return [_input(block_id, label, element, hint=hint)] if hint else []


def _terms(code: Code) -> list[Block]:
    def flag(on: bool) -> Need:
        return Need.OPTIONAL if on else Need.NEVER

    def described(o: DecisionOption) -> Need:
        return Need.REQUIRED if o.describe else Need.NEVER

    return [
        *_term_field(
            code, "other_description", "If described: what is it?", _text(False), described
        ),
        *_term_field(code, "ban_until", "Ends on", {"type": "datepicker"}, lambda o: o.end_date),
        *_term_field(
            code,
            "no_contact_until",
            "No contact with the people involved until",
            {"type": "datepicker"},
            lambda o: o.no_contact,
        ),
        *_term_field(
            code, "remove_roles", "Roles removed", _text(False), lambda o: o.removes_roles
        ),
        *_term_field(
            code,
            "public_statement",
            "Public statement (posted by the stewards)",
            _text(),
            lambda o: flag(o.public_statement),
        ),
        _input("rationale", "Rationale (stewards only)", _text()),
        _input("message_to_reported", "Message to the reported person", _text()),
        _input("message_to_reporter", "Message to the reporter", _text()),
    ]


def decision_modal(
    case_id: int, ref: str, code: Code, hint: str, earlier: tuple[str, ...] = ()
) -> Block:
    """The ladder, with the earlier outcomes of the people on the case beside it."""
    blocks = [
        context(f"{hint} The options are those of {code.title}."),
        *([context(clip("*Earlier outcomes:* " + "; ".join(earlier), 2000))] if earlier else []),
        _input("outcome", "Outcome", _select(_outcomes(code)), optional=False),
        *_terms(code),
    ]
    return modal(
        f"Decide · {ref}",
        blocks,
        callback_id=DECISION_CALLBACK,
        submit="Record decision",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def appeal_decision_modal(case_id: int, ref: str, code: Code) -> Block:
    final = "is final; the notices say so" if code.appeal.final else "is not final under the code"
    blocks = [
        context(f"An appeal decision {final}, and the case closes."),
        _input("result", "Result", _select(APPEAL_RESULTS, radio=True), optional=False),
        _input("outcome", "New outcome (if modified)", _select(_outcomes(code))),
        *_terms(code),
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
    return _reason_modal(
        case_id,
        f"Late appeal · {ref}",
        "The appeal arrived after its window closed. Accepting it is your explicit "
        "choice, and your reason is recorded.",
        "Why accept it?",
        LATE_APPEAL_CALLBACK,
        "Accept appeal",
    )


def keep_longer_modal(case_id: int, ref: str) -> Block:
    return _reason_modal(
        case_id,
        f"Keep longer · {ref}",
        "The case will be kept for another retention period of its outcome, counted "
        "from today. Your reason is recorded on the case.",
        "Why keep it longer?",
        KEEP_LONGER_CALLBACK,
        "Keep longer",
    )


def _reason_modal(
    case_id: int, title: str, explanation: str, label: str, callback_id: str, submit: str
) -> Block:
    """A steward's explicit choice on a case, which needs a reason (kept on the record)."""
    return modal(
        title,
        [context(explanation), _input("reason", label, _text(), optional=False)],
        callback_id=callback_id,
        submit=submit,
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
    public_statement: str | None
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
        return picked_date(field(block_id).get("selected_date"))

    return DecisionAnswers(
        outcome=option("outcome"),
        result=option("result"),
        other_description=text("other_description") or None,
        ban_until=date("ban_until"),
        no_contact_until=date("no_contact_until"),
        remove_roles=text("remove_roles") or None,
        public_statement=text("public_statement") or None,
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


def error_block(message: str, field: str | None = None) -> str:
    """Which field a refusal from the core is about, so the error shows beside it."""
    if field:
        return field
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
