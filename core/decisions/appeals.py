"""Appeals: "submitted in writing within 30 days", whichever way they arrive.

An appeal is a reply to the decision mail, a new mail with the case tag from a
person on the case, or the *Appeal this decision* button in the bot's DM. All
three arrive here. Inside the window the case goes to appeal review; a late
appeal is still recorded, flagged, and its sender told when the window closed.
Only a steward's explicit, reasoned acceptance puts a late appeal under review.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.actions import NotAllowed, check_may_act
from core.casework.cases import (
    EntryKind,
    Role,
    Source,
    add_entry,
    get_case,
    system_entry,
    transition,
)
from core.casework.notify import Notice
from core.casework.status import Status
from core.decisions.decisions import appeal_decision_for, latest_decision
from core.decisions.notices import HOW_TO_ADD, send_notice
from core.infra import audit
from core.infra.clock import human_exact, iso, utcnow
from core.infra.models import Appeal, Case, Party
from core.infra.settings import Settings
from core.policy.record import case_code
from core.policy.wording import finality, no_appeal

UNDER_REVIEW, LATE, ACCEPTED_LATE, DECIDED = "under_review", "late", "accepted_late", "decided"
APPELLANT_ROLES = frozenset({Role.REPORTER, Role.REPORTED})
# A message from a party in these statuses is an appeal (when the case has a decision).
AWAITING = frozenset({Status.AWAITING_APPEAL, Status.CLOSED})


def is_appeal(
    session: Session, case: Case, party: Party | None, now: datetime | None = None
) -> bool:
    """Whether a message from this party, now, is an appeal rather than a plain message.

    It is, from the reporter or the reported person, while a decision without a
    final appeal decision stands. Once their late appeal
    is on record, further mail from them is ordinary correspondence, so nobody is
    told twice that the window closed.
    """
    if party is None or party.role not in APPELLANT_ROLES:
        return False
    if case.status not in AWAITING and case.status != Status.APPEAL_REVIEW:
        return False
    decision = latest_decision(session, case.id)
    if decision is None or decision.final or appeal_decision_for(session, decision) is not None:
        return False
    earlier = session.scalars(
        select(Appeal.status).where(Appeal.decision_id == decision.id, Appeal.party_id == party.id)
    ).all()
    if case.status == Status.APPEAL_REVIEW:
        # During a review, the appellant's further mail adds to it; the other side's
        # first mail inside the window is their own appeal.
        window = decision.appeal_deadline
        return not earlier and (window is None or (now or utcnow()) <= window)
    return LATE not in earlier


def receive_appeal(
    session: Session,
    settings: Settings,
    case: Case,
    party: Party,
    text: str,
    *,
    source: Source | str,
    now: datetime | None = None,
    full_text: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Appeal:
    """Record an appeal; inside the window it opens the review, after it it is flagged late."""
    if party.role not in APPELLANT_ROLES:
        raise NotAllowed("Only the reporter or the reported person can appeal a decision.")
    decision = latest_decision(session, case.id)
    if decision is None:
        raise NotAllowed(f"{case.ref} has no decision to appeal.")
    code = case_code(session, settings, case)
    if decision.final:
        raise NotAllowed(f"The decision on {case.ref} is final: {no_appeal(code)}")
    if appeal_decision_for(session, decision) is not None:
        raise NotAllowed(f"The decision on the appeal in {case.ref} is final.")
    _lock(session, case)
    now = now or utcnow()
    window = decision.appeal_deadline
    late = window is not None and now > window
    entry = add_entry(
        session,
        case,
        EntryKind.APPEAL,
        source,
        text,
        party=party,
        full_text=full_text,
        data={
            **(data or {}),
            "late": late,
            "decision_id": decision.id,
            "window_closes": iso(window),
        },
        dedupe_key=dedupe_key,
    )
    appeal = Appeal(
        case=case,
        decision=decision,
        party=party,
        entry=entry,
        source=str(source),
        late=late,
        status=LATE if late else UNDER_REVIEW,
        received_at=now,
    )
    session.add(appeal)
    actor = audit.party_actor(party.id) if party.id else audit.SYSTEM
    route = "email" if str(source) == Source.EMAIL else "slack"
    if late:
        assert window is not None
        audit.record(session, "appeal.late", actor=actor, case=case, role=party.role)
        send_notice(
            session,
            settings,
            case,
            party,
            "appeal_late",
            message_code="appeal_late",
            entry_kind=EntryKind.APPEAL_NOTICE,
            context={"received_at": human_exact(now), "window_closed": human_exact(window)},
            prefer=route,
            details={"window_closed": iso(window)},
        )
        summary = (
            f"A late appeal arrived from {_role(party)} by {source}; the window closed "
            f"{human_exact(window)}. It is recorded, not under review: a steward may accept it."
        )
    else:
        if case.status != Status.APPEAL_REVIEW:
            transition(session, case, Status.APPEAL_REVIEW, actor, "appeal received")
        send_notice(
            session,
            settings,
            case,
            party,
            "appeal_received",
            message_code="appeal_received",
            entry_kind=EntryKind.APPEAL_NOTICE,
            context={
                "received_at": human_exact(now),
                "within_window": _within(window),
                "review_line": finality(code.appeal),
                "how_to_add": HOW_TO_ADD,
            },
            prefer=route,
        )
        summary = f"An appeal arrived from {_role(party)} by {source}; the case is under review."
    session.flush()
    notify.staff_notice(
        session,
        case,
        Notice.APPEAL,
        entry=entry,
        late=late,
        role=party.role,
        source=str(source),
        appeal_id=appeal.id,
        window_closes=iso(window),
        summary=summary,
    )
    notify.refresh_views(session, case)
    return appeal


def accept_late_appeal(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    reason: str,
    *,
    appeal_id: int | None = None,
) -> Appeal:
    """A steward explicitly puts a late appeal under review, and must say why.

    The appellant was told a late appeal is reviewed only if a steward accepts it,
    and that they would hear if so: this is where they hear it.
    """
    check_may_act(case, steward_id)
    if not (reason or "").strip():
        raise NotAllowed("Say why the late appeal is accepted; the reason is recorded.")
    query = select(Appeal).where(Appeal.case_id == case.id, Appeal.status == LATE)
    if appeal_id is not None:
        query = query.where(Appeal.id == appeal_id)
    appeal = session.scalars(query.order_by(Appeal.id.desc()).limit(1)).first()
    if appeal is None:
        raise NotAllowed(f"{case.ref} has no late appeal waiting.")
    actor = audit.steward_actor(steward_id)
    now = utcnow()
    appeal.status = ACCEPTED_LATE
    appeal.accepted_by = steward_id
    appeal.accepted_at = now
    appeal.accept_reason = reason.strip()
    if case.status != Status.APPEAL_REVIEW:
        transition(session, case, Status.APPEAL_REVIEW, actor, "late appeal accepted")
    audit.record(session, "appeal.accepted_late", actor=actor, case=case, appeal_id=appeal.id)
    entry = system_entry(
        session,
        case,
        f"A steward accepted a late appeal for review. Reason: {reason.strip()}",
        appeal_id=appeal.id,
        accepted_by=steward_id,
    )
    send_notice(
        session,
        settings,
        case,
        appeal.party,
        "appeal_accepted_late",
        message_code="appeal_accepted_late",
        entry_kind=EntryKind.APPEAL_NOTICE,
        context={
            "received_at": human_exact(appeal.received_at),
            "review_line": finality(case_code(session, settings, case).appeal),
            "how_to_add": HOW_TO_ADD,
        },
        actor=actor,
        prefer="email" if appeal.source == Source.EMAIL else "slack",
    )
    notify.staff_notice(
        session,
        case,
        Notice.APPEAL,
        entry=entry,
        actor=steward_id,
        late=True,
        accepted_late=True,
        appeal_id=appeal.id,
        summary="A late appeal was accepted for review; the case is under appeal review.",
    )
    notify.refresh_views(session, case)
    return appeal


def appeal_from_slack(
    session: Session,
    settings: Settings,
    case_id: int,
    slack_user_id: str,
    text: str,
    *,
    dedupe_key: str | None = None,
) -> Appeal:
    """The *Appeal this decision* button: the person must be the reporter or reported."""
    case = get_case(session, case_id)
    party = next(
        (
            p
            for p in case.parties
            if p.person.slack_user_id == slack_user_id and p.role in APPELLANT_ROLES
        ),
        None,
    )
    if party is None:
        raise NotAllowed("Only the reporter or the reported person can appeal this decision.")
    return receive_appeal(
        session,
        settings,
        case,
        party,
        text,
        source=Source.SLACK,
        dedupe_key=dedupe_key,
    )


def _within(window: datetime | None) -> str:
    if window is None:
        return ""
    return f", within the appeal window, which closes on {human_exact(window)}"


def _role(party: Party) -> str:
    return "the reporter" if party.role == Role.REPORTER else "the reported person"


def _lock(session: Session, case: Case) -> None:
    """Serialise with the worker closing the window (PostgreSQL row lock; SQLite's
    BEGIN IMMEDIATE already serialises writers), so an appeal is never lost to a close."""
    session.flush()
    session.refresh(case, with_for_update=True)
