"""The report form: the modal both shortcuts open, and reading its answers back.

Its questions come from what the codes of conduct ask a report to contain:
what happened, when and where, who was involved, whether it is ongoing or
anyone is in danger, anonymity, and how to get back to the reporter. The code
in force adds its categories and its own questions (block ids `q_<id>`), and
may ask the danger question first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.policy import CONTACT_PREFERENCES, Code, Option
from slackapp.blocks.common import Block, clip, context, escape, modal, plain, section
from slackapp.files import file_refs, size_text

CALLBACK_ID = "report_form"
LIMITS = {"what": 3000, "when": 200, "where": 200, "people_text": 1000, "email": 254}
QUESTION_LIMIT = 1000
QUESTION_PREFIX = "q_"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _options(options: tuple[Option, ...]) -> list[Block]:
    return [{"text": plain(o.label[:75]), "value": o.value} for o in options]


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = True, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _text_input(multiline: bool = False, placeholder: str | None = None) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline}
    if placeholder:
        element["placeholder"] = plain(placeholder)
    return element


def _users(initial: list[str] | None = None) -> Block:
    element: Block = {"type": "multi_users_select", "placeholder": plain("Choose people")}
    if initial:
        element["initial_users"] = initial
    return element


def reported_author(snapshot: dict[str, Any] | None) -> list[str]:
    """The reported message's author, suggested as the reported person (a member, not an
    app); the reporter can remove them before sending."""
    if not snapshot or snapshot.get("bot_id") or not snapshot.get("user"):
        return []
    return [snapshot["user"]]


def _evidence(max_files: int, max_bytes: int) -> Block:
    """Slack's file input: screenshots are the most common evidence in a chat community."""
    most = max(1, min(10, max_files))
    return _input(
        "evidence",
        "Screenshots or other files",
        {"type": "file_input", "max_files": most},
        hint=f"Up to {most} files of {size_text(max_bytes)} each. Only the stewards see them.",
    )


def _urgency(danger_first: bool) -> Block:
    return _input(
        "urgency",
        "First: is anyone in danger right now?" if danger_first else "Is it still happening?",
        {
            "type": "checkboxes",
            "options": [
                {"text": plain("It is still going on"), "value": "ongoing"},
                {"text": plain("Someone is in immediate danger"), "value": "danger"},
            ],
        },
    )


def _questions(code: Code) -> list[Block]:
    return [
        _input(
            f"{QUESTION_PREFIX}{q.id}",
            q.label,
            _text_input(q.multiline),
            optional=not q.required,
            hint=q.hint,
        )
        for q in code.questions
    ]


def report_modal(
    code: Code,
    snapshot: dict[str, Any] | None = None,
    snapshot_token: str | None = None,
    *,
    max_files: int = 10,
    max_bytes: int = 5 * 1024 * 1024,
) -> Block:
    blocks: list[Block] = [
        section(
            "Tell the stewards what happened. Only the community's stewards can read "
            "this, and every read is recorded. If you are not sure it counts, send it anyway."
        )
    ]
    if code.danger_first:
        blocks.append(_urgency(True))
    if snapshot:
        blocks += snapshot_blocks(snapshot)
    categories = tuple(Option(c.id, c.label) for c in code.categories)
    blocks += [
        _input(
            "what",
            "What happened?",
            _text_input(True, "In your own words; as much or as little as you like"),
            optional=False,
        ),
        _input(
            "category",
            "What kind of behaviour was it?",
            {"type": "static_select", "options": _options(categories)},
        ),
        *_questions(code),
        _evidence(max_files, max_bytes),
        _input("when", "When did it happen?", _text_input(placeholder="e.g. Tuesday evening")),
        _input("where", "Where did it happen?", _text_input(placeholder="a channel, event, DM...")),
        _input("reported_users", "Who are you reporting?", _users(reported_author(snapshot))),
        _input("affected_users", "Who was affected?", _users()),
        _input("witness_users", "Did anyone else see it?", _users()),
        _input(
            "people_text",
            "Anyone else involved who is not in this Slack?",
            _text_input(True),
            hint="Names or how to recognise them, and their role (reported, affected, witness).",
        ),
        *([] if code.danger_first else [_urgency(False)]),
        _input(
            "anonymous",
            "Should the stewards know it was you?",
            {
                "type": "radio_buttons",
                "options": [
                    {"text": plain("Yes, they may know it was me"), "value": "no"},
                    {"text": plain("No, keep me anonymous to the stewards"), "value": "yes"},
                ],
                "initial_option": {"text": plain("Yes, they may know it was me"), "value": "no"},
            },
            optional=False,
            hint="Anonymous reports reach the stewards through the Steward bot; "
            "they never see your name.",
        ),
        _input(
            "contact",
            "How may the stewards reach you?",
            {
                "type": "radio_buttons",
                "options": _options(CONTACT_PREFERENCES),
                "initial_option": _options(CONTACT_PREFERENCES)[0],
            },
            optional=False,
        ),
        _input("email", "Email address (if you chose email)", _text_input()),
    ]
    metadata = json.dumps({"snapshot": snapshot_token}) if snapshot_token else ""
    return modal(
        "Report a concern",
        blocks,
        callback_id=CALLBACK_ID,
        submit="Send to stewards",
        close="Cancel",
        private_metadata=metadata,
    )


def snapshot_blocks(snapshot: dict[str, Any]) -> list[Block]:
    """The reported message as it was, shown back to the reporter in the form."""
    author = snapshot.get("user") or snapshot.get("bot_id") or "someone"
    channel = escape(snapshot.get("channel_name") or snapshot.get("channel") or "a conversation")
    excerpt = clip(snapshot.get("text") or "", 2500)
    blocks = [
        context(f"You are reporting a message by <@{author}> in {channel}:"),
        section(f">{excerpt}" if excerpt else "_(the message has no text)_"),
    ]
    names = [str(f.get("name") or "a file") for f in snapshot.get("files") or []]
    if names:
        listed = clip(", ".join(names), 1800)
        blocks.append(
            context(
                f"With {len(names)} file(s): {listed}. "
                "Steward keeps a copy where it can, and tells you which."
            )
        )
    return blocks


@dataclass
class ReportAnswers:
    what: str = ""
    category: str | None = None
    when: str | None = None
    where: str | None = None
    reported_users: list[str] = field(default_factory=list)
    affected_users: list[str] = field(default_factory=list)
    witness_users: list[str] = field(default_factory=list)
    people_text: str | None = None
    ongoing: bool = False
    danger: bool = False
    anonymous: bool = False
    contact: str = "slack_dm"
    email: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)


def read_answers(values: dict[str, dict[str, Any]]) -> ReportAnswers:
    """Slack's `state.values` into plain answers; missing blocks read as unanswered."""

    def field_of(block_id: str) -> dict[str, Any]:
        return (values.get(block_id) or {}).get(block_id) or {}

    def text_of(block_id: str) -> str | None:
        value = field_of(block_id).get("value")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def selected(block_id: str) -> str | None:
        option = field_of(block_id).get("selected_option") or {}
        return option.get("value")

    urgency = {o.get("value") for o in field_of("urgency").get("selected_options") or []}
    return ReportAnswers(
        what=text_of("what") or "",
        category=selected("category"),
        when=text_of("when"),
        where=text_of("where"),
        reported_users=list(field_of("reported_users").get("selected_users") or []),
        affected_users=list(field_of("affected_users").get("selected_users") or []),
        witness_users=list(field_of("witness_users").get("selected_users") or []),
        people_text=text_of("people_text"),
        ongoing="ongoing" in urgency,
        danger="danger" in urgency,
        anonymous=selected("anonymous") == "yes",
        contact=selected("contact") or "slack_dm",
        email=text_of("email"),
        answers={
            block_id[len(QUESTION_PREFIX) :]: answer
            for block_id in values
            if block_id.startswith(QUESTION_PREFIX) and (answer := text_of(block_id))
        },
        files=file_refs(field_of("evidence").get("files")),
    )


def not_stored() -> dict[str, str]:
    """The inline error when the report could not be stored: the form stays open with
    every answer in it, so nothing is lost and submitting again is one click."""
    return {
        "what": "Steward could not store your report just now, so it has not been sent. "
        "Your answers are still here: please submit again in a minute."
    }


def validate(answers: ReportAnswers, code: Code) -> dict[str, str]:
    """Inline errors keyed by block_id; empty means the report can be filed."""
    errors: dict[str, str] = {}
    if not answers.what:
        errors["what"] = "Please say what happened, even briefly."
    if answers.category is not None and answers.category not in {c.id for c in code.categories}:
        errors["category"] = "Choose one of the kinds of behaviour listed."
    for question in code.questions:
        answer = answers.answers.get(question.id) or ""
        block_id = f"{QUESTION_PREFIX}{question.id}"
        if question.required and not answer:
            errors[block_id] = "Please answer this question; the code of conduct asks for it."
        elif len(answer) > QUESTION_LIMIT:
            errors[block_id] = (
                f"This is {len(answer)} characters; the limit is {QUESTION_LIMIT}. "
                "Please shorten it, and send the rest as a message to the Steward bot afterwards."
            )
    for block_id, limit in LIMITS.items():
        value = getattr(answers, block_id) or ""
        if len(value) > limit:
            errors[block_id] = (
                f"This is {len(value)} characters; the limit is {limit}. "
                "Please shorten it, and send the rest as a message to the Steward bot afterwards."
            )
    if answers.contact == "email" and not answers.email:
        errors["email"] = "Add the address you would like the stewards to write to."
    elif answers.email and not EMAIL.match(answers.email) and "email" not in errors:
        errors["email"] = "That does not look like an email address."
    return errors
