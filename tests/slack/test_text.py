"""Text in, text out: what a person typed is stored once and escaped once per surface.

Slack delivers message text with `&`, `<` and `>` as entities, and modal input
values as typed. The record keeps the typed text; mrkdwn, plain_text and email
each escape it exactly once.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from typing import Any

import pytest

from core.casework import cases as case_service
from core.infra.models import MessageSnapshot
from mailgateway.server import MailServer
from slackapp.blocks.common import escape, escape_plain, text_sections
from slackapp.text import from_slack
from tests.mail import corpus
from tests.slack.conftest import Stack, eventually, form_values
from tests.slack.test_casework import click, root_of
from tests.smtp_helpers import send

TYPED = "Fish & chips <3 -> ask <@U_BLAIR> about a&b &amp; more"
# Escaped once, with the mention left as a mention.
SHOWN = "Fish &amp; chips &lt;3 -&gt; ask <@U_BLAIR> about a&amp;b &amp;amp; more"


def texts(view: dict[str, Any]) -> str:
    """Every text string in a view's blocks, one per line, as Slack would render them."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(view.get("blocks"))
    return "\n".join(found)


def view_report(stack: Stack) -> str:
    root = root_of(stack)
    [view] = click(stack, "U_STEW1", "case_view_report", root)["views"]
    return texts(view)


@pytest.mark.parametrize(
    ("wire", "typed"),
    [
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        ("&amp;lt; stays", "&lt; stays"),
        ("hi <@U_BLAIR> and <@U123|blair>", "hi <@U_BLAIR> and <@U123>"),
        ("in <#C123|general>", "in <#C123>"),
        ("<!here> <!channel> <!subteam^S1|@mods>", "@here @channel @mods"),
        ("see <https://example.org/a?b=1&amp;c=2>", "see https://example.org/a?b=1&c=2"),
        ("<https://example.org|example.org>", "example.org"),
        ("<https://example.org/x|the &amp; page>", "the & page (https://example.org/x)"),
        ("<mailto:a@example.org|a@example.org>", "a@example.org"),
        ("", ""),
    ],
)
def test_slack_wire_text_becomes_what_was_typed(wire: str, typed: str) -> None:
    assert from_slack(wire) == typed


def test_each_surface_escapes_once() -> None:
    assert escape(TYPED) == SHOWN
    assert escape("<@U_BLAIR>", mentions=False) == "&lt;@U_BLAIR&gt;"
    assert escape_plain("Fish & chips <3") == "Fish &amp; chips &lt;3"
    # A long text cut across sections never splits an entity.
    pieces = [b["text"]["text"] for b in text_sections("x" * 2998 + "&&&&")]
    assert pieces == ["x" * 2998, "&amp;&amp;&amp;&amp;"]


def test_a_direct_message_is_stored_as_typed_and_shown_escaped_once(stack: Stack) -> None:
    stack.report()
    stack.drain()
    posted = stack.emulator.post("U_ALEX", stack.emulator.bot_user_id, TYPED)
    # Slack's own wire format reached the app: entities, and the mention as a mention.
    assert posted["message"]["text"] == (
        "Fish &amp; chips &lt;3 -&gt; ask <@U_BLAIR> about a&amp;b &amp;amp; more"
    )
    assert posted["message"]["blocks"][0]["elements"][0]["elements"][1] == {
        "type": "user",
        "user_id": "U_BLAIR",
    }

    def stored() -> list[str]:
        with stack.db.session() as session:
            case = case_service.get_case(session, "COC-1")
            return [e.text for e in case.entries if e.kind == "reporter_message"]

    assert eventually(stored) == [TYPED]
    shown = view_report(stack)
    assert SHOWN in shown and "&amp;amp;lt;" not in shown


def test_the_report_form_keeps_input_as_typed(stack: Stack) -> None:
    stack.report(what="Fish & chips <3, said <@U_BLAIR>")
    with stack.db.session() as session:
        report = case_service.get_case(session, "COC-1").entries[0]
        assert report.text == "Fish & chips <3, said <@U_BLAIR>"
    assert "Fish &amp; chips &lt;3, said <@U_BLAIR>" in view_report(stack)


def test_a_reported_message_snapshot_is_stored_as_typed(stack: Stack) -> None:
    posted = stack.emulator.post("U_BLAIR", "C_GENERAL", "Fish & chips <3 for <@U_ALEX>")
    opened = stack.emulator.message_shortcut("U_ALEX", "C_GENERAL", posted["ts"], "report_message")
    [form] = opened["views"]
    assert ">Fish &amp; chips &lt;3 for <@U_ALEX>" in texts(form)
    stack.emulator.submit("U_ALEX", form["id"], form_values(what="This one."))
    stack.drain()
    with stack.db.session() as session:
        snapshot = session.query(MessageSnapshot).one()
        assert snapshot.data["text"] == "Fish & chips <3 for <@U_ALEX>"
    shown = view_report(stack)
    assert "Fish &amp; chips &lt;3 for <@U_ALEX>" in shown and "&amp;amp;" not in shown


def test_a_steward_note_in_the_thread_is_stored_as_typed(stack: Stack) -> None:
    stack.report()
    root = root_of(stack)
    stack.emulator.post("U_STEW1", "G_STAFF", "Call them & ask <why>", thread_ts=root["ts"])

    def notes() -> list[str]:
        with stack.db.session() as session:
            case = case_service.get_case(session, "COC-1")
            return [e.text for e in case.entries if e.kind == "steward_note"]

    assert eventually(notes) == ["Call them & ask <why>"]


def test_an_email_carries_the_words_as_typed(stack: Stack, gateway_for: MailServer) -> None:
    assert send(gateway_for.address[1], corpus.plain(subject="Report", body="Bad."))[0] == 250
    stack.drain()
    root = root_of(stack)
    opened = click(stack, "U_STEW1", "case_reply", root)
    typed = "Fish & chips <3 -> is that right?"
    values = {"message": {"message": {"type": "plain_text_input", "value": typed}}}
    stack.emulator.submit("U_STEW1", opened["views"][0]["id"], values)
    stack.drain()
    bodies = [
        message_from_bytes(m.data, policy=policy.default).get_body(("plain",)).get_content()
        for m in stack.sink.messages
    ]
    assert any(typed in body for body in bodies)
    assert not any("&amp;" in body or "&lt;" in body for body in bodies)
    assert json.dumps(typed)[1:-1] not in json.dumps(stack.staff_messages())
