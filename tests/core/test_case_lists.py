"""Lists of cases (`steward cases list`, App Home) read a large record a page at a time
and must show exactly what a case-by-case reading shows."""

from __future__ import annotations

from sqlalchemy import update

from core.casework.cases import ReportDraft, Source, flag, get_case
from core.casework.deadlines import next_pending
from core.casework.people import Contact
from core.infra.clock import utcnow
from core.infra.db import Database
from core.infra.models import Case, Deadline
from core.infra.settings import Settings
from core.intake.opening import open_plain_cases
from core.records.export import case_summary, list_cases
from slackapp.readmodels import next_deadline_text, open_cases

STEWARD = "U_STEW1"
STEWARDS = (STEWARD, "U_STEW2")


def _open(db: Database, settings: Settings, count: int) -> list[int]:
    drafts = [
        ReportDraft(
            source=Source.EMAIL,
            text=f"Report {n}.",
            reporter=Contact(email=f"member{n}@example.net"),
            contact_preference="email",
            root_message_id=f"<list-{n}@example.net>",
        )
        for n in range(count)
    ]
    with db.engine.begin() as conn:
        return [o.id for o in open_plain_cases(conn, drafts, settings)]


def test_app_home_lists_the_forty_oldest_open_cases_the_steward_may_see(
    db: Database, settings: Settings
) -> None:
    ids = _open(db, settings, 130)
    closed = ids[:50:2]
    recused = ids[1:60:3]
    with db.session() as session:
        session.execute(update(Case).where(Case.id.in_(closed)).values(status="closed"))
        session.execute(update(Case).where(Case.id == ids[3]).values(status="investigating"))
        for case_id in recused:
            flag(session, get_case(session, case_id), "recused", [STEWARD])
        # The first visible case's acknowledgement is given: its next deadline is another.
        session.execute(
            update(Deadline)
            .where(Deadline.case_id == ids[3], Deadline.kind == "acknowledgement_due")
            .values(cancelled_at=utcnow())
        )
    expected = [i for i in ids if i not in closed and i not in recused][:40]
    with db.session() as session:
        shown = open_cases(session, STEWARD, STEWARDS, settings)
        one_by_one = [next_deadline_text(session, get_case(session, i)) for i in expected]
    assert [c.ref for c in shown] == [f"COC-{i}" for i in expected]
    assert [c.next_deadline for c in shown] == one_by_one
    assert shown[0].status == "investigating" and not shown[0].next_deadline.startswith("ack")
    with db.session() as session:
        others = open_cases(session, "U_STEW2", STEWARDS, settings)
    assert [c.ref for c in others] == [f"COC-{i}" for i in ids if i not in closed][:40]


def test_cases_list_matches_each_case_summary(db: Database, settings: Settings) -> None:
    ids = _open(db, settings, 12)
    with db.session() as session:
        session.execute(
            update(Deadline).where(Deadline.case_id == ids[5]).values(fired_at=utcnow())
        )
    with db.session() as session:
        rows = list_cases(session, limit=10)
        expected = [case_summary(session, get_case(session, i)) for i in reversed(ids[2:])]
        assert next_pending(session, ids[5]) is None
    assert rows == expected
    assert rows[6]["ref"] == f"COC-{ids[5]}" and rows[6]["next_deadline"] is None
    assert all(r["next_deadline"] for i, r in enumerate(rows) if i != 6)
