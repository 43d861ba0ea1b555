"""Modals stewards fill in from a case thread: a reply to the reporter, a question
to the reported person."""

from __future__ import annotations

import json
from datetime import datetime

from slackapp.blocks.common import Block, context, modal, picked_date, plain

REPLY_CALLBACK = "case_reply_form"
ASK_CALLBACK = "case_ask_form"
MESSAGE_LIMIT = 3000


def _message_input(label: str) -> Block:
    return {
        "type": "input",
        "block_id": "message",
        "label": plain(label),
        "element": {"type": "plain_text_input", "action_id": "message", "multiline": True},
    }


def reply_modal(case_id: int, ref: str, via: str, anonymous: bool) -> Block:
    who = "the reporter (anonymously, through the bot)" if anonymous else "the reporter"
    return modal(
        f"Reply · {ref}",
        [
            context(f"This goes to {who} {via}, signed by Steward, not by you."),
            _message_input("Your message"),
        ],
        callback_id=REPLY_CALLBACK,
        submit="Send",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def ask_modal(case_id: int, ref: str, via: str) -> Block:
    return modal(
        f"Their side · {ref}",
        [
            context(
                f"This goes to the reported person {via}, signed by Steward. "
                "Do not reveal who reported them."
            ),
            _message_input("What would you like to ask?"),
            {
                "type": "input",
                "block_id": "respond_by",
                "label": plain("Answer wanted by (optional; the thread is reminded)"),
                "element": {"type": "datepicker", "action_id": "respond_by"},
                "optional": True,
            },
        ],
        callback_id=ASK_CALLBACK,
        submit="Send",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case_id}),
    )


def read_message(values: dict) -> str:
    return ((values.get("message") or {}).get("message") or {}).get("value") or ""


def read_respond_by(values: dict) -> datetime | None:
    chosen = ((values.get("respond_by") or {}).get("respond_by") or {}).get("selected_date")
    return picked_date(chosen)
