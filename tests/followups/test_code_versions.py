"""A case keeps the code of conduct it was opened under: editing the file later changes
new cases only, never an old case's options, notices or deadlines."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from core.casework import cases as case_service
from core.decisions.decisions import appeal_deadline, latest_decision
from core.infra.clock import human_exact
from core.infra.db import Database
from core.infra.models import ConductCode
from core.infra.settings import Settings
from core.policy import load_code
from core.records.export import case_detail
from tests.followups.conftest import dms, open_case
from tests.followups.test_decisions import decide

CODE = """\
title: the Example Code, {edition}
community: the Example Guild
report:
  categories:
    - {{id: harassment, label: Harassment}}
decisions:
  - {{id: warning, label: A warning, notice: "A warning from {{community}}, {edition}."}}
appeal:
  window_days: {days}
  to: the Guild council
"""


def decided(db: Database, settings: Settings, case_id: int) -> tuple[object, object]:
    """Decide the case; when the decision was made, and when its appeal window closes."""
    decide(db, settings, case_id)
    with db.session() as session:
        decision = latest_decision(session, case_id)
        assert decision is not None
        return decision.created_at, decision.appeal_deadline


def write(path: Path, edition: str, days: int) -> None:
    path.write_text(CODE.format(edition=edition, days=days))
    load_code.cache_clear()  # as a restart would


def test_an_old_case_keeps_its_version_after_the_file_changes(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "guild.yaml"
    settings = replace(settings, code_of_conduct=str(path))
    write(path, "first edition", 30)
    first = open_case(db, settings)
    write(path, "second edition", 10)
    second = open_case(db, settings)
    try:
        decided_at, window = decided(db, settings, first)
        assert window == appeal_deadline(30, decided_at)  # type: ignore[arg-type]
        old = [n["text"] for n in dms(db, "decision_notice") if n["user"] == "U_BLAIR"][-1]
        assert "- A warning from the Example Guild, first edition." in old
        assert "The stewards applied the Example Code, first edition." in old
        assert f"in writing to the Guild council until {human_exact(window)}." in old  # type: ignore[arg-type]
        decided_at, window = decided(db, settings, second)
        assert window == appeal_deadline(10, decided_at)  # type: ignore[arg-type]
        new = [n["text"] for n in dms(db, "decision_notice") if n["user"] == "U_BLAIR"][-1]
        assert "- A warning from the Example Guild, second edition." in new
        with db.session() as session:
            versions = [
                case_detail(session, case_service.get_case(session, c))["code_of_conduct"]
                for c in (first, second)
            ]
            assert session.scalar(select(func.count()).select_from(ConductCode)) == 2
        assert versions[0]["title"] == "the Example Code, first edition"
        assert versions[1]["title"] == "the Example Code, second edition"
        assert versions[0]["version"] != versions[1]["version"]
    finally:
        load_code.cache_clear()
