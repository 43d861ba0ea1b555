"""The case record as plain data, for `steward cases show --json` and friends.

Field names here are part of Steward's external contract; change them on purpose.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.casework.actions import contact_route
from core.casework.confidentiality import conflicts, may_see
from core.casework.deadlines import NextDeadline, next_pending, next_pending_by_case
from core.decisions.decisions import appeal_decision_for, latest_decision
from core.infra import audit
from core.infra.clock import iso
from core.infra.models import (
    Appeal,
    Attachment,
    Case,
    Deadline,
    Decision,
    Entry,
    MessageSnapshot,
    case_ref,
)
from core.intake.anonymity import redacted
from core.policy import Code
from core.policy.record import case_code


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    return _summary(case, next_pending(session, case.id))


def _summary(case: Case | Row[Any], upcoming: Deadline | NextDeadline | None) -> dict[str, Any]:
    """A case, or a row of `SUMMARY_COLUMNS`, as one line of a list."""
    return {
        "ref": case_ref(case.id),
        "code_name": case.code_name,
        "status": case.status,
        "source": case.source,
        "category": case.category,
        "severity": case.severity,
        "claimed_by": case.claimed_by,
        "created_at": iso(case.created_at),
        "next_deadline": (
            {"kind": upcoming.kind, "due_at": iso(upcoming.due_at)} if upcoming else None
        ),
    }


def case_detail(session: Session, case: Case) -> dict[str, Any]:
    data = case_summary(session, case)
    data.update(
        {
            "flags": dict(case.flags or {}),
            "anonymous": case.anonymous,
            "conflicts": conflicts(case),
            "people": [
                {
                    "role": p.role,
                    "name": None if p.anonymous else p.person.display_name,
                    "email": None if p.anonymous else p.person.email,
                    "slack_user": None if p.anonymous else p.person.slack_user_id,
                    "anonymous": p.anonymous,
                    # An anonymous person is still reachable: Steward relays to them.
                    "contact_route": contact_route(p),
                }
                for p in case.parties
            ],
            "entries": [
                {
                    "kind": e.kind,
                    "source": e.source,
                    "party_role": e.party.role if e.party is not None else None,
                    "text": e.text,
                    "full_text": e.full_text,
                    "created_at": iso(e.created_at),
                    "data": _entry_data(e),
                }
                for e in case.entries
            ],
            "deadlines": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "due_at": iso(d.due_at),
                    "fired_at": iso(d.fired_at),
                    "cancelled_at": iso(d.cancelled_at),
                }
                for d in case.deadlines
            ],
            "snapshot": snapshot_data(session, case),
            "attachments": attachments_data(session, case),
            "decision": decision_data(session, case),
            "appeals": [appeal_data(a) for a in appeals_of(session, case)],
            "slack": {"channel": case.slack_channel, "thread_ts": case.slack_thread_ts},
            "code_of_conduct": _code_of(session, case),
        }
    )
    return data


def export_allowed(session: Session, case: Case, steward_id: str) -> bool:
    """Whether a steward may take the case out, by the rule every surface follows; the
    answer is audited either way. The operator vouches that they are a steward."""
    allowed = may_see(case, steward_id, {steward_id})
    action = "case.exported" if allowed else "access.refused"
    audit.record(
        session, action, actor=audit.steward_actor(steward_id), case=case, attempted="export"
    )
    return allowed


def _entry_data(entry: Entry) -> dict[str, Any]:
    """What an entry records; for an anonymous sender, without their address."""
    data = dict(entry.data or {})
    return redacted(data) if entry.party is not None and entry.party.anonymous else data


def snapshot_data(session: Session, case: Case) -> dict[str, Any] | None:
    """The reported message as it was when reported: evidence, so it is in the record."""
    snapshot = session.scalars(
        select(MessageSnapshot).where(MessageSnapshot.case_id == case.id).limit(1)
    ).first()
    if snapshot is None:
        return None
    return {**dict(snapshot.data or {}), "taken_at": iso(snapshot.created_at)}


def attachments_data(session: Session, case: Case) -> list[dict[str, Any]]:
    """Every stored file, with what proves it unchanged (size and SHA-256), not its bytes."""
    rows = session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
    )
    return [
        {
            "filename": a.filename,
            "original_filename": a.original_filename,
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            "entry_index": _entry_index(case, a.entry_id),
            "created_at": iso(a.created_at),
        }
        for a in rows
    ]


def _entry_index(case: Case, entry_id: int) -> int | None:
    """Which of `entries` the file came with (its position in the export's list)."""
    return next((i for i, e in enumerate(case.entries) if e.id == entry_id), None)


def decision_data(session: Session, case: Case) -> dict[str, Any] | None:
    """The decision in force, with the final decision on its appeal when there is one."""
    decision = latest_decision(session, case.id)
    if decision is None:
        return None
    code = case_code(session, None, case)
    data = _terms(decision, code)
    data["appeal_deadline"] = iso(decision.appeal_deadline)
    final = appeal_decision_for(session, decision)
    data["appeal_decision"] = _terms(final, code) if final is not None else None
    return data


def _code_of(session: Session, case: Case) -> dict[str, Any]:
    """Which code of conduct, and which version of it, the case is handled under."""
    code = case_code(session, None, case)
    return {"name": code.name, "title": code.title, "version": case.conduct_version}


def _terms(decision: Decision, code: Code) -> dict[str, Any]:
    return {
        "id": decision.id,
        "stage": decision.stage,
        "outcome": decision.outcome,
        "outcome_label": code.option_label(decision.outcome) if decision.outcome else None,
        "public_statement": decision.public_statement,
        "other_description": decision.other_description,
        "ban_until": iso(decision.ban_until),
        "no_contact_until": iso(decision.no_contact_until),
        "remove_roles": decision.remove_roles,
        "rationale": decision.rationale,
        "appeal_result": decision.appeal_result,
        "final": decision.final,
        "decided_by": decision.decided_by,
        "decided_at": iso(decision.created_at),
    }


def appeals_of(session: Session, case: Case) -> list[Appeal]:
    return list(
        session.scalars(select(Appeal).where(Appeal.case_id == case.id).order_by(Appeal.id))
    )


def appeal_data(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.id,
        "decision_id": appeal.decision_id,
        "party_role": appeal.party.role if appeal.party is not None else None,
        "source": appeal.source,
        "received_at": iso(appeal.received_at),
        "late": appeal.late,
        "status": appeal.status,
        "accepted_by": appeal.accepted_by,
        "accepted_at": iso(appeal.accepted_at),
        "accept_reason": appeal.accept_reason,
    }


# What a line of a list of cases shows, and all `list_cases` reads: no sealed value
# (nothing to open) and no case objects to build, which were most of its cost.
SUMMARY_COLUMNS = (
    Case.id,
    Case.code_name,
    Case.status,
    Case.source,
    Case.category,
    Case.severity,
    Case.claimed_by,
    Case.created_at,
)


def list_cases(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` cases, each as `case_summary` shows it."""
    rows = session.execute(select(*SUMMARY_COLUMNS).order_by(Case.id.desc()).limit(limit)).all()
    upcoming = next_pending_by_case(session, [r.id for r in rows])
    return [_summary(r, upcoming.get(r.id)) for r in rows]
