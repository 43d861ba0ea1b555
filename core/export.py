"""The case record as plain data, for `steward cases show --json` and friends.

Field names here are part of Steward's external contract; change them on purpose.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import iso
from core.deadlines import next_pending
from core.models import Attachment, Case


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    upcoming = next_pending(session, case.id)
    return {
        "ref": case.ref,
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
    attachment_count = session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)
    )
    data.update(
        {
            "flags": dict(case.flags or {}),
            "anonymous": case.anonymous,
            "people": [
                {
                    "role": p.role,
                    "name": None if p.anonymous else p.person.display_name,
                    "email": None if p.anonymous else p.person.email,
                    "slack_user": None if p.anonymous else p.person.slack_user_id,
                    "anonymous": p.anonymous,
                }
                for p in case.parties
            ],
            "entries": [
                {
                    "kind": e.kind,
                    "source": e.source,
                    "text": e.text,
                    "created_at": iso(e.created_at),
                    "data": dict(e.data or {}),
                }
                for e in case.entries
            ],
            "deadlines": [
                {
                    "kind": d.kind,
                    "due_at": iso(d.due_at),
                    "fired_at": iso(d.fired_at),
                    "cancelled_at": iso(d.cancelled_at),
                }
                for d in case.deadlines
            ],
            "attachments": attachment_count,
            "decision": None,
            "appeals": [],
            "slack": {"channel": case.slack_channel, "thread_ts": case.slack_thread_ts},
        }
    )
    return data


def list_cases(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    cases = session.scalars(select(Case).order_by(Case.id.desc()).limit(limit))
    return [case_summary(session, c) for c in cases]
