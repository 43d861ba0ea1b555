"""People across cases: code names, and earlier cases shown only to stewards allowed them."""

from __future__ import annotations

import json
from pathlib import Path

from core.casework import actions
from core.casework import cases as case_service
from core.decisions.decisions import record_decision
from core.infra.db import Database
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.slack.test_casework import click, root_of
from tests.smtp_helpers import cli_result, send

WARNING = "Warning, with the consequences of repeating it"


def warn(db: Database, settings: Settings, ref: str) -> None:
    with db.session() as session:
        record_decision(
            session,
            settings,
            case_service.get_case(session, ref),
            "U_STEW1",
            "warning",
            rationale="Confirmed.",
            message_to_reported="Please keep to the code.",
            message_to_reporter="We have acted on your report.",
        )


def code_names(db: Database, ref: str) -> dict[str, str]:
    with db.session() as session:
        case = case_service.get_case(session, ref)
        return {p.role: p.person.code_name for p in case.parties}


def test_view_report_and_the_decision_modal_show_earlier_cases_to_stewards_allowed(
    stack: Stack,
) -> None:
    stack.report("U_ALEX", reported=["U_BLAIR"])
    warn(stack.db, stack.settings, "COC-1")
    stack.report("U_ALEX", reported=["U_BLAIR"])
    first, second = code_names(stack.db, "COC-1"), code_names(stack.db, "COC-2")
    assert first == second and first["reported"] != first["reporter"]
    blair = first["reported"]
    assert blair.count("-") == 2  # adjective-noun-number

    root = root_of(stack, "COC-2")
    [view] = click(stack, "U_STEW1", "case_view_report", root, value="2")["views"]
    shown = json.dumps(view)
    assert "Earlier cases of the people named" in shown
    assert f"{blair} (the reported here) is the reported in COC-1: {WARNING}" in shown
    [decide] = click(stack, "U_STEW1", "case_decide", root, value="2")["views"]
    [history] = [b for b in decide["blocks"] if "Earlier outcomes" in json.dumps(b)]
    assert history["elements"][0]["text"] == (
        f"*Earlier outcomes:* {blair} (the reported here) is the reported in COC-1: "
        f"{WARNING} (awaiting_appeal)"
    )

    with stack.db.session() as session:
        actions.recuse(session, case_service.get_case(session, "COC-1"), "U_STEW2")
    [hidden] = click(stack, "U_STEW2", "case_view_report", root, value="2")["views"]
    assert "COC-1" not in json.dumps(hidden)
    [no_history] = click(stack, "U_STEW2", "case_decide", root, value="2")["views"]
    assert "Earlier outcomes" not in json.dumps(no_history)

    stack.drain()
    channel = json.dumps(stack.staff_messages())
    assert "Earlier" not in channel and blair not in channel
    for message in stack.staff_messages():
        assert not ("COC-2" in message.get("text", "") and "COC-1" in message.get("text", ""))


def test_an_anonymous_reporter_is_linked_to_nothing(stack: Stack) -> None:
    stack.report("U_ALEX", reported=["U_BLAIR"])
    stack.report("U_ALEX", reported=["U_BLAIR"], anonymous=True)
    root = root_of(stack, "COC-2")
    [view] = click(stack, "U_STEW1", "case_view_report", root, value="2")["views"]
    shown = json.dumps(view)
    assert "(the reported here) is the reported in COC-1" in shown
    assert "the reporter" not in shown.split("Earlier cases", 1)[1].split("COC-1")[0]
    assert "is the reporter in COC-1" not in shown


def test_the_case_file_lists_the_earlier_cases_of_a_repeat_sender(
    gateway: MailServer, db: Database, mail_settings: Settings, tmp_path: Path
) -> None:
    assert send(gateway.address[1], corpus.plain(subject="First"))[0] == 250
    assert send(gateway.address[1], corpus.plain(subject="Second"))[0] == 250
    result = cli_result(mail_settings.database_url, tmp_path, "export", "COC-2", "--out", "out")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "COC-2.json").read_text(encoding="utf-8"))
    name = code_names(db, "COC-1")["reporter"]
    assert data["people"][0]["code_name"] == name
    assert data["earlier_cases"] == [
        {
            "code_name": name,
            "role_here": "reporter",
            "ref": "COC-1",
            "role_there": "reporter",
            "status": "new",
            "outcome": None,
            "outcome_label": "no decision yet",
        }
    ]
    markdown = (tmp_path / "out" / "COC-2.md").read_text(encoding="utf-8")
    assert f"- {name} (the reporter here) is the reporter in COC-1: no decision yet (new)" in (
        markdown
    )
