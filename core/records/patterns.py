"""People across cases: who on a new case appears in earlier ones, and how those ended.

The Contributor Covenant's permanent ban is for "a pattern of violation", so the
stewards deciding a case must see a person's earlier cases. People are the same
person when `core/casework/people.py` matched them (by Slack ID or address) to one record.
A steward sees only the earlier cases they are allowed to see, by the rule every
surface follows (`core.casework.confidentiality.may_see`: not conflicted, not named in it),
and anonymous parties are linked to nothing, either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.confidentiality import may_see
from core.casework.people import code_name_of
from core.infra.models import Case, Decision, Party
from core.policy.record import case_code
from core.records.retention import OVERTURN


@dataclass(frozen=True)
class EarlierCase:
    """One earlier case of a person on this case: where, as whom, and how it ended."""

    code_name: str
    role_here: str
    ref: str
    role_there: str
    status: str
    outcome: str | None
    outcome_label: str

    def line(self) -> str:
        return (
            f"{self.code_name} (the {self.role_here} here) is the {self.role_there} in "
            f"{self.ref}: {self.outcome_label} ({self.status})"
        )


def earlier_cases(session: Session, case: Case, steward_id: str | None) -> list[EarlierCase]:
    """The earlier cases of everyone named on `case`, oldest first, as `steward_id` may see."""
    found = []
    for party in case.parties:
        if party.anonymous:
            continue
        others = session.scalars(
            select(Party)
            .join(Case, Case.id == Party.case_id)
            .where(
                Party.person_id == party.person_id,
                Party.case_id < case.id,
                Party.anonymous.is_(False),
            )
            .order_by(Party.case_id, Party.id)
        )
        for other in others:
            if steward_id is not None and not may_see(other.case, steward_id, {steward_id}):
                continue
            outcome, label = outcome_of(session, other.case)
            found.append(
                EarlierCase(
                    code_name=code_name_of(party.person),
                    role_here=party.role,
                    ref=other.case.ref,
                    role_there=other.role,
                    status=other.case.status,
                    outcome=outcome,
                    outcome_label=label,
                )
            )
    return found


def earlier_outcomes(session: Session, case: Case, steward_id: str | None) -> list[EarlierCase]:
    """What the decision modal shows beside the ladder: the reported people's earlier
    cases as reported people, the pattern a permanent ban may rest on."""
    return [
        e
        for e in earlier_cases(session, case, steward_id)
        if e.role_here == e.role_there == "reported"
    ]


def outcome_of(session: Session, case: Case) -> tuple[str | None, str]:
    """The outcome in force on a case and its label, the appeal's word counting last."""
    decisions = list(
        session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    )
    if not decisions:
        return None, "no decision yet"
    last = decisions[-1]
    if last.stage == "appeal" and not last.outcome and last.appeal_result == OVERTURN:
        return None, "decision overturned on appeal"
    terms = last if last.outcome else next((d for d in reversed(decisions) if d.outcome), last)
    return terms.outcome, case_code(session, None, case).option_label(terms.outcome)
