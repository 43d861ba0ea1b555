"""The whole life of a case, through the emulator and real SMTP: report, acknowledgement,
claim, relay, the reported person's side, decision, notices, appeal, appeal decision, closed."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

from core.casework import cases as case_service
from core.decisions.decisions import latest_decision
from core.infra.clock import human_exact
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack, eventually
from tests.smtp_helpers import send


def status(stack: Stack) -> str:
    with stack.db.session() as session:
        return case_service.get_case(session, "COC-1").status


def entry_kinds(stack: Stack) -> list[str]:
    with stack.db.session() as session:
        return [e.kind for e in case_service.get_case(session, "COC-1").entries]


def mail_to(stack: Stack, address: str) -> list:
    return [
        message_from_bytes(m.data, policy=policy.default)
        for m in stack.sink.messages
        if m.rcpt_tos == [address]
    ]


def submit(stack: Stack, user: str, opened: dict, values: dict) -> dict:
    answer = stack.emulator.submit(user, opened["views"][0]["id"], values)
    assert answer.get("view_closed") is True, answer
    return answer


def text(block_id: str, value: str) -> dict:
    return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}


def test_a_case_from_report_to_final_appeal_decision(stack: Stack, gateway_for: MailServer) -> None:
    # A member reports in Slack and asks to be reached by email.
    stack.report(contact="email", email="alex@example.org", reported=["U_BLAIR"])
    stack.drain()
    root = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))

    def click(action: str, user: str = "U_STEW1", **where: str) -> dict:
        place = where or {"channel": "G_STAFF", "message_ts": root["ts"]}
        return stack.emulator.click(user, action, value="1", **place)

    click("case_acknowledge")
    click("case_claim")
    assert status(stack) == "triage"

    # Relay to the reporter by email, and the reporter's answer by email.
    submit(stack, "U_STEW1", click("case_reply"), text("message", "Could you tell us when?"))
    stack.drain()
    [relay] = mail_to(stack, "alex@example.org")
    answer = corpus.plain(from_addr="alex@example.org", subject="Re: when", body="Last Friday.")
    assert send(gateway_for.address[1], answer, to=relay["Reply-To"])[0] == 250
    assert entry_kinds(stack)[-1] == "inbound_mail"

    # The reported person's side, by DM both ways.
    click("case_investigate")
    submit(stack, "U_STEW1", click("case_ask_respondent"), text("message", "Your side, please?"))
    stack.drain()
    assert "Your side, please?" in json.dumps(stack.dm_messages("U_BLAIR"))
    blair_dm = stack.emulator.state()["dms"]["U_BLAIR"]
    stack.emulator.post("U_BLAIR", blair_dm, "I did not mean it that way.")
    assert eventually(lambda: entry_kinds(stack)[-1] == "respondent_message")
    with stack.db.session() as session:
        last = case_service.get_case(session, "COC-1").entries[-1]
        assert last.party is not None and last.party.role == "reported"
        assert last.text == "I did not mean it that way."

    # The decision, on the ladder, with both notices.
    values = {
        "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "warning"}}},
        **text("rationale", "Repeated after a request to stop."),
        **text("message_to_reported", "Please do not comment on members' accents."),
        **text("message_to_reporter", "We have warned them."),
    }
    submit(stack, "U_STEW1", click("case_decide"), values)
    assert status(stack) == "awaiting_appeal"
    stack.drain()
    with stack.db.session() as session:
        decision = latest_decision(session, 1)
        assert decision is not None
        deadline = human_exact(decision.appeal_deadline)
    [notice] = [m for m in mail_to(stack, "alex@example.org") if "warned" in m.get_content()]
    assert deadline in notice.get_content() and "appeal" in notice.get_content().lower()
    blair_notice = stack.dm_messages("U_BLAIR")[-1]
    assert deadline in json.dumps(blair_notice)

    # The reported person appeals from the button in their DM notice.
    opened = stack.emulator.click(
        "U_BLAIR", "case_appeal", channel=blair_dm, message_ts=blair_notice["ts"], value="1"
    )
    submit(stack, "U_BLAIR", opened, text("appeal", "The remark was quoted out of context."))
    assert status(stack) == "appeal_review"
    stack.drain()
    root = next(m for m in stack.staff_messages() if m["ts"] == root["ts"])

    # The appeal decision is final and closes the case.
    values = {
        "result": {"result": {"type": "radio_buttons", "selected_option": {"value": "uphold"}}},
        **text("rationale", "Context does not change it."),
        **text("message_to_reported", "The warning stands."),
        **text("message_to_reporter", "The warning stands after an appeal."),
    }
    submit(stack, "U_STEW1", click("case_decide_appeal"), values)
    assert status(stack) == "closed"
    stack.drain()
    final = mail_to(stack, "alex@example.org")[-1].get_content()
    assert "final" in final.lower()
    assert "final" in json.dumps(stack.dm_messages("U_BLAIR")[-1]).lower()
    kinds = entry_kinds(stack)
    for kind in ("report", "relay_out", "inbound_mail", "decision", "appeal", "appeal_decision"):
        assert kind in kinds, kind
