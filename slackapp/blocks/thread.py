"""The case thread in the staff channel: its root message, and the lines posted under it.

By default these carry metadata only (reference, code name, status, who acts):
never report text, names of reporters or reported people, or email addresses.
With full disclosure the operator opts in to quoting the content too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.casework.notify import Notice
from core.policy import SEVERITIES, label
from slackapp.blocks.common import (
    Block,
    actions,
    button,
    context,
    header,
    section,
    text_sections,
)

STATUS_LABELS = {
    "new": ":new: New, not yet acknowledged",
    "triage": ":mag: Triage",
    "investigating": ":hourglass_flowing_sand: Investigating",
    "awaiting_appeal": ":scales: Decided; appeal window open",
    "appeal_review": ":scales: Appeal under review",
    "closed": ":white_check_mark: Closed",
}


@dataclass(frozen=True)
class StepLine:
    """A response step of the case's code, and whether a steward has ticked it."""

    id: str
    text: str
    done: bool


@dataclass(frozen=True)
class RootFacts:
    """What the root message shows, read from the record at delivery time."""

    case_id: int
    ref: str
    code_name: str
    source: str
    category: str | None
    severity: str | None
    status: str
    claimed_by: str | None
    next_deadline: str | None
    escalated: bool
    immediate_danger: bool
    has_respondent_contact: bool
    anonymous: bool
    late_appeal_waiting: bool = False
    category_label: str = "-"
    steps: tuple[StepLine, ...] = ()
    conflicts: int = 0


def root_text(facts: RootFacts) -> str:
    """The notification text: reference, code name and status only."""
    return f"{facts.ref} ({facts.code_name}): {facts.status}"


def root_blocks(facts: RootFacts) -> list[Block]:
    value = str(facts.case_id)
    claimed = f"<@{facts.claimed_by}>" if facts.claimed_by else "nobody yet"
    lines = [
        f"*Source:* {'Slack' if facts.source == 'slack' else 'Email'}"
        + ("  ·  *anonymous reporter*" if facts.anonymous else ""),
        f"*Category:* {facts.category_label}",
        f"*Severity:* {label(SEVERITIES, facts.severity)}",
        f"*Status:* {STATUS_LABELS.get(facts.status, facts.status)}",
        f"*Claimed by:* {claimed}",
        f"*Next deadline:* {facts.next_deadline or 'none'}",
    ]
    blocks: list[Block] = [header(f"{facts.ref} · {facts.code_name}")]
    if facts.immediate_danger:
        blocks.append(section(":rotating_light: *The reporter says someone may be in danger.*"))
    if facts.escalated:
        blocks.append(
            section(
                ":warning: Every steward has a conflict on this case or is named "
                "in it, so it is handled here."
            )
        )
    elif facts.conflicts:
        blocks.append(
            section(
                f":lock: Restricted room: {facts.conflicts} steward(s) with a conflict on this "
                "case are not here and see nothing of it."
            )
        )
    blocks += [
        section("\n".join(lines)),
        context("The report itself is not shown in this channel. Use *View report* to read it."),
        *checklist_blocks(facts),
    ]
    buttons = [button("View report", "case_view_report", value, style="primary")]
    if facts.status != "closed":
        if not facts.claimed_by:
            buttons.append(button("Claim", "case_claim", value))
        if facts.status == "new":
            buttons.append(button("Acknowledge", "case_acknowledge", value))
        buttons.append(button("Reply to reporter", "case_reply", value))
        if facts.status == "triage":
            buttons.append(button("Start investigating", "case_investigate", value))
        if facts.has_respondent_contact:
            buttons.append(button("Ask for their side", "case_ask_respondent", value))
        if facts.status in ("new", "triage", "investigating"):
            buttons.append(button("Record decision", "case_decide", value))
        if facts.status == "appeal_review":
            buttons.append(button("Record appeal decision", "case_decide_appeal", value))
        buttons.append(button("Declare a conflict", "case_recuse", value))
        buttons.append(button("Close", "case_close", value, style="danger"))
    else:
        buttons.append(button("Reopen", "case_reopen", value))
    if facts.late_appeal_waiting:
        buttons.append(button("Accept late appeal", "case_accept_late_appeal", value))
    blocks.append(actions(f"case_actions_{value}", *buttons))
    return blocks


def checklist_blocks(facts: RootFacts) -> list[Block]:
    """The code's response steps, each with a button to tick it (or untick it)."""
    if not facts.steps:
        return []
    done = sum(1 for s in facts.steps if s.done)
    blocks = [section(f"*Response steps* ({done} of {len(facts.steps)} done)")]
    for step in facts.steps:
        mark = ":white_check_mark:" if step.done else ":white_large_square:"
        block = section(f"{mark} {step.text}")
        if facts.status != "closed":
            value = f"{facts.case_id}:{step.id}"
            block["accessory"] = (
                button("Undo", "case_step_undo", value)
                if step.done
                else button("Done", "case_step_done", value)
            )
        blocks.append(block)
    return blocks


NOTICE_TEXT = {
    Notice.DANGER: ":rotating_light: {mentions} the reporter says someone may be in immediate "
    "danger. Please look at this case now.",
    Notice.REPORTER_MESSAGE: ":incoming_envelope: The reporter sent a new message{via}. "
    "Use *View report* to read it.",
    Notice.RESPONDENT_MESSAGE: ":incoming_envelope: The reported person answered{via}. "
    "Use *View report* to read it.",
    Notice.AUTOMATIC_MAIL: ":robot_face: An automatic email (out-of-office, bounce or list "
    "mail) arrived for this case. It was recorded and not answered.",
    Notice.CLAIMED: ":raised_hand: {actor} claimed this case.",
    Notice.ACKNOWLEDGED: ":ballot_box_with_check: {actor} acknowledged this case.",
    Notice.RECUSED: ":no_entry: {actor} declared a conflict and no longer has access.",
    Notice.REPLY_SENT: ":outbox_tray: {actor} sent a reply to the {role}{via}.",
    Notice.RESPONDENT_ASKED: ":outbox_tray: {actor} asked the reported person for their side{via}.",
    Notice.CLOSED: ":white_check_mark: {actor} closed this case.",
    Notice.REOPENED: ":arrows_counterclockwise: {actor} reopened this case.",
    Notice.SYSTEM: ":information_source: {message}",
    Notice.REMINDER: ":alarm_clock: {message}",
    Notice.DECISION: ":scales: {message}",
    Notice.APPEAL: ":scales: {message}",
    Notice.SNOOZED: ":zzz: {actor} snoozed a reminder. {message}",
}


def notice_text(
    notice: str, payload: dict[str, Any], entry_text: str | None, mentions: str = "<!channel>"
) -> str:
    """One line for the thread, worded for stewards and free of report content.

    `mentions` is who a line calling on every steward names: the delivery decides,
    from who may see the case."""
    details = dict(payload.get("details") or {})
    actor = payload.get("actor")
    values = {
        "actor": f"<@{actor}>" if actor else "Steward",
        "via": _via(details.get("source") or details.get("via")),
        "role": "reporter" if details.get("role", "reporter") == "reporter" else "reported person",
        "message": details.get("summary") or details.get("message") or "",
        "mentions": mentions,
    }
    template = NOTICE_TEXT.get(notice, ":information_source: {message}")
    line = template.format(**values)
    if payload.get("mention_stewards") and "{mentions}" not in template:
        line = f"{mentions} {line}"
    return line


def moved_text(ref: str) -> str:
    """What the shared thread keeps of a case moved to a restricted room: no name, no reason."""
    return f"{ref} is handled in a restricted room."


def moved_blocks(ref: str) -> list[Block]:
    return [section(f":lock: {moved_text(ref)}")]


def expunged_text(ref: str, code_name: str, expunged_on: str) -> str:
    """What a root keeps once its case is expunged: reference, code name and date only."""
    return f"{ref} ({code_name}) was expunged on {expunged_on} under the retention rules."


def expunged_blocks(ref: str, code_name: str, expunged_on: str) -> list[Block]:
    """The tombstone root. Steward deletes its own lines in the thread; a bot cannot
    delete people's messages, so stewards' replies stay and are theirs to delete."""
    return [
        section(f":wastebasket: {expunged_text(ref, code_name, expunged_on)}"),
        context(
            "Nothing of the case is kept here: Steward deleted its own messages in this "
            "thread. Stewards' replies stay; each steward can delete their own."
        ),
    ]


def notice_blocks(
    line: str,
    disclosed_text: str | None,
    snooze_deadline: int | None = None,
    keep_longer_case: int | None = None,
) -> list[Block]:
    """The line, and with full disclosure the whole text: the caller posts it in parts."""
    blocks = [section(line)]
    if disclosed_text:
        blocks += text_sections(disclosed_text, mentions=False)
    if keep_longer_case is not None:
        value = str(keep_longer_case)
        blocks.append(actions(f"keep_{value}", button("Keep longer", "case_keep_longer", value)))
    if snooze_deadline is not None:
        value = str(snooze_deadline)
        blocks.append(
            actions(
                f"snooze_{value}",
                button("Snooze 1 day", "deadline_snooze_1", value),
                button("Snooze 3 days", "deadline_snooze_3", value),
                button("Snooze 1 week", "deadline_snooze_7", value),
            )
        )
    return blocks


def snooze_target(payload: dict[str, Any]) -> int | None:
    """The deadline a reminder line may snooze, if it offers that."""
    details = payload.get("details") or {}
    if payload.get("notice") == Notice.REMINDER and details.get("snooze"):
        return details.get("deadline_id")
    return None


def keep_longer_target(payload: dict[str, Any], case_id: int) -> int | None:
    """The case an expunge notice offers to keep longer, if this line is one."""
    details = payload.get("details") or {}
    if payload.get("notice") == Notice.REMINDER and details.get("keep_longer"):
        return case_id
    return None


def _via(source: str | None) -> str:
    return {"email": " by email", "slack": " in Slack"}.get(source or "", "")
