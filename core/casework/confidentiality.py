"""Who may see a case: one rule for every surface that shows one.

The rule: the stewards of the community, minus those with a conflict on the
case, minus anyone named in the case (its reporter, the reported person,
witnesses, people affected). The report view, App Home, the export, the
mentions in reminders and the restricted room's membership all ask this module,
so no surface can drift into a looser rule of its own.

Who the stewards are is known only to the chat adapter (the staff channel's
members), so it is passed in; what makes someone conflicted or named is on the
record, read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.infra.models import Case

RECUSED = "recused"
CONFLICTS = "conflicts"
ROOM = "restricted_room"


class ConflictSource:
    """How a conflict came to be on the record."""

    DECLARED = "declared"  # the steward said so (Declare a conflict)
    NAMED = "named"  # the report names the steward
    REPORTER = "reporter"  # the steward filed the report


def conflicted(case: Case) -> frozenset[str]:
    """Stewards with a conflict on the case, whatever its source."""
    return frozenset((case.flags or {}).get(RECUSED, []))


def conflicts(case: Case) -> list[dict[str, Any]]:
    """The conflicts as listed on the case: who, how it arose, when, and a reason if given."""
    return [dict(c) for c in (case.flags or {}).get(CONFLICTS, [])]


def named_in(case: Case) -> frozenset[str]:
    """Slack users who are people on the case in any role."""
    return frozenset(p.person.slack_user_id for p in case.parties if p.person.slack_user_id)


def audience(case: Case, stewards: Iterable[str]) -> frozenset[str]:
    """The stewards who may see this case: not conflicted, not named in it."""
    return frozenset(stewards) - conflicted(case) - named_in(case)


def may_see(case: Case, user_id: str, stewards: Iterable[str]) -> bool:
    """Whether this person may see the case on any surface."""
    return user_id in audience(case, stewards)


def is_restricted(case: Case) -> bool:
    """A case with any conflict is discussed away from the shared staff channel."""
    return bool(conflicted(case))


def room_of(case: Case) -> str | None:
    """The restricted room's channel, once the chat adapter has created it."""
    return (case.flags or {}).get(ROOM)


def room_name(case_id: int) -> str:
    """A room name that says which case and nothing about anyone in it."""
    return f"coc-{case_id}-restricted"
