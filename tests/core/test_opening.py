"""Bulk opening (core.intake.opening) writes exactly the record that open_case writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.casework import codenames
from core.casework.cases import ReportDraft, Role, Source, open_case
from core.casework.people import Contact
from core.infra.db import Database
from core.infra.models import AuditEvent, Case, Deadline, Entry, OutboxItem, Party, Person
from core.infra.settings import Settings
from core.intake.opening import is_plain, open_plain_cases


def _draft(n: int, email: str | None = None, name: str | None = "Reporter") -> ReportDraft:
    address = email or f"reporter{n}@example.net"
    return ReportDraft(
        source=Source.EMAIL,
        text=f"What happened, number {n}.",
        full_text=f"What happened, number {n}.\n\n> quoted",
        reporter=Contact(email=address.upper(), display_name=name),
        reporter_reply_address=f" {address.upper()} ",
        contact_preference="email",
        data={"subject": f"Report {n}", "defects": []},
        root_message_id=f"<root-{n}@example.net>",
    )


def _record(db: Database, case_id: int) -> dict[str, Any]:
    """Everything about one case that must not depend on how it was opened."""
    with db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        opened_at = case.created_at

        def offset(value: Any) -> float:
            return round((value - opened_at).total_seconds())

        parties = session.scalars(select(Party).where(Party.case_id == case_id)).all()
        return {
            "case": {
                c: getattr(case, c)
                for c in ("status", "source", "category", "severity", "anonymous")
                + ("immediate_danger", "escalated", "claimed_by", "root_message_id", "flags")
            },
            "parties": [
                (
                    p.role,
                    p.contact_email,
                    p.contact_preference,
                    p.anonymous,
                    p.person.email,
                    p.person.display_name,
                    len(p.reply_token),
                )
                for p in parties
            ],
            "entries": [
                (e.kind, e.source, e.party.role if e.party else None, e.text, e.full_text, e.data)
                for e in session.scalars(select(Entry).where(Entry.case_id == case_id))
            ],
            "deadlines": sorted(
                [
                    (d.kind, offset(d.due_at), d.payload, d.fired_at, d.cancelled_at)
                    for d in session.scalars(select(Deadline).where(Deadline.case_id == case_id))
                ],
                key=repr,
            ),
            "audit": sorted(
                [
                    (
                        a.action,
                        a.actor,
                        a.entry_id is not None,
                        {k: v for k, v in a.detail.items() if k != "due_at"},
                    )
                    for a in session.scalars(
                        select(AuditEvent).where(AuditEvent.case_id == case_id)
                    )
                ],
                key=repr,
            ),
            "outbox": [
                (o.channel, o.kind, o.payload, o.ordering_key == f"staff:{case_id}", o.status)
                for o in session.scalars(select(OutboxItem).where(OutboxItem.case_id == case_id))
            ],
        }


def _open_alone(db: Database, draft: ReportDraft, settings: Settings) -> int:
    with db.session() as session:
        return open_case(session, draft, settings).case.id


def _open_in_bulk(db: Database, drafts: list[ReportDraft], settings: Settings) -> list[int]:
    with db.session() as session:
        return [r.id for r in open_plain_cases(session.connection(), drafts, settings)]


def test_bulk_opening_writes_the_record_open_case_writes(db: Database, settings: Settings) -> None:
    alone = _open_alone(db, _draft(1), settings)
    (bulk,) = _open_in_bulk(db, [_draft(1, email="reporter1b@example.net")], settings)

    expected, actual = _record(db, alone), _record(db, bulk)
    expected["parties"] = [p[:1] + p[2:4] + p[5:] for p in expected["parties"]]
    actual["parties"] = [p[:1] + p[2:4] + p[5:] for p in actual["parties"]]
    assert actual == expected
    assert expected["audit"]  # the comparison really covers the trail
    assert len(expected["deadlines"]) == 3
    assert [o[1] for o in expected["outbox"]] == ["case.root"]


def test_a_group_gets_sequential_cases_and_one_person_per_address(
    db: Database, settings: Settings
) -> None:
    drafts = [_draft(1), _draft(2, email="same@example.net"), _draft(3, email="same@example.net")]
    ids = _open_in_bulk(db, drafts, settings)
    assert ids == [1, 2, 3]
    with db.session() as session:
        people = session.scalars(select(Person.email).order_by(Person.id)).all()
        names = session.scalars(select(Case.code_name)).all()
        tokens = session.scalars(select(Party.reply_token)).all()
    assert people == ["reporter1@example.net", "same@example.net"]
    assert len(set(names)) == 3
    assert len(set(tokens)) == 3


def test_a_known_address_reuses_its_person_and_fills_in_a_missing_name(
    db: Database, settings: Settings
) -> None:
    _open_alone(db, _draft(1, email="known@example.net", name=None), settings)
    _open_in_bulk(db, [_draft(2, email="known@example.net", name="Now Named")], settings)
    with db.session() as session:
        people = session.execute(select(Person.email, Person.display_name)).all()
        person_ids = set(session.scalars(select(Party.person_id)))
    assert people == [("known@example.net", "Now Named")]
    assert len(person_ids) == 1


def test_taken_code_names_are_drawn_again(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_alone(db, _draft(1), settings)
    with db.session() as session:
        taken = session.scalars(select(Case.code_name)).one()
    names, draw = iter([taken, "free-name", taken, "other-name"]), codenames.new_code_name
    # Cases' names are the ones drawn without a number; people's are drawn as usual.
    monkeypatch.setattr(
        codenames,
        "new_code_name",
        lambda suffix=False: draw(suffix=True) if suffix else next(names),
    )
    _open_in_bulk(db, [_draft(2), _draft(3)], settings)
    with db.session() as session:
        assert sorted(session.scalars(select(Case.code_name))) == sorted(
            [taken, "free-name", "other-name"]
        )


def test_a_new_person_on_a_single_case_never_takes_a_code_name_already_held(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_alone(db, _draft(1), settings)
    with db.session() as session:
        taken = session.scalars(select(Person.code_name)).one()
    names, draw = iter([taken, taken, "brisk-heron-123"]), codenames.new_code_name
    # People's names are the ones drawn with a number; cases' are drawn as usual.
    monkeypatch.setattr(
        codenames, "new_code_name", lambda suffix=False: next(names) if suffix else draw()
    )
    _open_alone(db, _draft(2, email="someone-else@example.net"), settings)
    with db.session() as session:
        assert sorted(session.scalars(select(Person.code_name))) == sorted(
            [taken, "brisk-heron-123"]
        )


@pytest.mark.parametrize(
    "change",
    [
        {"anonymous": True},
        {"immediate_danger": True},
        {"escalate": True},
        {"involved": [(Role.REPORTED, Contact(display_name="Someone"))]},
        {"reporter": Contact(slack_user_id="U1", email="a@example.net")},
        {"reporter": Contact(display_name="No address")},
    ],
)
def test_reports_out_of_the_ordinary_are_refused(
    db: Database, settings: Settings, change: dict[str, Any]
) -> None:
    draft = _draft(1)
    for name, value in change.items():
        setattr(draft, name, value)
    assert not is_plain(draft)
    with pytest.raises(ValueError, match="only plain reports"), db.session() as session:
        open_plain_cases(session.connection(), [draft], settings)
    with db.session() as session:
        assert session.scalars(select(Case)).all() == []
