"""Decisions among the options of the case's code of conduct, and the decision on an appeal.

A decision is what the codes of conduct promise: documented (the rationale is
kept, for the stewards only), told to the reporter and to the reported person
(each notice recorded exactly as sent, naming the code), and open to appeal as
that code says: for a window whose exact end every notice gives, with no time
limit, or not at all. The appeal decision closes the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework import checklist, notify
from core.casework.actions import check_may_act
from core.casework.cases import EntryKind, Role, Source, add_entry, reporter_of, transition
from core.casework.deadlines import (
    FOLLOW_UP_KINDS,
    DeadlineKind,
    cancel,
    cancel_kinds,
    move,
    pending,
    schedule,
)
from core.casework.notify import Notice
from core.casework.status import Status
from core.decisions.notices import HOW_TO_APPEAL, send_notice
from core.infra import audit
from core.infra.clock import ceil_time, human_exact, iso, utcnow
from core.infra.models import Appeal, Case, Deadline, Decision, Party
from core.infra.settings import Settings
from core.policy import Code, Need
from core.policy.record import case_code
from core.policy.wording import appeal_section, capital, code_line, final_line

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
    """The decision cannot be recorded as given. The message is safe to show a steward;
    `field` names the part of the form it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def appeal_deadline(days: float, sent_at: datetime) -> datetime:
    """When the appeal window closes: `days` after the notice, rounded up.

    Rounding up (to the minute for real windows, to the second for the short ones
    tests use) lets the notice state the deadline exactly without shortening it.
    """
    due = sent_at + timedelta(days=days)
    step = timedelta(minutes=1) if days >= 1 else timedelta(seconds=1)
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


@dataclass(frozen=True)
class Terms:
    """What a steward set beside the outcome; which of them an outcome takes is the code's."""

    ban_until: datetime | None = None
    no_contact_until: datetime | None = None
    remove_roles: str | None = None
    other_description: str | None = None
    public_statement: str | None = None


def check_terms(code: Code, outcome: str | None, terms: Terms, *, now: datetime) -> None:
    """The code's rules for an outcome: the end date, no-contact term, roles and public
    statement it requires or refuses, and a description where the steward writes it."""
    option = code.option(outcome)
    if option is None:
        raise DecisionError(
            f"Choose an outcome from the enforcement ladder of {code.title}.", "outcome"
        )
    name = f"This outcome ({option.label})"
    _check_term(option.end_date, terms.ban_until, name, "an end date", "ban_until")
    if terms.ban_until is not None and terms.ban_until <= now:
        raise DecisionError("The end date must be in the future.", "ban_until")
    _check_term(
        option.no_contact, terms.no_contact_until, name, "a no-contact term", "no_contact_until"
    )
    if terms.no_contact_until is not None and terms.no_contact_until <= now:
        raise DecisionError("A no-contact term must end in the future.", "no_contact_until")
    roles = (terms.remove_roles or "").strip() or None
    _check_term(option.removes_roles, roles, name, "the roles removed", "remove_roles")
    if (terms.public_statement or "").strip() and not option.public_statement:
        raise DecisionError(f"{name} allows no public statement.", "public_statement")
    if option.describe and not (terms.other_description or "").strip():
        raise DecisionError("Describe the outcome you chose.", "other_description")


def _check_term(need: Need, value: object, name: str, what: str, field: str) -> None:
    if need == Need.REQUIRED and value is None:
        raise DecisionError(f"{name} needs {what}.", field)
    if need == Need.NEVER and value is not None:
        raise DecisionError(f"{name} has no {what.split(' ', 1)[1]}; leave it empty.", field)


def check_heard(session: Session, code: Code, case: Case) -> None:
    """Refuse a decision the code forbids until the reported person has been heard."""
    if code.hearing_required and not checklist.reported_heard(session, code, case):
        step = next((s for s in code.checklist if s.hears_reported), None)
        how = f" or tick “{step.text}” on the checklist" if step else ""
        raise DecisionError(
            f"{capital(code.title)} requires hearing the reported person before any "
            f"decision. Ask for their side and wait for their answer{how}, then decide.",
            "outcome",
        )


def terms_text(decision: Decision, code: Code, community: str) -> str:
    """The terms in plain words, for the person they concern, in the code's own sentences."""
    option = code.option(decision.outcome)
    until = decision.ban_until
    if option is None:
        sentence = "The earlier decision is set aside."
    elif option.describe:
        sentence = (decision.other_description or "").strip()
    else:
        sentence = option.notice.format(
            community=community,
            until=f"until {human_exact(until)}" if until else "with no end date",
        )
    lines = [f"- {sentence}"]
    if decision.no_contact_until is not None:
        lines.append(
            "- You must not contact the people involved in this report until "
            f"{human_exact(decision.no_contact_until)}."
        )
    if (decision.remove_roles or "").strip():
        lines.append(f"- You are removed from these roles: {decision.remove_roles.strip()}.")
    return "\n".join(lines)


def summary(decision: Decision, code: Code) -> str:
    """One line for the stewards' thread: the outcome and terms, no names and no words."""
    parts = [code.option_label(decision.outcome) if decision.outcome else "Decision set aside"]
    if decision.ban_until:
        parts.append(f"ends {human_exact(decision.ban_until)}")
    if decision.no_contact_until:
        parts.append(f"no contact until {human_exact(decision.no_contact_until)}")
    if (decision.remove_roles or "").strip():
        parts.append("removed from roles")
    if decision.public_statement:
        parts.append("with a public statement")
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
    public_statement: str | None = None,
    source: Source | str = Source.SLACK,
    now: datetime | None = None,
) -> Decision:
    """Record a decision, tell both sides, and open the appeal the case's code allows.

    With an appeal window the case moves to `awaiting_appeal` and a deadline row
    closes it when the window ends; with no window (appeals any time) or no
    appeal at all, it closes now, and a later appeal reopens it for review.
    """
    check_may_act(case, steward_id)
    now = now or utcnow()
    code = case_code(session, settings, case)
    if case.status not in DECIDABLE:
        raise DecisionError(
            f"{case.ref} already has a decision; reopen it to decide again, "
            "or record a decision on its appeal."
        )
    terms = Terms(ban_until, no_contact_until, remove_roles, other_description, public_statement)
    check_terms(code, outcome, terms, now=now)
    check_heard(session, code, case)
    reporter, reported = _addressees(case, message_to_reporter, message_to_reported)
    actor = audit.steward_actor(steward_id)
    if case.status == Status.NEW:
        transition(session, case, Status.TRIAGE, actor, "acknowledged by a decision")
    days = code.appeal.window(settings)
    window = appeal_deadline(days, now) if days is not None else None
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
        public_statement=public_statement,
        rationale=rationale,
        message_to_reported=message_to_reported,
        message_to_reporter=message_to_reporter,
        appeal_deadline=window,
        final=not code.appeal.allowed,
    )
    session.add(decision)
    appeal_state = _appeal_state(code, window)
    decision.entry = add_entry(
        session,
        case,
        EntryKind.DECISION,
        source,
        f"Decision: {summary(decision, code)}. {appeal_state}",
        author=actor,
        full_text=rationale or None,
        data=_decision_data(decision),
    )
    if window is not None:
        transition(session, case, Status.AWAITING_APPEAL, actor, "decision sent")
    else:
        transition(session, case, Status.CLOSED, actor, "decision sent; " + appeal_state)
    cancel_kinds(session, case.id, WITHDRAWN_BY_DECISION, "decision sent")
    session.flush()
    if window is not None:
        schedule(session, case, DeadlineKind.APPEAL_WINDOW, window, {"decision_id": decision.id})
    _schedule_term_ends(session, case, decision)
    community = code.community_name(settings)
    context = {
        "community": community,
        "code_line": code_line(code),
        "appeal_rule": {
            route: appeal_section(code, window, how) for route, how in HOW_TO_APPEAL.items()
        },
        "terms": terms_text(decision, code, community),
    }
    to_reported = {**context, "message": message_to_reported}
    notices = [(p, "decision_reported", to_reported) for p in reported]
    if reporter is not None:
        told = (
            f"\nWhat was decided: {summary(decision, code)}.\n"
            if code.tell_reporter_outcome
            else ""
        )
        to_reporter = {**context, "message": message_to_reporter, "outcome_for_reporter": told}
        notices.insert(0, (reporter, "decision_reporter", to_reporter))
    _send_notices(
        session,
        settings,
        case,
        notices,
        message_code="decision_notice",
        actor=actor,
        details={
            "appeal_button": code.appeal.allowed,
            "appeal_deadline": iso(window),
            "final": decision.final,
        },
    )
    notify.staff_notice(
        session,
        case,
        Notice.DECISION,
        entry=decision.entry,
        actor=steward_id,
        outcome=outcome,
        final=decision.final,
        appeal_deadline=iso(window),
        summary=f"Decision recorded: {summary(decision, code)}. The notices are on their way; "
        f"{appeal_state[:1].lower()}{appeal_state[1:]}",
    )
    notify.refresh_views(session, case)
    return decision


def _appeal_state(code: Code, window: datetime | None) -> str:
    """Where the case stands on appeals after a decision, for the stewards."""
    if window is not None:
        return f"Appeals are open until {human_exact(window)}."
    if code.appeal.allowed:
        return "Appeals are open with no time limit; the case is closed until one arrives."
    return "The code provides no appeal; the case is closed."


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
    public_statement: str | None = None,
    source: Source | str = Source.SLACK,
    now: datetime | None = None,
) -> Decision:
    """Decide an appeal: uphold, modify (with new terms) or overturn. Final; the case closes.

    Upholding keeps the original terms; modifying replaces them and their end
    reminders; overturning sets them aside (and withdraws their reminders).
    """
    check_may_act(case, steward_id)
    now = now or utcnow()
    code = case_code(session, settings, case)
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
        public_statement = original.public_statement
    elif result == MODIFY:
        terms = Terms(
            ban_until, no_contact_until, remove_roles, other_description, public_statement
        )
        check_terms(code, outcome, terms, now=now)
    else:
        outcome, ban_until, no_contact_until, remove_roles = None, None, None, None
        public_statement = None
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
        public_statement=public_statement,
        rationale=rationale,
        message_to_reported=message_to_reported,
        message_to_reporter=message_to_reporter,
        appeal_result=result,
        final=code.appeal.final,
    )
    session.add(final)
    result_line = _result_line(result)
    final.entry = add_entry(
        session,
        case,
        EntryKind.APPEAL_DECISION,
        source,
        f"Appeal decision ({result}{', final' if final.final else ''}): {summary(final, code)}.",
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
    community = code.community_name(settings)
    context = {"result_line": result_line, "community": community, "final_line": final_line(code)}
    terms = "" if result == UPHOLD else "\n" + terms_text(final, code, community) + "\n"
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
        details={"appeal_button": False, "final": final.final, "appeal_result": result},
    )
    transition(session, case, Status.CLOSED, actor, f"appeal {result}")
    notify.staff_notice(
        session,
        case,
        Notice.DECISION,
        entry=final.entry,
        actor=steward_id,
        outcome=outcome,
        final=final.final,
        appeal_result=result,
        summary=f"Appeal decided ({result}): {summary(final, code)}. "
        + ("This decision is final; " if final.final else "")
        + "the case is closed.",
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
        if decision.ban_until is None:
            raise DecisionError("This decision has no end date to change.", "ban_until")
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
    public_statement: str | None,
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
        public_statement=(public_statement or "").strip() or None,
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
        "public_statement": decision.public_statement,
        "appeal_deadline": iso(decision.appeal_deadline),
        "final": decision.final,
    }
