"""The export follows the same rule as every other surface: `steward cases show --as`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from core.casework import actions
from core.casework import cases as case_service
from core.infra.models import AuditEvent
from tests.confidentiality.test_anonymity import cli
from tests.slack.conftest import Stack


def test_the_export_is_refused_to_a_conflicted_or_named_steward(
    stack: Stack, tmp_path: Path
) -> None:
    stack.report(reported=["U_STEW1"])
    stack.drain()
    with stack.db.session() as session:
        actions.recuse(session, case_service.get_case(session, "COC-1"), "U_STEW2")
    for steward in ("U_STEW1", "U_STEW2"):
        refused = cli(stack, tmp_path, "cases", "show", "COC-1", "--json", "--as", steward)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.strip() == (
            f"steward: {steward} may not see COC-1: they have a conflict on it or are named in it"
        )
    allowed = cli(stack, tmp_path, "cases", "show", "COC-1", "--json", "--as", "U_STEW3")
    assert allowed.returncode == 0, allowed.stderr
    data = json.loads(allowed.stdout)
    assert [(c["steward"], c["source"]) for c in data["conflicts"]] == [
        ("U_STEW1", "named"),
        ("U_STEW2", "declared"),
    ]
    with stack.db.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["case.exported", "access.refused"]))
        )
        assert [(e.action, e.actor) for e in events] == [
            ("access.refused", "steward:U_STEW1"),
            ("access.refused", "steward:U_STEW2"),
            ("case.exported", "steward:U_STEW3"),
        ]
