"""Stewards at work in the case thread, end to end through the emulator."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.models import AuditEvent, OutboxItem
from mailgateway.server import MailServer
from tests.mail import corpus
from tests.slack.conftest import Stack, block_action, eventually, post_signed
from tests.smtp_helpers import send


def root_of(stack: Stack, ref: str = "COC-1", channel: str = "G_STAFF") -> dict:
    stack.drain()
    return next(m for m in stack.staff_messages(channel) if ref in m.get("text", ""))


def click(stack: Stack, user: str, action_id: str, root: dict, value: str = "1") -> dict:
    return stack.emulator.click(
        user, action_id, channel="G_STAFF", message_ts=root["ts"], value=value
    )


def audits(stack: Stack, action: str) -> list[AuditEvent]:
    with stack.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_view_report_shows_content_to_a_steward_and_records_the_read(stack: Stack) -> None:
    stack.report(what="They mocked my accent in #general after I asked them to stop.")
    root = root_of(stack)
    assert "mocked my accent" not in json.dumps(stack.staff_messages())
    answer = click(stack, "U_STEW1", "case_view_report", root)
    [view] = answer["views"]
    assert "mocked my accent" in json.dumps(view)
    reads = audits(stack, "case.read")
    assert [(a.actor, a.case_id) for a in reads] == [("steward:U_STEW1", 1)]


def test_a_non_steward_is_refused_and_the_attempt_audited(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    # Blair cannot see the private channel, so the emulator will not let Blair click there;
    # the request below is what Slack would send if the button reached Blair another way.
    secret = stack.settings.slack_signing_secret
    for action in ("case_view_report", "case_claim", "case_close"):
        payload = block_action("U_BLAIR", action, "1", "G_STAFF", root["ts"])
        assert post_signed(stack.web.events_url, secret, payload)[0] == 200

    def refused() -> int:
        return len(audits(stack, "access.refused"))

    assert eventually(lambda: refused() == 3)
    stack.drain()
    assert not stack.emulator.state()["open_views"]
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert (case.status, case.claimed_by) == ("new", None)
    refusals = audits(stack, "access.refused")
    assert sorted(a.detail["attempted"] for a in refusals) == [
        "case_claim",
        "case_close",
        "view_report",
    ]
    assert {a.actor for a in refusals} == {"user:U_BLAIR"}
    # Blair is not in the staff channel, so the refusal arrives as a direct message.
    refusals = [m["text"] for m in stack.dm_messages("U_BLAIR")]
    assert refusals == ["Only the community's stewards can act on conduct cases."] * 3
    assert audits(stack, "case.read") == []


def test_claim_and_acknowledge_update_the_root_in_place(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    click(stack, "U_STEW1", "case_claim", root)
    stack.drain()
    updated = next(m for m in stack.staff_messages() if m["ts"] == root["ts"])
    assert "<@U_STEW1>" in json.dumps(updated["blocks"])
    assert "Triage" in json.dumps(updated["blocks"])
    roots = [m for m in stack.staff_messages() if "COC-1" in m.get("text", "")]
    assert len(roots) == 1
    replies = [m for m in stack.staff_messages() if m.get("thread_ts") == root["ts"]]
    assert any("claimed this case" in m["text"] for m in replies)
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.claimed_by == "U_STEW1" and case.status == "triage"
        assert [d.cancelled_at is not None for d in case.deadlines if d.kind.startswith("ack")]


def test_a_recused_steward_loses_access(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    click(stack, "U_STEW2", "case_recuse", root)
    answer = click(stack, "U_STEW2", "case_view_report", root)
    assert answer["views"] == []
    assert [(a.actor, a.case_id) for a in audits(stack, "case.recused")] == [("steward:U_STEW2", 1)]
    assert [a.detail["attempted"] for a in audits(stack, "access.refused")] == ["view_report"]


def test_relay_by_dm_both_ways_keeps_the_reporter_unnamed(stack: Stack) -> None:
    stack.report(anonymous=True)
    root = root_of(stack)
    opened = click(stack, "U_STEW1", "case_reply", root)
    [modal] = opened["views"]
    values = {"message": {"message": {"type": "plain_text_input", "value": "Are you safe?"}}}
    assert stack.emulator.submit("U_STEW1", modal["id"], values)["status"] == 200
    stack.drain()
    to_reporter = json.dumps(stack.dm_messages("U_ALEX"))
    assert "Are you safe?" in to_reporter and "U_STEW1" not in to_reporter
    relays = [(a.actor, a.case_id, a.detail) for a in audits(stack, "case.relayed")]
    assert relays == [("steward:U_STEW1", 1, {"to_role": "reporter", "via": "slack"})]
    dm_channel = stack.emulator.state()["dms"]["U_ALEX"]
    stack.emulator.post("U_ALEX", dm_channel, "Yes, thank you. It happened again today.")

    def entry_kinds() -> list[str]:
        with stack.db.session() as session:
            return [e.kind for e in case_service.get_case(session, "COC-1").entries]

    assert eventually(lambda: "reporter_message" in entry_kinds())
    stack.drain()
    thread = json.dumps(stack.staff_messages())
    assert "reporter sent a new message" in thread
    assert "It happened again" not in thread
    assert "U_ALEX" not in thread and "Alex" not in thread


def test_relay_by_email_both_ways(stack: Stack, gateway_for: MailServer) -> None:
    assert send(gateway_for.address[1], corpus.plain(subject="Report", body="Bad."))[0] == 250
    stack.drain()
    root = root_of(stack)
    opened = click(stack, "U_STEW1", "case_reply", root)
    values = {"message": {"message": {"type": "plain_text_input", "value": "Tell us more?"}}}
    stack.emulator.submit("U_STEW1", opened["views"][0]["id"], values)
    stack.drain()
    relays = [
        message_from_bytes(m.data, policy=policy.default)
        for m in stack.sink.messages
        if b"Tell us more?" in m.data
    ]
    assert len(relays) == 1 and relays[0]["To"] == "alex@example.net"
    reply_to = relays[0]["Reply-To"]
    answer = corpus.plain(subject="Re: more", body="Here is more detail.")
    assert send(gateway_for.address[1], answer, to=reply_to)[0] == 250
    stack.drain()
    thread = json.dumps(stack.staff_messages())
    assert "reporter sent a new message by email" in thread
    assert "more detail" not in thread and "alex@example.net" not in thread


def test_steward_messages_in_the_thread_join_the_timeline(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    stack.emulator.post("U_STEW1", "G_STAFF", "I will call them tomorrow.", thread_ts=root["ts"])

    def notes() -> list[str]:
        with stack.db.session() as session:
            case = case_service.get_case(session, "COC-1")
            return [e.text for e in case.entries if e.kind == "steward_note"]

    assert eventually(notes) == ["I will call them tomorrow."]


def test_a_slack_outage_is_recovered_with_no_duplicates(stack: Stack) -> None:
    stack.emulator.faults("chat.postMessage", status=500, times=2)
    stack.report()
    stack.drain()
    assert not [m for m in stack.staff_messages() if "COC-1" in m.get("text", "")]
    with stack.db.session() as session:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.channel == "staff")).all()
        for row in rows:
            row.next_attempt_at = row.created_at
    stack.drain()
    with stack.db.session() as session:
        for row in session.scalars(select(OutboxItem).where(OutboxItem.status == "pending")):
            row.next_attempt_at = row.created_at
    stack.drain()
    roots = [m for m in stack.staff_messages() if "COC-1" in m.get("text", "")]
    assert len(roots) == 1
    with stack.db.session() as session:
        statuses = {r.status for r in session.scalars(select(OutboxItem))}
    assert statuses == {"delivered"}


def test_a_public_staff_channel_is_refused(stack: Stack) -> None:
    stack.slack.settings = stack.slack.settings.with_overrides(staff_channel="C_GENERAL")
    stack.report()
    stack.drain()
    assert not [m for m in stack.staff_messages("C_GENERAL") if "COC-1" in m.get("text", "")]
    with stack.db.session() as session:
        root = session.scalars(select(OutboxItem).where(OutboxItem.kind == "case.root")).one()
        assert root.status == "pending" and "public" in (root.last_error or "")


def test_app_home_lists_own_reports_and_stewards_see_open_cases(stack: Stack) -> None:
    stack.report()
    stack.emulator.open_home("U_ALEX", wait=0)
    stack.emulator.open_home("U_STEW1", wait=0)
    stack.drain()
    homes = stack.emulator.state()["home_tabs"]
    alex, steward = json.dumps(homes["U_ALEX"]), json.dumps(homes["U_STEW1"])
    assert "COC-1" in alex and "Open cases" not in alex
    assert "Open cases" in steward and "COC-1" in steward
    assert "mocked" not in steward


def test_a_reminder_can_be_snoozed_from_the_thread(stack: Stack) -> None:
    from datetime import timedelta

    from core.casework.followups import fire_due
    from core.infra.clock import utcnow
    from core.infra.models import Deadline

    stack.report()
    root = root_of(stack)
    fired = fire_due(stack.db, stack.settings, now=utcnow() + timedelta(hours=25))
    assert fired
    stack.drain()
    reminder = next(
        m
        for m in stack.staff_messages()
        if m.get("thread_ts") == root["ts"]
        and m["ts"] != root["ts"]
        and "deadline_snooze_1" in json.dumps(m)
    )
    deadline_id = int(
        next(
            e["value"]
            for b in reminder["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "deadline_snooze_3"
        )
    )
    before = utcnow()
    stack.emulator.click(
        "U_STEW1",
        "deadline_snooze_3",
        channel="G_STAFF",
        message_ts=reminder["ts"],
        value=str(deadline_id),
    )

    def snoozed() -> bool:
        return bool(audits(stack, "deadline.snoozed"))

    assert eventually(snoozed)
    [event] = audits(stack, "deadline.snoozed")
    assert event.actor == "steward:U_STEW1" and event.detail["snoozed"] == deadline_id
    with stack.db.session() as session:
        moved = session.get(Deadline, event.detail["deadline_id"])
        assert moved is not None and moved.fired_at is None
        assert timedelta(days=3) <= moved.due_at - before < timedelta(days=3, minutes=1)


def test_full_disclosure_quotes_later_messages_in_the_thread(stack: Stack) -> None:
    stack.slack.settings = stack.slack.settings.with_overrides(full_disclosure=True)
    stack.report()
    root_of(stack)
    dm_channel = stack.emulator.state()["dms"]["U_ALEX"]
    stack.emulator.post("U_ALEX", dm_channel, "It happened again at the meetup.")

    def quoted() -> bool:
        stack.drain()
        return "It happened again at the meetup." in json.dumps(stack.staff_messages())

    assert eventually(quoted)
