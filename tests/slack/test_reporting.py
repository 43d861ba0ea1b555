"""Reporting from Slack, end to end through the emulator."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core.casework import cases as case_service
from core.infra.models import Case, MessageSnapshot, Submission
from slackapp.intake import SubmissionProcessor
from tests.slack.conftest import Stack, eventually, form_values, post_signed, submission


def test_a_global_report_opens_a_case_with_a_thread_root(stack: Stack) -> None:
    answer = stack.report(what="They mocked my accent in #general after I asked them to stop.")
    assert answer["status"] == 200 and not answer["body"]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert (case.source, case.status, case.category) == ("slack", "new", "harassment")
        assert [p.role for p in case.parties] == ["reporter", "reported"]
    stack.drain()
    [root] = [m for m in stack.staff_messages() if "COC-1" in m.get("text", "")]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert (case.slack_channel, case.slack_thread_ts) == ("G_STAFF", root["ts"])
    dump = json.dumps(root)
    assert "mocked my accent" not in dump and "U_ALEX" not in dump and "U_BLAIR" not in dump
    dms = stack.dm_messages("U_ALEX")
    assert dms and "COC-1" in json.dumps(dms) and case.code_name in json.dumps(dms)


def test_a_message_report_keeps_a_snapshot(stack: Stack) -> None:
    general = stack.emulator.state()["channels"]["C_GENERAL"]["messages"]
    target = next(m for m in general if m.get("user") == "U_BLAIR")
    opened = stack.emulator.message_shortcut("U_ALEX", "C_GENERAL", target["ts"], "report_message")
    view = opened["views"][0]
    assert target["text"][:40] in json.dumps(view)
    answer = stack.emulator.submit("U_ALEX", view["id"], form_values(what="This message."))
    assert answer["status"] == 200
    stack.drain()
    with stack.db.session() as session:
        snapshot = session.scalars(select(MessageSnapshot)).one()
        assert snapshot.case_id == 1
        assert snapshot.data["text"] == target["text"]
        assert snapshot.data["user"] == "U_BLAIR" and snapshot.data["ts"] == target["ts"]

    def permalink() -> str | None:
        with stack.db.session() as session:
            return session.scalars(select(MessageSnapshot)).one().data.get("permalink")

    assert "C_GENERAL" in (eventually(permalink) or "")


def test_a_bot_message_can_be_reported(stack: Stack) -> None:
    general = stack.emulator.state()["channels"]["C_GENERAL"]["messages"]
    target = next(m for m in general if m.get("bot_id"))
    opened = stack.emulator.message_shortcut("U_ALEX", "C_GENERAL", target["ts"], "report_message")
    answer = stack.emulator.submit("U_ALEX", opened["views"][0]["id"], form_values(reported=[]))
    assert answer["status"] == 200
    stack.drain()
    with stack.db.session() as session:
        snapshot = session.scalars(select(MessageSnapshot)).one()
        assert snapshot.data["bot_id"] == target["bot_id"] and snapshot.case_id == 1


def test_double_submission_makes_one_case(stack: Stack) -> None:
    opened = stack.emulator.global_shortcut("U_ALEX", "report_concern")
    view_id = opened["views"][0]["id"]
    payload = submission("U_ALEX", view_id, form_values())
    secret = stack.settings.slack_signing_secret
    assert post_signed(stack.web.events_url, secret, payload)[0] == 200
    assert post_signed(stack.web.events_url, secret, payload)[0] == 200
    stack.drain()
    with stack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_a_forged_signature_is_refused_with_401(stack: Stack) -> None:
    payload = submission("U_ALEX", "V_FORGED", form_values())
    status, _ = post_signed(stack.web.events_url, "not-the-secret", payload)
    assert status == 401
    status, _ = post_signed(
        stack.web.events_url, stack.settings.slack_signing_secret, payload, forged=True
    )
    assert status == 401
    with stack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_overlong_input_gets_an_inline_error_and_files_nothing(stack: Stack) -> None:
    answer = stack.report(what="x" * 3001)
    assert answer["body"] == {
        "response_action": "errors",
        "errors": {
            "what": "This is 3001 characters; the limit is 3000. Please shorten it, and send "
            "the rest as a message to the Steward bot afterwards."
        },
    }
    with stack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_email_contact_needs_an_address(stack: Stack) -> None:
    answer = stack.report(contact="email")
    assert answer["body"]["errors"] == {
        "email": "Add the address you would like the stewards to write to."
    }


def test_danger_alerts_the_stewards_and_points_to_emergency_help(stack: Stack) -> None:
    stack.report(danger=True)
    stack.drain()
    thread = stack.staff_messages()
    assert any("<!channel>" in m.get("text", "") for m in thread)
    assert "emergency services" in json.dumps(stack.dm_messages("U_ALEX"))
    with stack.db.session() as session:
        assert case_service.get_case(session, "COC-1").severity == "urgent"


def test_a_case_naming_a_steward_is_kept_out_of_the_staff_channel(stack: Stack) -> None:
    stack.report(reported=["U_STEW1"])
    stack.drain()
    assert not [m for m in stack.staff_messages("G_STAFF") if "COC-1" in m.get("text", "")]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.flags["recused"] == ["U_STEW1"]
        # Discussed in a restricted room of the other stewards (tests/confidentiality).
        assert [m for m in stack.staff_messages(case.slack_channel) if "COC-1" in m["text"]]


def test_the_form_is_stored_before_the_modal_closes_and_survives_a_crash(stack: Stack) -> None:
    opened = stack.emulator.global_shortcut("U_ALEX", "report_concern")
    answer = stack.emulator.submit("U_ALEX", opened["views"][0]["id"], form_values())
    assert answer["view_closed"] is True
    with stack.db.session() as session:
        stored = session.scalars(select(Submission)).one()
        assert stored.processed_at is None
        assert stored.payload["answers"]["what"].startswith("They mocked")
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    # The process died before opening the case; the next one picks the form up at start.
    restarted = SubmissionProcessor(stack.slack, poll_interval=0.1)
    restarted.start()
    try:

        def opened_case() -> int | None:
            with stack.db.session() as session:
                return session.scalars(select(Submission)).one().case_id

        assert eventually(opened_case) == 1
    finally:
        restarted.stop()


def test_concurrent_submissions_are_committed_in_groups_once_each(stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from slackapp.intake import SubmissionJournal

    journal = SubmissionJournal(stack.db)
    keys = [f"slack-view:V{n % 10}" for n in range(40)]
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            stored = list(pool.map(lambda key: journal.record(key, {"n": key}), keys))
    finally:
        journal.close()
    assert sum(stored) == 10
    assert {k for k, s in zip(keys, stored, strict=True) if s} == set(keys)
    with stack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 10
