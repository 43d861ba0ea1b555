"""Decisions on the enforcement ladder, and the final decision on an appeal.

A decision is what the codes of conduct promise: documented (the rationale is
kept, for the stewards only), told to the reporter and to the reported person
(each notice recorded exactly as sent), and open to appeal for a stated window
whose exact end every notice gives. The appeal decision closes the case for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, notify
from core.actions import check_may_act
from core.cases import EntryKind, Role, Source, add_entry, reporter_of, transition
from core.clock import ceil_time, human_exact, iso, utcnow
from core.deadlines import (
    FOLLOW_UP_KINDS,
    DeadlineKind,
    cancel,
    cancel_kinds,
    move,
    pending,
    schedule,
)
from core.models import Appeal, Case, Deadline, Decision, Party
from core.notices import HOW_TO_APPEAL, send_notice
from core.notify import Notice
from core.policy import OUTCOMES, label, values
from core.settings import Settings
from core.status import Status

DECISION, APPEAL = "decision", "appeal"
UPHOLD, MODIFY, OVERTURN = "uphold", "modify", "overturn"
APPEAL_RESULTS = (UPHOLD, MODIFY, OVERTURN)
DECIDABLE = frozenset({Status.NEW, Status.TRIAGE, Status.INVESTIGATING})
BAN, NO_CONTACT = "ban", "no_contact"

# The reminders that mean nothing once a decision is out: the case now waits on the
# appeal window, and on the ends of any ban or no-contact term.
WITHDRAWN_BY_DECISION = (
    *FOLLOW_UP_KINDS,
    DeadlineKind.ACKNOWLEDGEMENT,
    DeadlineKind.RESPONSE_DUE,
    DeadlineKind.APPEAL_WINDOW,  # of an earlier decision on a reopened case
)


class DecisionError(ValueError):
    """The decision cannot be recorded as given. The message is safe to show a steward."""


def appeal_deadline(settings: Settings, sent_at: datetime) -> datetime:
    """When the appeal window closes: `appeal_days` after the notice, rounded up.

    Rounding up (to the minute for real windows, to the second for the short ones
    tests use) lets the notice state the deadline exactly without shortening it.
    """
    due = sent_at + timedelta(days=settings.appeal_days)
    step = timedelta(minutes=1) if settings.appeal_days >= 1 else timedelta(seconds=1)
    return ceil_time(due, step)


def latest_decision(session: Session, case_id: int) -> Decision | None:
    """The decision now in force on a case (a reopened case may be decided again)."""
    return session.scalars(
        select(Decision)
        .where(Decision.case_id == case_id, Decision.stage == DECISION)
        .order_by(Decision.id.desc())
        .limit(1)
    ).first()


def appeal_decision_for(session: Session, decision: Decision) -> Decision | None:
    """The final word on an appeal against this decision, if there is one yet."""
    return session.scalars(
        select(Decision)
        .where(
            Decision.case_id == decision.case_id,
            Decision.stage == APPEAL,
            Decision.id > decision.id,
        )
        .order_by(Decision.id.desc())
        .limit(1)
    ).first()


def check_terms(
    outcome: str | None,
    *,
    ban_until: datetime | None,
    no_contact_until: datetime | None,
    other_description: str | None,
    now: datetime,
) -> None:
    """The ladder's rules: a temporary ban ends on a future date, `other` is described."""
    if outcome not in values(OUTCOMES):
        raise DecisionError("Choose an outcome from the enforcement ladder.")
    if outcome == "temporary_ban":
        if ban_until is None:
            raise DecisionError("A temporary ban needs an end date.")
        if ban_until <= now:
            raise DecisionError("A temporary ban must end in the future.")
    elif ban_until is not None:
        raise DecisionError("Only a temporary ban has an end date.")
    if no_contact_until is not None and no_contact_until <= now:
        raise DecisionError("A no-contact term must end in the future.")
    if outcome == "other" and not (other_description or "").strip():
        raise DecisionError("Describe the outcome when you choose Other.")


def terms_text(decision: Decision, community: str) -> str:
    """The terms in plain words, for the person they concern."""
    until = decision.ban_until
    sentences = {
        "no_violation": "No violation of the code of conduct was found.",
        "correction": "A correction: a private note about what was not acceptable.",
        "warning": "A warning. Repeating the behaviour will lead to further consequences.",
        "temporary_ban": f"A temporary ban from {community}, until "
        f"{human_exact(until) if until else '-'}.",
        "permanent_ban": f"A permanent ban from {community}.",
        "other": (decision.other_description or "").strip(),
    }
    lines = [f"- {sentences.get(decision.outcome or '', 'The earlier decision is set aside.')}"]
    if decision.no_contact_until is not None:
        lines.append(
            "- You must not contact the people involved in this report until "
            f"{human_exact(decision.no_contact_until)}."
        )
    if (decision.remove_roles or "").strip():
        lines.append(f"- You are removed from these roles: {decision.remove_roles.strip()}.")
    return "\n".join(lines)


def summary(decision: Decision) -> str:
    """One line for the stewards' thread: the outcome and terms, no names and no words."""
    parts = [label(OUTCOMES, decision.outcome) if decision.outcome else "Decision set aside"]
    if decision.ban_until:
        parts.append(f"ban until {human_exact(decision.ban_until)}")
    if decision.no_contact_until:
        parts.append(f"no contact until {human_exact(decision.no_contact_until)}")
    if (decision.remove_roles or "").strip():
        parts.append("removed from roles")
    return "; ".join(parts)


def record_decision(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    outcome: str,
    *,
    ban_until: datetime | None = None,
    no_contact_until: datetime | None = None,
    remove_roles: str | None = None,
    rationale: str = "",
    message_to_reported: str = "",
    message_to_reporter: str = "",
    other_description: str | None = None,
    source: Source | str = Source.SLACK,
    now: datetime | None = None,
) -> Decision:
    """Record a decision, tell both sides, and open the appeal window.

    The case moves to `awaiting_appeal`; the window closes `appeal_days` after the
    notices are queued, and a deadline row closes the case then if nobody appeals.
    """
    check_may_act(case, steward_id)
    now = now or utcnow()
    if case.status not in DECIDABLE:
        raise DecisionError(
            f"{case.ref} already has a decision; reopen it to decide again, "
            "or record a decision on its appeal."
        )
    check_terms(
        outcome,
        ban_until=ban_until,
        no_contact_until=no_contact_until,
        other_description=other_description,
        now=now,
    )
    reporter, reported = _addressees(case, message_to_reporter, message_to_reported)
    actor = audit.steward_actor(steward_id)
    if case.status == Status.NEW:
        transition(session, case, Status.TRIAGE, actor, "acknowledged by a decision")
    window = appeal_deadline(settings, now)
    decision = _new_decision(
        case,
        steward_id,
        now,
        stage=DECISION,
        outcome=outcome,
        other_description=other_description,
        ban_until=ban_until,
        no_contact_until=no_contact_until,
        remove_roles=remove_roles,
        rationale=rationale,
        message_to_reported=message_to_reported,
        message_to_reporter=message_to_reporter,
        appeal_deadline=window,
        final=False,
    )
    session.add(decision)
    decision.entry = add_entry(
        session,
        case,
        EntryKind.DECISION,
        source,
        f"Decision: {summary(decision)}. Appeals are open until {human_exact(window)}.",
        author=actor,
        full_text=rationale or None,
        data=_decision_data(decision),
    )
    transition(session, case, Status.AWAITING_APPEAL, actor, "decision sent")
    cancel_kinds(session, case.id, WITHDRAWN_BY_DECISION, "decision sent")
    session.flush()
    schedule(session, case, DeadlineKind.APPEAL_WINDOW, window, {"decision_id": decision.id})
    _schedule_term_ends(session, case, decision)
    context = {
        "appeal_deadline": human_exact(window),
        "how_to_appeal": HOW_TO_APPEAL,
        "terms": terms_text(decision, settings.community_name),
    }
    to_reported = {**context, "message": message_to_reported}
    notices = [(p, "decision_reported", to_reported) for p in reported]
    if reporter is not None:
        to_reporter = {**context, "message": message_to_reporter}
        notices.insert(0, (reporter, "decision_reporter", to_reporter))
    _send_notices(
        session,
        settings,
        case,
        notices,
        message_code="decision_notice",
        actor=actor,
        details={"appeal_button": True, "appeal_deadline": iso(window), "final": False},
    )
    notify.staff_notice(
        session,
        case,
        Notice.DECISION,
        entry=decision.entry,
        actor=steward_id,
        outcome=outcome,
        final=False,
        appeal_deadline=iso(window),
        summary=f"Decision recorded: {summary(decision)}. The notices are on their way; "
        f"appeals are open until {human_exact(window)}.",
    )
    notify.refresh_views(session, case)
    return decision


def record_appeal_decision(
    session: Session,
    settings: Settings,
    case: Case,
    steward_id: str,
    result: str,
    *,
    rationale: str = "",
    message_to_reported: str = "",
    message_to_reporter: str = "",
    outcome: str | None = None,
    ban_until: datetime | None = None,
    no_contact_until: datetime | None = None,
    remove_roles: str | None = None,
    other_description: str | None = None,
    source: Source | str = Source.SLACK,
    now: datetime | None = None,
) -> Decision:
    """Decide an appeal: uphold, modify (with new terms) or overturn. Final; the case closes.

    Upholding keeps the original terms; modifying replaces them and their end
    reminders; overturning sets them aside (and withdraws their reminders).
    """
    check_may_act(case, steward_id)
    now = now or utcnow()
    if case.status != Status.APPEAL_REVIEW:
        raise DecisionError(f"{case.ref} has no appeal under review.")
    if result not in APPEAL_RESULTS:
        raise DecisionError("Choose uphold, modify or overturn.")
    original = latest_decision(session, case.id)
    if original is None:
        raise DecisionError(f"{case.ref} has no decision to review.")
    if result == UPHOLD:
        outcome, ban_until, no_contact_until = (
            original.outcome,
            original.ban_until,
            original.no_contact_until,
        )
        remove_roles, other_description = original.remove_roles, original.other_description
    elif result == MODIFY:
        check_terms(
            outcome,
            ban_until=ban_until,
            no_contact_until=no_contact_until,
            other_description=other_description,
            now=now,
        )
    else:
        outcome, ban_until, no_contact_until, remove_roles = None, None, None, None
    reporter, reported = _addressees(case, message_to_reporter, message_to_reported)
    actor = audit.steward_actor(steward_id)
    final = _new_decision(
        case,
        steward_id,
        now,
        stage=APPEAL,
        outcome=outcome,
        other_description=other_description,
        ban_until=ban_until,
        no_contact_until=no_contact_until,
        remove_roles=remove_roles,
        rationale=rationale,
        message_to_reported=message_to_reported,
        message_to_reporter=message_to_reporter,
        appeal_result=result,
        final=True,
    )
    session.add(final)
    result_line = _result_line(result)
    final.entry = add_entry(
        session,
        case,
        EntryKind.APPEAL_DECISION,
        source,
        f"Appeal decision ({result}, final): {summary(final)}.",
        author=actor,
        full_text=rationale or None,
        data=_decision_data(final),
    )
    for appeal in session.scalars(
        select(Appeal).where(Appeal.case_id == case.id, Appeal.decision_id == original.id)
    ):
        if appeal.status in ("under_review", "accepted_late"):
            appeal.status = "decided"
    cancel(session, case.id, DeadlineKind.APPEAL_WINDOW, "appeal decided")
    if result != UPHOLD:
        cancel_kinds(
            session,
            case.id,
            (DeadlineKind.BAN_ENDS, DeadlineKind.NO_CONTACT_ENDS),
            f"appeal: {result}",
        )
        session.flush()
        _schedule_term_ends(session, case, final)
    session.flush()
    context = {"result_line": result_line}
    terms = "" if result == UPHOLD else "\n" + terms_text(final, settings.community_name) + "\n"
    notices = [
        (p, "appeal_decision", {**context, "message": message_to_reported, "terms": terms})
        for p in reported
    ]
    if reporter is not None:
        to_reporter = {**context, "message": message_to_reporter, "terms": ""}
        notices.insert(0, (reporter, "appeal_decision", to_reporter))
    _send_notices(
        session,
        settings,
        case,
        notices,
        message_code="appeal_decision_notice",
        actor=actor,
        details={"appeal_button": False, "final": True, "appeal_result": result},
    )
    transition(session, case, Status.CLOSED, actor, f"appeal {result}")
    notify.staff_notice(
        session,
        case,
        Notice.DECISION,
        entry=final.entry,
        actor=steward_id,
        outcome=outcome,
        final=True,
        appeal_result=result,
        summary=f"Appeal decided ({result}): {summary(final)}. This decision is final; "
        "the case is closed.",
    )
    notify.refresh_views(session, case)
    return final


def extend_term(
    session: Session,
    case: Case,
    steward_id: str,
    term: str,
    until: datetime,
    *,
    now: datetime | None = None,
) -> Deadline:
    """Extend (or shorten) a ban or no-contact term; its end reminder moves with it."""
    check_may_act(case, steward_id)
    now = now or utcnow()
    if until <= now:
        raise DecisionError("The new end date must be in the future.")
    decision = _in_force(session, case)
    if decision is None:
        raise DecisionError(f"{case.ref} has no decision in force.")
    kind = {BAN: DeadlineKind.BAN_ENDS, NO_CONTACT: DeadlineKind.NO_CONTACT_ENDS}.get(term)
    if kind is None:
        raise DecisionError("Choose the ban or the no-contact term.")
    if term == BAN:
        if decision.outcome != "temporary_ban":
            raise DecisionError("Only a temporary ban has an end date.")
        decision.ban_until = until
    else:
        decision.no_contact_until = until
    actor = audit.steward_actor(steward_id)
    audit.record(session, "decision.term_changed", actor=actor, case=case, term=term)
    current = next((d for d in pending(session, case.id) if d.kind == kind), None)
    if current is not None and move(session, current, until, actor=actor, reason=f"{term} changed"):
        deadline = current
    else:
        deadline = schedule(session, case, kind, until, {"decision_id": decision.id})
    notify.staff_notice(
        session,
        case,
        Notice.DECISION,
        actor=steward_id,
        term=term,
        until=iso(until),
        summary=f"The {term.replace('_', '-')} term now ends {human_exact(until)}.",
    )
    notify.refresh_views(session, case)
    return deadline


def _new_decision(
    case: Case,
    steward_id: str,
    now: datetime,
    *,
    other_description: str | None,
    remove_roles: str | None,
    rationale: str | None,
    message_to_reported: str | None,
    message_to_reporter: str | None,
    **fields: Any,
) -> Decision:
    """A decision row with its free-text terms tidied the same way at every stage."""
    return Decision(
        case=case,
        other_description=(other_description or "").strip() or None,
        remove_roles=(remove_roles or "").strip() or None,
        rationale=rationale or "",
        message_to_reported=message_to_reported or "",
        message_to_reporter=message_to_reporter or "",
        decided_by=steward_id,
        created_at=now,
        **fields,
    )


def _in_force(session: Session, case: Case) -> Decision | None:
    """The appeal decision if there is one, else the decision: whichever binds now."""
    original = latest_decision(session, case.id)
    if original is None:
        return None
    return appeal_decision_for(session, original) or original


def _schedule_term_ends(session: Session, case: Case, decision: Decision) -> None:
    payload = {"decision_id": decision.id}
    if decision.ban_until is not None:
        schedule(session, case, DeadlineKind.BAN_ENDS, decision.ban_until, payload)
    if decision.no_contact_until is not None:
        schedule(session, case, DeadlineKind.NO_CONTACT_ENDS, decision.no_contact_until, payload)


def _addressees(
    case: Case, message_to_reporter: str, message_to_reported: str
) -> tuple[Party | None, list[Party]]:
    """Who hears a decision: its reporter and every reported person, each with a message."""
    reporter = reporter_of(case)
    reported = [p for p in case.parties if p.role == Role.REPORTED]
    _require_message(reporter is not None, message_to_reporter, "the reporter")
    _require_message(bool(reported), message_to_reported, "the reported person")
    return reporter, reported


def _send_notices(
    session: Session,
    settings: Settings,
    case: Case,
    notices: list[tuple[Party, str, dict[str, Any]]],
    *,
    message_code: str,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Each party's notice of a decision, from its template, recorded on the case."""
    for party, template, context in notices:
        send_notice(
            session,
            settings,
            case,
            party,
            template,
            message_code=message_code,
            entry_kind=EntryKind.DECISION_NOTICE,
            context=context,
            actor=actor,
            details=details,
        )


def _require_message(needed: bool, message: str, whom: str) -> None:
    if needed and not (message or "").strip():
        raise DecisionError(f"Write the message to {whom}.")


def _result_line(result: str) -> str:
    return {
        UPHOLD: "They have upheld the original decision.",
        MODIFY: "They have changed the original decision, as set out below.",
        OVERTURN: "They have overturned the original decision: it no longer applies.",
    }[result]


def _decision_data(decision: Decision) -> dict[str, object]:
    return {
        "stage": decision.stage,
        "outcome": decision.outcome,
        "appeal_result": decision.appeal_result,
        "ban_until": iso(decision.ban_until),
        "no_contact_until": iso(decision.no_contact_until),
        "remove_roles": decision.remove_roles,
        "other_description": decision.other_description,
        "appeal_deadline": iso(decision.appeal_deadline),
        "final": decision.final,
    }
