"""Who may press a steward's button, and how a refusal is answered.

Shared by every steward-facing handler: the clicker must be a steward who may
see the case by the one rule (`core.casework.confidentiality`): not conflicted, not named
in it. The click may come from the staff channel or from a case's restricted
room; the rule is the same. A refusal is audited and answered
privately (an ephemeral message, or a DM for someone outside the channel).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from core.casework import actions
from core.casework.actions import NotAllowed
from core.casework.confidentiality import conflicted, may_see
from core.casework.notify import CHAT
from core.decisions.decisions import DecisionError
from core.infra import outbox
from core.infra.logs import about
from core.infra.models import Case
from slackapp.context import SlackContext

log = logging.getLogger(__name__)

NOT_A_STEWARD = "Only the community's stewards can act on conduct cases."
CASE_GONE = "That case no longer exists."


def allowed_case(
    ctx: SlackContext, session: Session, body: dict[str, Any], case_id: int, attempted: str
) -> Case | None:
    """The case, if the clicker may act on it; otherwise refuse, audit, and return None."""
    user = body["user"]["id"]
    case = session.get(Case, case_id)
    if not ctx.stewards.is_steward(user):
        actions.record_refusal(session, case, user, attempted)
        ephemeral(session, body, NOT_A_STEWARD)
        log.warning(
            "a non-steward pressed %s on case %s", attempted, case_id, extra=about(case_id=case_id)
        )
        return None
    if case is None:
        ephemeral(session, body, CASE_GONE)
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


# Row ids are 32-bit integers on PostgreSQL; a larger number names no row, and asking the
# database for one would fail instead of finding nothing.
_MAX_ID = 2**31 - 1


def row_id(value: object) -> int:
    """A row id from a button value or form metadata; 0 (no row) for anything else.

    Only ASCII digits count: `str.isdigit` also admits characters such as "²" that
    `int()` refuses."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()):
        return 0
    number = int(text)
    return number if number <= _MAX_ID else 0


def case_id_of(body: dict[str, Any]) -> int:
    """The case a button names in its value (`<case id>` or `<case id>:<extra>`)."""
    return row_id(str(body["actions"][0].get("value") or "0").split(":")[0])


def metadata_case_id(view: dict[str, Any]) -> int:
    """The case a modal was opened for, from its `private_metadata` (`{"case_id": n}`)."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return 0
    return row_id(metadata.get("case_id")) if isinstance(metadata, dict) else 0


def safe_message(exc: Exception) -> str:
    """Our own refusals are written for people; anything else stays generic."""
    if isinstance(exc, NotAllowed | DecisionError):
        return str(exc)
    return "That is not possible for this case now."
