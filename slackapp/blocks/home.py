"""App Home: a member's own reports; for stewards, also the open cases to act on."""

from __future__ import annotations

from dataclasses import dataclass

from slackapp.blocks.common import Block, actions, button, context, divider, header, section
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


def home_view(own: list[HomeCase], open_cases: list[HomeCase] | None) -> Block:
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
    return {"type": "home", "blocks": blocks}


def _own_line(case: HomeCase) -> Block:
    status = STATUS_LABELS.get(case.status, case.status)
    return section(f"*{case.ref}* · _{case.code_name}_ · {status} · reported {case.created}")


def _steward_line(case: HomeCase) -> Block:
    claimed = f"<@{case.claimed_by}>" if case.claimed_by else "unclaimed"
    due = case.next_deadline or "no deadline"
    kind = f" · {case.category}" if case.category and case.category != "-" else ""
    return section(f"*{case.ref}* · _{case.code_name}_{kind} · {case.status} · {claimed} · {due}")
