"""Direct messages from the Steward bot to a reporter or a reported person.

They speak for the stewards as a group: a steward's relayed words go out under
Steward's name, never the steward's own.
"""

from __future__ import annotations

from typing import Any

from core.intake import attachments
from slackapp.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    section,
    text_sections,
)

EMERGENCY = (
    ":sos: If you or anyone else is in immediate danger, contact your local emergency "
    "services first (for example 112 in Europe or 911 in North America). The stewards "
    "have been alerted, but they cannot send help."
)


# Why a file was not kept, in the reporter's terms (codes from core/intake/attachments.py).
REFUSED_BECAUSE = {
    **attachments.REFUSED_BECAUSE,
    "unavailable": "Steward could not fetch it from Slack; please try sending it again",
    "no_case": "you have no open report to add it to",
}


def direct_message(payload: dict[str, Any]) -> tuple[str, list[Block]]:
    """The fallback text and blocks for a queued direct message."""
    message = payload.get("message")
    details = dict(payload.get("details") or {})
    builder = BUILDERS.get(message or "", _plain_text)
    return builder(payload.get("text"), details)


def _report_received(_text: str | None, d: dict[str, Any]) -> tuple[str, list[Block]]:
    ref, code = d.get("ref", ""), d.get("code_name", "")
    fallback = f"Your report is case {ref} ({code})."
    lines = [
        f"*Thank you. Your report reached the stewards as case {ref}* (code name _{code}_).",
        f"• A steward will acknowledge it by {d.get('ack_due', 'within a day')}.",
        "• You can reply here at any time to add details or evidence; "
        + (
            "the stewards will see it without your name."
            if d.get("anonymous")
            else "it goes straight into your case."
        ),
        "• When the stewards decide, you will hear the outcome here. "
        + str(d.get("appeal_promise") or ""),
    ]
    blocks = [section("\n".join(lines)), *files_blocks(d)]
    if d.get("danger"):
        blocks.insert(0, section(EMERGENCY))
    return fallback, blocks


def files_blocks(d: dict[str, Any]) -> list[Block]:
    """What became of the files someone sent: kept as evidence, or refused and why."""
    kept, refused = d.get("files_kept") or [], d.get("files_refused") or []
    lines = []
    if kept:
        lines.append(
            f"*Kept as evidence ({len(kept)}):* " + ", ".join(escape(name) for name in kept)
        )
    for item in refused:
        reason = REFUSED_BECAUSE.get(item.get("reason"), "it could not be kept")
        reason = reason.format(limit=d.get("limit", "the limit"), count=d.get("count", ""))
        lines.append(f"*Not kept:* {escape(str(item.get('name') or 'a file'))}, because {reason}.")
    return [section("\n".join(lines))] if lines else []


def _relay(text: str | None, d: dict[str, Any]) -> tuple[str, list[Block]]:
    ref = d.get("ref", "your case")
    blocks = [
        section(f"*A message from the stewards about {ref}:*"),
        *text_sections(text or ""),
        context("Reply here to answer them; your reply joins the same case."),
    ]
    return f"A message from the stewards about {ref}", blocks


def _message_added(_text: str | None, d: dict[str, Any]) -> tuple[str, list[Block]]:
    line = f"Added to {d.get('ref', 'your report')}. The stewards have been told."
    if d.get("files_refused") and not d.get("files_kept"):
        line = f"Your message was added to {d.get('ref', 'your report')}, but not its files."
    return line, [context(line), *files_blocks(d)]


def _no_open_case(_text: str | None, d: dict[str, Any]) -> tuple[str, list[Block]]:
    line = (
        "You have no open report with the stewards. To report something, use the "
        "*Report a conduct concern* shortcut, or *Report this message* on a message."
    )
    return line, [section(line), *files_blocks(d)]


def _plain_text(text: str | None, d: dict[str, Any]) -> tuple[str, list[Block]]:
    """Notices whose full wording the core already rendered (decisions, appeals)."""
    body = text or ""
    blocks = text_sections(body)
    if d.get("appeal_button") and d.get("case_id"):
        blocks.append(
            actions(
                "appeal_actions",
                button("Appeal this decision", "case_appeal", str(d["case_id"])),
            )
        )
    return clip(body.split("\n", 1)[0], 150) or "A message from the stewards", blocks


BUILDERS = {
    "report_received": _report_received,
    "relay": _relay,
    "message_added": _message_added,
    "no_open_case": _no_open_case,
}
