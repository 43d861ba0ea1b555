"""Who may press a steward's button, and how a refusal is answered.

Shared by every steward-facing handler: the clicker must be a steward who may
see the case by the one rule (`core.confidentiality`): not conflicted, not named
in it. The click may come from the staff channel or from a case's restricted
room; the rule is the same. A refusal is audited and answered
privately (an ephemeral message, or a DM for someone outside the channel).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from core import actions, outbox
from core.actions import NotAllowed
from core.confidentiality import conflicted, may_see
from core.decisions import DecisionError
from core.models import Case
from core.notify import CHAT
from slackapp.context import SlackContext

log = logging.getLogger(__name__)

NOT_A_STEWARD = "Only the community's stewards can act on conduct cases."


def allowed_case(
    ctx: SlackContext, session: Session, body: dict[str, Any], case_id: int, attempted: str
) -> Case | None:
    """The case, if the clicker may act on it; otherwise refuse, audit, and return None."""
    user = body["user"]["id"]
    case = session.get(Case, case_id)
    if not ctx.stewards.is_steward(user):
        actions.record_refusal(session, case, user, attempted)
        ephemeral(session, body, NOT_A_STEWARD)
        log.warning("a non-steward pressed %s on case %s", attempted, case_id)
        return None
    if case is None:
        ephemeral(session, body, "That case no longer exists.")
        return None
    if not may_see(case, user, ctx.stewards.all() | {user}):
        actions.record_refusal(session, case, user, attempted)
        ephemeral(session, body, closed_to_you(case, user))
        return None
    return case


def closed_to_you(case: Case, user: str) -> str:
    """Why a steward may not see a case, without saying whether they are named in it."""
    if user in conflicted(case):
        return f"You declared a conflict on {case.ref}, so it is closed to you."
    return f"{case.ref} is handled by other stewards, so it is closed to you."


def refuse(session: Session, body: dict[str, Any], case: Case, what: str, why: str) -> None:
    actions.record_refusal(session, case, body["user"]["id"], what)
    ephemeral(session, body, why)


def ephemeral(session: Session, body: dict[str, Any], text: str) -> None:
    """Queue a private answer to the clicker in the channel the button was in."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = body["user"]["id"]
    if channel:
        outbox.enqueue(session, CHAT, "ephemeral", {"channel": channel, "user": user, "text": text})


def case_id_of(body: dict[str, Any]) -> int:
    """The case a button names in its value (`<case id>` or `<case id>:<extra>`)."""
    value = (body["actions"][0].get("value") or "0").split(":")[0]
    return int(value) if value.isdigit() else 0


def safe_message(exc: Exception) -> str:
    """Our own refusals are written for people; anything else stays generic."""
    if isinstance(exc, NotAllowed | DecisionError):
        return str(exc)
    return "That is not possible for this case now."
