"""Fuzzing every Slack handler Steward registers, with real signed requests to the Bolt app.

View submissions for every callback_id, and block_actions for every action_id,
carry random, oversized, missing and wrongly typed values in the view state,
in button values and in `private_metadata`, from stewards and from members.
Every answer is a clean inline error or a success: never a 500, never a crash
in the logs, and nothing a person sees (inline errors, ephemeral messages,
direct messages) carries a traceback or an internal detail.

The payloads are shaped the way Slack shapes them (Slack sends a view's id and
state, and a button's action_id and value); only what a person or a stale or
tampered form can put into them is random.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import select

from core.infra.models import OutboxItem
from core.policy.record import code_in_force
from slackapp.app import build_app
from slackapp.blocks import case_view, report_form, steward_forms
from slackapp.blocks import decision_forms as forms
from slackapp.emulator import signing
from tests.hostile.conftest import LogWatch, examples, watching_logs
from tests.slack.conftest import Stack, eventually

USERS = ["U_STEW1", "U_STEW2", "U_ALEX", "U_BLAIR"]

# What must never reach a person: Python's traceback and exception vocabulary, file
# paths of the code, SQL and its drivers.
LEAK = re.compile(
    r"Traceback|Exception|Error\(|KeyError|ValueError|TypeError|IndexError|\.py\b|"
    r"sqlalchemy|psycopg|sqlite|SELECT |INSERT |UPDATE |line \d+",
    re.IGNORECASE,
)

NASTY_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "1:",
    "1:step",
    "1:../../etc/passwd",
    "\u00b2",  # a digit to str.isdigit(), not to int()
    "\u0661",  # ARABIC-INDIC DIGIT ONE: int() takes it
    "9" * 40,  # beyond every integer column
    "2147483648",
    "1e9",
    "null",
    "{}",
    '{"case_id": "x"}',
    "<script>alert(1)</script>",
    "<!channel> *bold* <@U_STEW1> <http://evil.example|click>",
    "\x00\x01\x02",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "2026-02-30",
    "9999-99-99",
    "x" * 3001,
]


def any_string() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        st.text(max_size=60),
        st.integers(3_000, 60_000).map(lambda n: "w" * n),  # oversized
    )


def any_json() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | any_string(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(any_string(), inner, max_size=3)
        ),
        max_leaves=6,
    )


def element_state(draw: st.DrawFn, element: dict[str, Any]) -> dict[str, Any]:
    """A state value for `element`, as Slack would send it, with random contents."""
    kind = element.get("type", "plain_text_input")
    options = [o.get("value") for o in element.get("options") or []]
    option = st.one_of(st.sampled_from(options or ["x"]), any_string()).map(
        lambda v: {"text": {"type": "plain_text", "text": "x"}, "value": v}
    )
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = draw(st.none() | any_string())
    elif kind in ("static_select", "radio_buttons"):
        state["selected_option"] = draw(st.none() | option)
    elif kind in ("checkboxes", "multi_static_select"):
        state["selected_options"] = draw(st.lists(option, max_size=4))
    elif kind == "multi_users_select":
        state["selected_users"] = draw(st.lists(st.sampled_from(USERS) | any_string(), max_size=5))
    elif kind == "users_select":
        state["selected_user"] = draw(st.none() | st.sampled_from(USERS) | any_string())
    elif kind == "datepicker":
        state["selected_date"] = draw(st.none() | any_string() | st.dates().map(str))
    elif kind == "file_input":
        state["files"] = []
    else:
        state["value"] = draw(any_json())
    if draw(st.integers(0, 9)) == 0:  # the wrong shape altogether
        state = {"type": kind, **draw(st.dictionaries(any_string(), any_json(), max_size=2))}
    return state


@st.composite
def view_state(draw: st.DrawFn, view: dict[str, Any]) -> dict[str, Any]:
    """Values for some of the view's inputs (missing ones are simply absent, as in Slack)."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or draw(st.integers(0, 4)) == 0:
            continue
        element = block["element"]
        values[block["block_id"]] = {element["action_id"]: element_state(draw, element)}
    return values


def metadata(case_id: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(json.dumps({"case_id": case_id})),
        st.just(json.dumps({"case_id": case_id, "snapshot": "nope"})),
        any_string(),
        any_json().map(json.dumps),
        st.integers().map(lambda n: json.dumps({"case_id": n})),
    )


def signed_post(stack: Stack, payload: dict[str, Any]) -> tuple[int | None, str]:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    answer = signing.post_signed(
        stack.web.events_url,
        body,
        "application/x-www-form-urlencoded",
        stack.settings.slack_signing_secret or "",
        timeout=30,
    )
    return answer.status, answer.text


def common(stack: Stack, user: str, kind: str) -> dict[str, Any]:
    """What every interaction says about its origin, with a live trigger_id."""
    return {
        "token": "legacy",
        "team": {"id": "T_STEWARD", "domain": "steward-demo"},
        "user": {"id": user, "username": user.lower(), "team_id": "T_STEWARD"},
        "api_app_id": "A_STEWARD",
        "trigger_id": stack.emulator.workspace.issue_trigger(user, kind),
    }


def assert_clean_answer(status: int | None, text: str, view: dict[str, Any] | None) -> None:
    assert status == 200, (status, text[:500])
    if not text:
        return
    answer = json.loads(text)
    assert answer["response_action"] == "errors", answer
    inputs = {b["block_id"] for b in (view or {}).get("blocks") or [] if b["type"] == "input"}
    for block_id, message in answer["errors"].items():
        assert block_id in inputs, (block_id, inputs)
        assert isinstance(message, str) and message and not LEAK.search(message), message


def assert_nothing_leaked_to_people(stack: Stack) -> None:
    """Ephemeral messages and DMs the app sent while being fuzzed say nothing internal."""
    stack.drain()
    state = stack.emulator.state()
    for channel in state["channels"].values():
        for message in [*channel.get("messages", []), *channel.get("ephemeral", [])]:
            text = json.dumps([message.get("text"), message.get("blocks")])
            assert not LEAK.search(text), text[:500]


def settle_and_check(logs: LogWatch, pause: float = 0.05) -> None:
    """Listeners go on after their ack; give them a moment, then look for crashes."""
    time.sleep(pause)
    assert not logs.crashes(), logs.crashes()


@pytest.fixture
def logs() -> Iterator[LogWatch]:
    with watching_logs() as watch:
        yield watch


@pytest.fixture
def opened(stack: Stack) -> dict[str, Any]:
    """A real case with its thread root, and every modal Steward submits, built as the
    handlers build them."""
    stack.report(what="They mocked my accent.", contact="email", email="alex@example.net")
    stack.drain()
    root = next(m for m in stack.staff_messages() if "COC-1" in m.get("text", ""))
    code = code_in_force(stack.settings)
    views = {
        report_form.CALLBACK_ID: report_form.report_modal(code, None, max_files=3, max_bytes=1024),
        forms.DECISION_CALLBACK: forms.decision_modal(1, "COC-1", code, "hint"),
        forms.APPEAL_DECISION_CALLBACK: forms.appeal_decision_modal(1, "COC-1", code),
        forms.LATE_APPEAL_CALLBACK: forms.late_appeal_modal(1, "COC-1"),
        forms.KEEP_LONGER_CALLBACK: forms.keep_longer_modal(1, "COC-1"),
        forms.APPEAL_CALLBACK: forms.appeal_modal(1, "COC-1"),
        steward_forms.REPLY_CALLBACK: steward_forms.reply_modal(1, "COC-1", "by email", False),
        steward_forms.ASK_CALLBACK: steward_forms.ask_modal(1, "COC-1", "by email"),
    }
    return {"root": root, "views": views}


@examples(70)
@given(data=st.data())
def test_every_view_submission_answers_cleanly(
    stack: Stack, opened: dict[str, Any], logs: LogWatch, data: st.DataObject
) -> None:
    callback_id = data.draw(st.sampled_from(sorted(opened["views"])), label="callback_id")
    template = opened["views"][callback_id]
    view = {
        **template,
        "id": data.draw(st.sampled_from(["V_FUZZ"]) | st.text("V0123456789", min_size=2)),
        "private_metadata": data.draw(metadata(1), label="private_metadata"),
        "state": {"values": data.draw(view_state(template), label="values")},
        "hash": "1",
    }
    user = data.draw(st.sampled_from(USERS), label="user")
    payload = {"type": "view_submission", **common(stack, user, "view_submission"), "view": view}
    status, text = signed_post(stack, payload)
    assert_clean_answer(status, text, view)
    settle_and_check(logs)


ACTIONS = [
    "home_report",
    "case_claim",
    "case_acknowledge",
    "case_recuse",
    "case_close",
    "case_investigate",
    "case_reopen",
    "case_step_done",
    "case_step_undo",
    "case_view_report",
    case_view.PREVIOUS_PAGE,
    case_view.NEXT_PAGE,
    "case_reply",
    "case_ask_respondent",
    "case_decide",
    "case_decide_appeal",
    "case_accept_late_appeal",
    "case_keep_longer",
    "deadline_snooze_1",
    "deadline_snooze_3",
    "deadline_snooze_7",
    "case_appeal",
]
IN_A_MODAL = {case_view.PREVIOUS_PAGE, case_view.NEXT_PAGE}


@examples(90)
@given(data=st.data())
def test_every_button_answers_cleanly(
    stack: Stack, opened: dict[str, Any], logs: LogWatch, data: st.DataObject
) -> None:
    action_id = data.draw(st.sampled_from(ACTIONS), label="action_id")
    user = data.draw(st.sampled_from(USERS), label="user")
    value = data.draw(st.one_of(st.sampled_from(["1", "1:0", "1:step", None]), any_string()))
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": "fuzz",
        "action_ts": "1.0",
        "text": {"type": "plain_text", "text": "x"},
    }
    if value is not None:
        action["value"] = value
    payload = {"type": "block_actions", **common(stack, user, "block_actions"), "actions": [action]}
    ts = opened["root"]["ts"]
    if action_id in IN_A_MODAL:
        view = {**opened["views"][forms.APPEAL_CALLBACK], "id": "V_PAGES", "hash": "1"}
        payload |= {"container": {"type": "view", "view_id": "V_PAGES"}, "view": view}
    else:
        payload |= {
            "container": {"type": "message", "message_ts": ts, "channel_id": "G_STAFF"},
            "channel": {"id": "G_STAFF", "name": "staff"},
            "message": {"ts": ts, "text": ""},
            "response_url": "http://127.0.0.1:9/unused",
        }
    status, text = signed_post(stack, payload)
    assert (status, text) == (200, ""), (status, text[:500])
    settle_and_check(logs)


def test_every_button_from_everyone_then_nothing_internal_reached_a_person(
    stack: Stack, opened: dict[str, Any], logs: LogWatch
) -> None:
    """Every button, pressed by each member and steward with a valid and three hostile
    values; then every message the app sent (ephemeral refusals, DMs, thread notices)
    is read for internal detail."""
    for action_id in ACTIONS:
        for user in USERS:
            for value in ("1", "\u00b2", "9" * 40, "1:nope"):
                payload = {
                    "type": "block_actions",
                    **common(stack, user, "block_actions"),
                    "container": {
                        "type": "message",
                        "message_ts": opened["root"]["ts"],
                        "channel_id": "G_STAFF",
                    },
                    "channel": {"id": "G_STAFF", "name": "staff"},
                    "message": {"ts": opened["root"]["ts"], "text": ""},
                    "actions": [{"type": "button", "action_id": action_id, "value": value}],
                }
                if action_id in IN_A_MODAL:
                    payload["view"] = {"id": "V_PAGES", "type": "modal", "blocks": []}
                assert signed_post(stack, payload)[0] == 200
    settle_and_check(logs, pause=0.5)
    assert_nothing_leaked_to_people(stack)


def signed_event(stack: Stack, event: dict[str, Any]) -> tuple[int | None, str]:
    envelope = {
        "token": "legacy",
        "team_id": "T_STEWARD",
        "api_app_id": "A_STEWARD",
        "type": "event_callback",
        "event_id": "Ev" + str(time.monotonic_ns()),
        "event_time": int(time.time()),
        "event": event,
    }
    answer = signing.post_signed(
        stack.web.events_url,
        json.dumps(envelope).encode(),
        "application/json",
        stack.settings.slack_signing_secret or "",
        timeout=30,
    )
    return answer.status, answer.text


def any_files() -> st.SearchStrategy[Any]:
    """A message's `files`, as Slack sends them or mangled."""
    file_object = st.fixed_dictionaries(
        {"id": st.sampled_from(["F_NONE", "F123"]) | any_string()},
        optional={
            "name": any_string(),
            "size": st.integers(-1, 10**12) | any_string(),
            "mimetype": any_string(),
            "url_private": st.just("http://127.0.0.1:9/nothing") | any_string(),
        },
    )
    return st.none() | st.lists(file_object | any_json(), max_size=3)


# Shortcut callback_id -> the payload type Slack sends for it.
SHORTCUTS = {"report_concern": "shortcut", "report_message": "message_action"}
EVENTS = ["message", "app_home_opened"]


@examples(40)
@given(data=st.data())
def test_shortcuts_and_messages_answer_cleanly(
    stack: Stack, opened: dict[str, Any], logs: LogWatch, data: st.DataObject
) -> None:
    """The shortcuts (*Report this message* on a random message), messages (in a reporter's
    DM and in a case thread) with random text, subtypes and files, and App Home opened
    with random fields."""
    user = data.draw(st.sampled_from(USERS), label="user")
    message = {
        "type": "message",
        "user": data.draw(st.none() | st.sampled_from(USERS) | any_string()),
        "text": data.draw(st.none() | any_string()),
        "ts": data.draw(st.sampled_from(["1700000000.000100"]) | any_string()),
        "files": data.draw(any_files()),
        "subtype": data.draw(st.none() | st.sampled_from(["file_share", "thread_broadcast"])),
    }
    message = {k: v for k, v in message.items() if v is not None}
    kind = data.draw(st.sampled_from(["shortcut", *EVENTS]), label="kind")
    if kind == "shortcut":
        callback_id = data.draw(st.sampled_from(sorted(SHORTCUTS)), label="callback_id")
        payload = {
            "type": SHORTCUTS[callback_id],
            **common(stack, user, SHORTCUTS[callback_id]),
            "callback_id": callback_id,
            "action_ts": "1.0",
        }
        if SHORTCUTS[callback_id] == "message_action":
            payload |= {
                "message_ts": message.get("ts", "1.0"),
                "channel": {"id": data.draw(st.sampled_from(["C_GENERAL", "G_STAFF", "D1"]))},
                "message": message,
                "response_url": "http://127.0.0.1:9/unused",
            }
        status, text = signed_post(stack, payload)
    elif kind == "app_home_opened":
        event = {
            "type": "app_home_opened",
            "user": data.draw(st.none() | st.sampled_from(USERS) | any_string()),
            "channel": data.draw(st.sampled_from(["D_HOME"]) | any_string()),
            "tab": data.draw(st.sampled_from(["home", "messages"]) | any_string()),
            "event_ts": "1.0",
        }
        status, text = signed_event(stack, {k: v for k, v in event.items() if v is not None})
    else:
        where = data.draw(st.sampled_from(["dm", "thread"]), label="where")
        event = {**message, "user": user}
        if where == "dm":
            event |= {"channel": stack.emulator.state()["dms"].get(user) or "D_X"}
            event |= {"channel_type": "im"}
        else:
            event |= {"channel": "G_STAFF", "channel_type": "group"}
            event |= {"thread_ts": opened["root"]["ts"]}
        status, text = signed_event(stack, event)
    assert status == 200, (status, text[:500])
    settle_and_check(logs, pause=0.1)


def test_app_home_opened_naming_nobody_is_ignored(stack: Stack, logs: LogWatch) -> None:
    """Found by the fuzzing above: an `app_home_opened` without a user crashed the listener."""
    for user in ({}, {"user": None}, {"user": ""}, {"user": ["U_ALEX"]}):
        event = {"type": "app_home_opened", "tab": "home", "channel": "D1", **user}
        assert signed_event(stack, event) == (200, "")
    event = {"type": "app_home_opened", "tab": "home", "channel": "D1", "user": "U_ALEX"}
    assert signed_event(stack, event) == (200, "")
    eventually(lambda: homes_queued(stack))  # the one that names someone is drawn
    settle_and_check(logs)
    assert homes_queued(stack) == [{"user": "U_ALEX"}]


def homes_queued(stack: Stack) -> list[dict[str, Any]]:
    with stack.db.session() as session:
        query = select(OutboxItem.payload).where(OutboxItem.kind == "home")
        return list(session.scalars(query))


def fuzzed_payloads(views: dict[str, Any]) -> list[dict[str, Any]]:
    """One payload of each kind the tests above send, per callback_id, action_id and
    event type in their lists."""
    origin = {"user": {"id": "U_ALEX"}, "team": {"id": "T_STEWARD"}, "trigger_id": "1"}
    found: list[dict[str, Any]] = []
    for callback_id in views:
        view = {"id": "V1", "type": "modal", "callback_id": callback_id, "state": {"values": {}}}
        found.append({"type": "view_submission", **origin, "view": view})
    for action_id in ACTIONS:
        action = {"type": "button", "action_id": action_id, "block_id": "b"}
        found.append({"type": "block_actions", **origin, "actions": [action]})
    for callback_id, kind in SHORTCUTS.items():
        found.append({"type": kind, **origin, "callback_id": callback_id})
    for event_type in EVENTS:
        event = {"type": event_type, "user": "U_ALEX", "channel": "D1", "ts": "1.0"}
        found.append({"type": "event_callback", "team_id": "T_STEWARD", "event": event})
    return found


def registered_as(listener: Any) -> str:
    """What a Bolt listener was registered for (the callback_id, action_id or event type
    its matcher closes over), to name it in a failure."""
    found = []
    for matcher in listener.matchers:
        cells = getattr(getattr(matcher, "func", None), "__closure__", None) or ()
        for cell in cells:
            value = cell.cell_contents
            if isinstance(value, str | re.Pattern | dict):
                found.append(getattr(value, "pattern", value))
    name = getattr(listener.ack_function, "__name__", "?")
    return f"{name} ({', '.join(map(str, found)) or 'unknown'})"


def test_every_listener_the_app_registers_is_fuzzed(stack: Stack, opened: dict[str, Any]) -> None:
    """A handler added to the Bolt app without being added to the lists above fails here:
    each listener the app has registered (every view callback_id, block action_id,
    shortcut and event) must match one of the payloads the fuzz tests send."""
    app = build_app(stack.slack)
    probes = [
        BoltRequest(body=payload, mode="socket_mode")
        for payload in fuzzed_payloads(opened["views"])
    ]
    listeners = list(app._listeners)  # Bolt keeps no public list of its listeners
    assert len(listeners) >= len(ACTIONS) // 2  # the introspection still sees them
    unfuzzed = [
        registered_as(listener)
        for listener in listeners
        if not any(listener.matches(req=probe, resp=BoltResponse(status=200)) for probe in probes)
    ]
    assert unfuzzed == [], f"registered on the Bolt app but not fuzzed: {unfuzzed}"
