"""Security of the Slack side: signatures, replays, who may press a button, and what a
reporter's words can do when a steward reads them.

Covered elsewhere, and complete there:
- a forged signature on a report form: `tests/slack/test_reporting.py::
  test_a_forged_signature_is_refused_with_401` (here: on a steward's button too, with
  the exact answer);
- a non-steward's action on a steward button, refused and audited:
  `tests/slack/test_casework.py::test_a_non_steward_is_refused_and_the_attempt_audited`;
- oversized files from Slack, refused with the reason told to the reporter:
  `tests/slack/test_files.py::test_files_over_the_limits_are_refused_and_the_reporter_told_why`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from sqlalchemy import func, select

from core.casework import cases as case_service
from core.infra.models import AuditEvent, Entry
from slackapp.emulator import signing
from tests.slack.conftest import Stack, block_action, eventually, post_signed

INJECTION = (
    "<script>alert(1)</script> <!channel> <!here> <@U_STEW1> *bold* _it_ "
    "<http://evil.example|click> &amp; done"
)


def root_of(stack: Stack, ref: str = "COC-1") -> dict[str, Any]:
    stack.drain()
    return next(m for m in stack.staff_messages() if ref in m.get("text", ""))


def audits(stack: Stack, action: str) -> list[AuditEvent]:
    with stack.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def record(stack: Stack) -> tuple[str, str | None, int, int]:
    """What a refused request must leave untouched: status, claim, entries, audit events."""
    with stack.db.session() as session:
        case = case_service.get_case(session, "COC-1")
        entries = session.scalar(select(func.count()).select_from(Entry)) or 0
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return case.status, case.claimed_by, entries, events


def post_with_timestamp(stack: Stack, payload: dict[str, Any], timestamp: int) -> tuple[int, bytes]:
    """A correctly signed request, signed at `timestamp` (a replay of an old one)."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    secret = stack.settings.slack_signing_secret or ""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signing.signature(secret, str(timestamp), body),
    }
    request = urllib.request.Request(stack.web.events_url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_forged_signature_on_a_steward_button_is_refused_and_changes_nothing(
    stack: Stack,
) -> None:
    stack.report()
    root = root_of(stack)
    before = record(stack)
    claim = block_action("U_STEW1", "case_claim", "1", "G_STAFF", root["ts"])
    secret = stack.settings.slack_signing_secret
    assert post_signed(stack.web.events_url, secret, claim, forged=True) == (
        401,
        b'{"error": "invalid request"}',
    )
    assert post_signed(stack.web.events_url, "not-the-secret", claim) == (
        401,
        b'{"error": "invalid request"}',
    )
    stack.drain()
    assert record(stack) == before
    # The real steward's real click still works afterwards.
    assert post_signed(stack.web.events_url, secret, claim)[0] == 200
    assert eventually(lambda: record(stack)[1] == "U_STEW1")


def test_a_replay_older_than_five_minutes_is_refused(stack: Stack) -> None:
    """Slack's own rule (and Bolt's check): a signed request more than 5 minutes old is
    refused even though its signature is right, so a captured click cannot be replayed."""
    stack.report()
    root = root_of(stack)
    before = record(stack)
    claim = block_action("U_STEW1", "case_claim", "1", "G_STAFF", root["ts"])
    now = int(time.time())
    for stale in (now - 5 * 60 - 30, now + 5 * 60 + 30):  # from the past, or the future
        assert post_with_timestamp(stack, claim, stale) == (401, b'{"error": "invalid request"}')
    stack.drain()
    assert record(stack) == before
    # Within the window the same signed click is taken.
    assert post_with_timestamp(stack, claim, now - 60)[0] == 200
    assert eventually(lambda: record(stack)[1] == "U_STEW1")


STEWARD_BUTTONS = [
    ("case_claim", "case_claim"),
    ("case_close", "case_close"),
    ("case_view_report", "view_report"),
    ("case_reply", "reply"),
    ("case_ask_respondent", "ask_respondent"),
    ("case_decide", "decide"),
]


def test_a_recused_steward_is_refused_on_every_button(stack: Stack) -> None:
    """Extends `tests/slack/test_casework.py::test_a_recused_steward_loses_access` (View
    report) to every button that acts on the case or shows its content."""
    stack.report(contact="email", email="alex@example.net")
    root = root_of(stack)
    stack.emulator.click(
        "U_STEW2", "case_recuse", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    assert eventually(lambda: len(audits(stack, "case.recused")) == 1)
    stack.drain()
    before = record(stack)
    secret = stack.settings.slack_signing_secret
    for action_id, _ in STEWARD_BUTTONS:
        payload = block_action("U_STEW2", action_id, "1", "G_STAFF", root["ts"])
        payload["trigger_id"] = stack.emulator.workspace.issue_trigger("U_STEW2", "block_actions")
        assert post_signed(stack.web.events_url, secret, payload) == (200, b"")

    def refused() -> list[AuditEvent]:
        return audits(stack, "access.refused")

    assert eventually(lambda: len(refused()) == len(STEWARD_BUTTONS))
    stack.drain()
    assert sorted(a.detail["attempted"] for a in refused()) == sorted(
        attempted for _, attempted in STEWARD_BUTTONS
    )
    assert {a.actor for a in refused()} == {"user:U_STEW2"}
    status, claimed_by, entries, events = record(stack)
    assert (status, claimed_by, entries) == before[:3]
    assert events == before[3] + len(STEWARD_BUTTONS)  # the refusals, and nothing else
    assert not stack.emulator.state()["open_views"]
    ephemeral = stack.emulator.state()["channels"]["G_STAFF"]["ephemeral"]
    assert [m["text"] for m in ephemeral if m["user"] == "U_STEW2"] == [
        "You declared a conflict on COC-1, so it is closed to you."
    ] * len(STEWARD_BUTTONS)
    assert audits(stack, "case.read") == []


def view_report(stack: Stack, root: dict[str, Any]) -> dict[str, Any]:
    answer = stack.emulator.click(
        "U_STEW1", "case_view_report", channel="G_STAFF", message_ts=root["ts"], value="1"
    )
    [view] = answer["views"]
    return view


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn text in these blocks (sections, fields, context elements)."""
    found = []
    for block in blocks:
        for item in [block.get("text"), *(block.get("fields") or [])] + [
            e for e in block.get("elements") or [] if isinstance(e, dict)
        ]:
            if isinstance(item, dict) and item.get("type") == "mrkdwn":
                found.append(item["text"])
    return found


def assert_inert(text: str) -> None:
    """Reporter's markup as text: no broadcast or link Slack would act on, no HTML."""
    for live in ("<!channel>", "<!here>", "<http://evil.example|click>", "<script"):
        assert live not in text, (live, text)
    assert "&lt;!channel&gt;" in text and "&lt;http://evil.example|click&gt;" in text
    assert "&amp;amp; done" in text  # typed "&amp;" is shown as typed: escaped once


def test_markup_in_a_report_is_shown_as_text_in_view_report(stack: Stack) -> None:
    stack.report(what=INJECTION)
    view = view_report(stack, root_of(stack))
    [shown] = [t for t in mrkdwn_texts(view["blocks"]) if "alert(1)" in t]
    assert_inert(shown)
    # In a modal a user mention names the person and notifies nobody, so it is kept
    # (docs/architecture.md, `blocks/common.py`); it is escaped where it would notify.
    assert "<@U_STEW1>" in shown
    # Nobody was pinged: the report reached no channel as a message.
    assert "alert(1)" not in json.dumps(stack.staff_messages())


def test_markup_in_a_later_message_is_quoted_as_text_in_a_full_disclosure_thread(
    stack: Stack,
) -> None:
    stack.slack.settings = stack.slack.settings.with_overrides(full_disclosure=True)
    stack.report()
    root_of(stack)
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], INJECTION)

    def quoted() -> list[str]:
        stack.drain()
        return [
            t
            for m in stack.staff_messages()
            for t in [m.get("text", ""), *mrkdwn_texts(m.get("blocks") or [])]
            if "alert(1)" in t
        ]

    assert eventually(quoted)
    for text in quoted():
        assert_inert(text)
        # In the staff thread a mention would notify, so it is shown as typed.
        assert "&lt;@U_STEW1&gt;" in text


def test_markup_in_a_report_is_text_in_the_workspace_viewer(stack: Stack) -> None:
    """The viewer renders what Slack would show as HTML: the reporter's `<script>` and
    links stay text there (in the View report modal and a full-disclosure thread), as
    they do in Slack."""
    stack.slack.settings = stack.slack.settings.with_overrides(full_disclosure=True)
    stack.report(what=INJECTION)
    root = root_of(stack)
    stack.emulator.post("U_ALEX", stack.emulator.state()["dms"]["U_ALEX"], INJECTION)
    eventually(lambda: stack.drain() or "alert(1)" in json.dumps(stack.staff_messages()))
    view_report(stack, root)
    query = urllib.parse.urlencode({"as": "U_STEW1", "pane": "G_STAFF", "thread": root["ts"]})
    with urllib.request.urlopen(f"{stack.emulator.url}/?{query}", timeout=10) as response:
        page = response.read().decode()
    assert page.count("alert(1)") >= 2  # the modal and the thread
    assert "<script>alert(1)" not in page
    assert 'href="http://evil.example' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
