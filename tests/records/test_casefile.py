"""Case files: `steward export REF --out DIR` writes the record as JSON and as Markdown."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from core.casework import actions
from core.casework import cases as case_service
from core.decisions.decisions import record_decision
from core.infra.db import Database
from core.infra.models import AuditEvent
from core.infra.settings import Settings
from core.records.casefile import EXPORT_ACTION
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import cli_result, send


def exported(out: Path, ref: str = "COC-1") -> tuple[dict, str]:
    data = json.loads((out / f"{ref}.json").read_text(encoding="utf-8"))
    return data, (out / f"{ref}.md").read_text(encoding="utf-8")


def audit_actions(db: Database, action: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_mailed_report_exports_with_its_evidence_decision_and_notices(
    gateway: MailServer, db: Database, mail_settings: Settings, tmp_path: Path
) -> None:
    assert send(gateway.address[1], corpus.attachment_non_ascii())[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        record_decision(
            session,
            mail_settings,
            case,
            "U_STEWARD",
            "warning",
            rationale="Two witnesses confirmed the remarks.",
            message_to_reported="Please keep to the code.",
            message_to_reporter="We have acted on your report.",
            source="email",
        )
    out = tmp_path / "files"
    result = cli_result(
        mail_settings.database_url, tmp_path, "export", "COC-1", "--out", str(out), "--files"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {out / 'COC-1.json'} and {out / 'COC-1.md'}",
        f"wrote 2 evidence file(s) to {out / 'COC-1-files'}/",
    ]
    data, markdown = exported(out)
    assert [a["filename"] for a in data["attachments"]] == list(corpus.ATTACHMENT_NAMES)
    assert data["decision"]["outcome"] == "warning"
    assert {n["to_role"] for n in data["notices"] if n["channel"] == "email"} >= {"reporter"}
    for heading in ("## Timeline", "## Evidence", "## Decision", "## Notices as sent"):
        assert heading in markdown
    assert "## Appeals\n\nNo appeals." in markdown
    assert "Two witnesses confirmed the remarks." in markdown
    assert "We have acted on your report." in markdown
    written = sorted((out / "COC-1-files").iterdir())
    assert [p.name for p in written] == [
        f"01-{corpus.ATTACHMENT_NAMES[0]}",
        f"02-{corpus.ATTACHMENT_NAMES[1]}",
    ]
    for path, listed in zip(written, data["attachments"], strict=True):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == listed["sha256"]
        assert f"| {listed['size']} | `{digest}` |" in markdown
    [event] = audit_actions(db, EXPORT_ACTION)
    assert (event.actor, event.detail) == ("cli", {"files": 2, "with_evidence": True})


def test_an_anonymous_slack_report_exports_without_its_reporter(
    stack: Stack, tmp_path: Path
) -> None:
    stack.report("U_ALEX", anonymous=True)
    out = tmp_path / "out"
    result = cli_result(stack.settings.database_url, tmp_path, "export", "COC-1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data, markdown = exported(out)
    reporter = next(p for p in data["people"] if p["role"] == "reporter")
    assert reporter == {
        "role": "reporter",
        "name": None,
        "email": None,
        "slack_user": None,
        "anonymous": True,
        "contact_route": "slack",
        "code_name": None,
    }
    assert "- reporter: anonymous" in markdown
    for text in (json.dumps(data), markdown):
        assert "U_ALEX" not in text
    assert "They mocked my accent" in markdown


def test_a_steward_named_in_the_case_or_conflicted_cannot_export_it(
    stack: Stack, tmp_path: Path
) -> None:
    stack.report("U_ALEX", reported=["U_BLAIR"])
    with stack.db.session() as session:
        actions.recuse(session, case_service.get_case(session, "COC-1"), "U_CASEY")
    url, out = stack.settings.database_url, tmp_path / "out"
    named = cli_result(url, tmp_path, "export", "COC-1", "--out", str(out), "--as", "U_BLAIR")
    assert named.returncode == 1
    assert named.stderr == (
        "steward export: You are named in COC-1, so its case file must be exported "
        "by another steward.\n"
    )
    conflicted = cli_result(url, tmp_path, "export", "COC-1", "--out", str(out), "--as", "U_CASEY")
    assert conflicted.returncode == 1
    assert conflicted.stderr == (
        "steward export: You have declared a conflict on COC-1, so it is closed to you.\n"
    )
    assert not out.exists()
    refused = audit_actions(stack.db, "access.refused")
    assert [(e.actor, e.detail) for e in refused] == [
        ("user:U_BLAIR", {"attempted": EXPORT_ACTION}),
        ("user:U_CASEY", {"attempted": EXPORT_ACTION}),
    ]
    allowed = cli_result(url, tmp_path, "export", "COC-1", "--out", str(out), "--as", "U_DANA")
    assert allowed.returncode == 0, allowed.stderr
    [event] = audit_actions(stack.db, EXPORT_ACTION)
    assert event.actor == "steward:U_DANA"


def test_an_unknown_case_is_named(settings: Settings, db: Database, tmp_path: Path) -> None:
    result = cli_result(settings.database_url, tmp_path, "export", "COC-9", "--out", str(tmp_path))
    assert (result.returncode, result.stderr) == (1, "steward: no case COC-9\n")
