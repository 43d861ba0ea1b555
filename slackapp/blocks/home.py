"""App Home: a member's own reports; for stewards, the desk at a glance.

A steward sees the open cases with their next deadline, the cases waiting on
them, the acknowledgements that are overdue and the cases about to be expunged.
Every line is a reference, a code name, a status and a date: never report content.
"""

from __future__ import annotations

from dataclasses import dataclass

from slackapp.blocks.common import (
    SECTION_LIMIT,
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    header,
    section,
)
from slackapp.blocks.thread import STATUS_LABELS


@dataclass(frozen=True)
class HomeCase:
    ref: str
    code_name: str
    status: str
    created: str
    claimed_by: str | None = None
    next_deadline: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class DeskLine:
    """A case on one of the steward's lists, and the date that puts it there."""

    ref: str
    code_name: str
    when: str


@dataclass(frozen=True)
class StewardDesk:
    waiting_on_you: list[DeskLine]
    overdue_acknowledgements: list[DeskLine]
    expunge_due: list[DeskLine]


DESK_LINES = 15
DESK_SECTIONS = (
    ("waiting_on_you", "*Waiting on you* (claimed by you)", "Nothing is waiting on you."),
    (
        "overdue_acknowledgements",
        "*Overdue acknowledgements*",
        "Every report has been acknowledged in time.",
    ),
    ("expunge_due", "*Expunge notices due*", "No case is about to be expunged."),
)


def home_view(
    own: list[HomeCase], open_cases: list[HomeCase] | None, desk: StewardDesk | None = None
) -> Block:
    blocks: list[Block] = [
        header("Steward: the conduct desk"),
        section(
            "If something in this community worried or hurt you, tell the stewards. "
            "You may stay anonymous to them."
        ),
        actions("home_actions", button("Report a concern", "home_report", "report", "primary")),
        divider(),
        section("*Your reports*"),
    ]
    if own:
        blocks += [_own_line(case) for case in own[:20]]
    else:
        blocks.append(context("You have not reported anything."))
    if open_cases is not None:
        blocks += [divider(), section("*Open cases* (stewards only)")]
        if open_cases:
            blocks += [_steward_line(case) for case in open_cases[:40]]
        else:
            blocks.append(context("No open cases."))
    if desk is not None:
        blocks += _desk(desk)
    return {"type": "home", "blocks": blocks}


def _desk(desk: StewardDesk) -> list[Block]:
    blocks: list[Block] = []
    for field_name, title, empty in DESK_SECTIONS:
        lines: list[DeskLine] = getattr(desk, field_name)
        blocks += [divider(), section(title)]
        if not lines:
            blocks.append(context(empty))
            continue
        # One section per list keeps the tab under Slack's 100 blocks beside the open cases.
        shown = [f"• *{d.ref}* · _{d.code_name}_ · {d.when}" for d in lines[:DESK_LINES]]
        if len(lines) > DESK_LINES:
            shown.append(f"…and {len(lines) - DESK_LINES} more")
        blocks.append(section(clip("\n".join(shown), SECTION_LIMIT)))
    return blocks


def _own_line(case: HomeCase) -> Block:
    status = STATUS_LABELS.get(case.status, case.status)
    return section(f"*{case.ref}* · _{case.code_name}_ · {status} · reported {case.created}")


def _steward_line(case: HomeCase) -> Block:
    claimed = f"<@{case.claimed_by}>" if case.claimed_by else "unclaimed"
    due = case.next_deadline or "no deadline"
    kind = f" · {case.category}" if case.category and case.category != "-" else ""
    return section(f"*{case.ref}* · _{case.code_name}_{kind} · {case.status} · {claimed} · {due}")
