"""The response steps a code of conduct asks its stewards to follow, ticked on the case.

A tick (or an untick) is an entry on the case's timeline and an audit event, so
the record shows who did each step and when. The current state of a step is its
latest entry. A code may mark one step as hearing the reported person: ticking
it counts as having heard them, as does any message they sent on the case.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.actions import NotAllowed, check_may_act
from core.casework.cases import EntryKind, Role, Source, add_entry
from core.casework.status import Status
from core.infra import audit
from core.infra.models import Case, Entry, Party
from core.policy import Code

# What the reported person sends us on a case: their side, in writing.
HEARD_KINDS = (EntryKind.RESPONDENT_MESSAGE, EntryKind.INBOUND_MAIL, EntryKind.REPORTER_MESSAGE)


def state(session: Session, case: Case) -> dict[str, bool]:
    """Each step's current state (done or not), from the latest tick of each."""
    done: dict[str, bool] = {}
    rows = session.scalars(
        select(Entry.data)
        .where(Entry.case_id == case.id, Entry.kind == EntryKind.CHECKLIST)
        .order_by(Entry.id)
    )
    for data in rows:
        done[str((data or {}).get("step"))] = bool((data or {}).get("done"))
    return done


def tick(
    session: Session, code: Code, case: Case, steward_id: str, step_id: str, done: bool
) -> Entry:
    """A steward marks a step done (or not done after all); audited and shown on the root."""
    check_may_act(case, steward_id)
    step = code.step(step_id)
    if step is None:
        raise NotAllowed("That step is not on this case's checklist.")
    if case.status == Status.CLOSED:
        raise NotAllowed(f"{case.ref} is closed; reopen it to change its checklist.")
    actor = audit.steward_actor(steward_id)
    entry = add_entry(
        session,
        case,
        EntryKind.CHECKLIST,
        Source.SLACK,
        f"{'Done' if done else 'Not done'}: {step.text}",
        author=actor,
        data={"step": step.id, "done": done},
    )
    audit.record(session, "checklist.ticked", actor=actor, case=case, step=step.id, done=done)
    notify.refresh_case(session, case)
    return entry


def reported_heard(session: Session, code: Code, case: Case) -> bool:
    """Whether the reported person has been heard: they wrote to us on this case, or a
    steward ticked the step that records hearing them."""
    hearing = [s.id for s in code.checklist if s.hears_reported]
    ticks = state(session, case)
    if any(ticks.get(step) for step in hearing):
        return True
    written = session.scalar(
        select(Entry.id)
        .join(Party, Entry.party_id == Party.id)
        .where(
            Entry.case_id == case.id,
            Party.role == Role.REPORTED,
            Entry.kind.in_([str(k) for k in HEARD_KINDS]),
        )
        .limit(1)
    )
    return written is not None
