"""The control API's user actions, delivered to the app as Slack delivers them.

Each action (a shortcut, a modal submission, a button click, a message, opening
App Home) builds Slack's own payload, sends it as a signed HTTP POST to the
app's URL (or as an envelope on the app's Socket Mode connection, when it has
one), and reports what the app answered. Slack's follow-through is applied
too: a ``view_submission`` answer closes, updates, pushes or keeps the modal,
and a trigger_id handed to the app can be waited on, so a test sees the modal
that the app opened in response without polling.
"""

from __future__ import annotations

import base64
import copy
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .blockkit import BlockKitError, find_element, validate_message_blocks, validate_view
from .signing import AppAnswer, post_event, post_interaction
from .socketmode import SocketModeHub
from .workspace import SlackError, Workspace, rich_text_elements, wire_text

VERIFICATION_TOKEN = "emulator-verification-token"
RESPONSE_URL_TTL = 30 * 60
RESPONSE_URL_USES = 5
SELECT_TYPES = ("static_select", "external_select", "overflow", "radio_buttons")


# How each input element's initial value appears in state.values when nobody changed it.
INITIAL_STATE = {
    "initial_value": "value",
    "initial_users": "selected_users",
    "initial_user": "selected_user",
    "initial_option": "selected_option",
    "initial_options": "selected_options",
    "initial_date": "selected_date",
    "initial_conversation": "selected_conversation",
    "initial_conversations": "selected_conversations",
    "initial_channel": "selected_channel",
    "initial_channels": "selected_channels",
}


def initial_values(view: dict[str, Any]) -> dict[str, Any]:
    """The state Slack reports for inputs left as the app filled them in: a submission
    carries the initial value of every input the user did not touch."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) else None
        if not isinstance(element, dict) or block.get("type") != "input":
            continue
        state = {
            INITIAL_STATE[k]: copy.deepcopy(v) for k, v in element.items() if k in INITIAL_STATE
        }
        if state and block.get("block_id") and element.get("action_id"):
            values[block["block_id"]] = {element["action_id"]: {"type": element["type"], **state}}
    return values


class ControlError(Exception):
    """A control request that a real user could not have made (HTTP 4xx/5xx)."""

    def __init__(self, status: int, error: str, detail: str = "") -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, "detail": self.detail}


class Controller:
    """Drives the app the way a Slack user would, through real signed requests."""

    def __init__(self, workspace: Workspace, base_url: Callable[[], str]) -> None:
        self.ws = workspace
        self.base_url = base_url
        self.app_url: str | None = None
        self.signing_secret = ""
        self.ack_timeout = 3.0
        self.echo_bot_messages = False
        self.socket_mode: SocketModeHub | None = None

    # -- shared pieces -----------------------------------------------------------------

    def _user(self, user_id: Any) -> dict[str, Any]:
        try:
            return self.ws.user(user_id)
        except SlackError:
            raise ControlError(404, "user_not_found", f"no user {user_id!r}") from None

    def _common(self, user_id: str) -> dict[str, Any]:
        return {
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.ws.team["id"], "domain": self.ws.team["domain"]},
            "user": self.ws.payload_user(user_id),
            "api_app_id": self.ws.bot["app_id"],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _visible_channel(self, user_id: str, channel_id: Any) -> dict[str, Any]:
        """A channel as a user sees it: public ones, or ones they belong to."""
        channel = self.ws.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is None:
            raise ControlError(404, "channel_not_found", f"no channel {channel_id!r}")
        if channel["is_private"] and user_id not in channel["members"]:
            raise ControlError(403, "not_in_channel", f"{user_id} cannot see {channel_id}")
        return channel

    def _message(self, channel: dict[str, Any], ts: Any) -> dict[str, Any]:
        try:
            return self.ws.message(channel, ts)
        except SlackError:
            raise ControlError(404, "message_not_found", f"no message {ts!r}") from None

    def _channel_ref(self, channel: dict[str, Any]) -> dict[str, str]:
        name = "directmessage" if channel["is_im"] else channel["name"]
        return {"id": channel["id"], "name": name}

    def _response_url(self, channel: dict[str, Any], user_id: str, message_ts: str | None) -> str:
        key = secrets.token_urlsafe(18)
        with self.ws.lock:
            self.ws.response_urls[key] = {
                "channel": channel["id"],
                "user": user_id,
                "message_ts": message_ts,
                "issued_at": time.monotonic(),
                "uses": 0,
            }
        return f"{self.base_url()}/actions/{self.ws.team['id']}/{int(time.time())}/{key}"

    def _connected_socket(self) -> SocketModeHub | None:
        """A connected Socket Mode app gets everything on its socket instead of over HTTP."""
        hub = self.socket_mode
        return hub if hub is not None and hub.connected else None

    def _app_reachable(self) -> bool:
        return bool(self.app_url) or self._connected_socket() is not None

    def _deliver(
        self, socket_type: str, body: dict[str, Any], post: Callable[..., AppAnswer]
    ) -> tuple[AppAnswer, str]:
        """Over the Socket Mode connection if there is one, else a signed POST to app_url."""
        hub = self._connected_socket()
        if hub is not None:
            return hub.deliver(socket_type, body, self.ack_timeout), "socket_mode"
        return post(self._require_app(), body, self.signing_secret, self.ack_timeout), "http"

    def _require_app(self) -> str:
        if not self.app_url:
            raise ControlError(409, "no_app_url", "set app_url (the app's /slack/events URL)")
        return self.app_url

    def _record(self, kind: str, detail: str, answer: AppAnswer, transport: str) -> None:
        self.ws.record_delivery(
            {
                "kind": kind,
                "detail": detail,
                "at": time.time(),
                "status": answer.status,
                "elapsed_ms": answer.elapsed_ms,
                "error": answer.error,
                "transport": transport,
            }
        )

    def _send_interaction(self, payload: dict[str, Any], detail: str) -> AppAnswer:
        answer, transport = self._deliver("interactive", payload, post_interaction)
        self._record(payload["type"], detail, answer, transport)
        return answer

    def _envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.ws.team["id"],
            "context_team_id": self.ws.team["id"],
            "context_enterprise_id": None,
            "api_app_id": self.ws.bot["app_id"],
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team["id"],
                    "user_id": self.ws.bot["user_id"],
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }

    def _send_event(self, event: dict[str, Any]) -> AppAnswer:
        answer, transport = self._deliver("events_api", self._envelope(event), post_event)
        self._record("event_callback", event["type"], answer, transport)
        return answer

    def _wait_for_trigger(self, trigger_id: str, wait: float) -> list[dict[str, Any]]:
        """Views opened or pushed with this trigger, waiting up to ``wait`` seconds for one."""
        deadline = time.monotonic() + max(0.0, wait)
        with self.ws.changed:
            trigger = self.ws.triggers[trigger_id]
            expires = trigger["issued_at"] + self.ws.trigger_ttl
            while not trigger["exchanged"]:
                remaining = min(deadline, expires) - time.monotonic()
                if remaining <= 0:
                    break
                self.ws.changed.wait(remaining)
            return [copy.deepcopy(self.ws.views[v]["view"]) for v in trigger["views"]]

    def _result(self, answer: AppAnswer, **extra: Any) -> dict[str, Any]:
        return {"ok": True, **answer.as_dict(), **extra}

    # -- shortcuts ---------------------------------------------------------------------

    def global_shortcut(
        self, user: str, callback_id: str, wait: float | None = None
    ) -> dict[str, Any]:
        """A global shortcut; waits (up to the trigger's life) for the modal it opens."""
        self._user(user)
        trigger_id = self.ws.issue_trigger(user, "shortcut")
        payload = {
            "type": "shortcut",
            **self._common(user),
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "action_ts": self.ws.next_ts(),
        }
        answer = self._send_interaction(payload, callback_id)
        views = self._wait_for_trigger(trigger_id, self._wait(wait, self.ws.trigger_ttl, answer))
        return self._result(answer, trigger_id=trigger_id, views=views)

    def message_shortcut(
        self,
        user: str,
        channel: str,
        message_ts: str,
        callback_id: str,
        wait: float | None = None,
    ) -> dict[str, Any]:
        """A message shortcut on a message that the user can see."""
        self._user(user)
        with self.ws.lock:
            chan = self._visible_channel(user, channel)
            message = self.ws.render_message(chan, self._message(chan, message_ts))
        trigger_id = self.ws.issue_trigger(user, "message_action")
        payload = {
            "type": "message_action",
            **self._common(user),
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "action_ts": self.ws.next_ts(),
            "message_ts": message_ts,
            "channel": self._channel_ref(chan),
            "message": message,
            "response_url": self._response_url(chan, user, message_ts),
        }
        answer = self._send_interaction(payload, callback_id)
        views = self._wait_for_trigger(trigger_id, self._wait(wait, self.ws.trigger_ttl, answer))
        return self._result(answer, trigger_id=trigger_id, views=views)

    @staticmethod
    def _wait(wait: float | None, default: float, answer: AppAnswer) -> float:
        if answer.status is None:
            return 0.0
        return default if wait is None else float(wait)

    # -- modals ------------------------------------------------------------------------

    def _open_view(self, user: str, view_id: Any) -> dict[str, Any]:
        record = self.ws.views.get(view_id) if isinstance(view_id, str) else None
        if record is None or record["user"] != user:
            raise ControlError(404, "view_not_found", f"{user} has no view {view_id!r}")
        is_home = self.ws.homes.get(user) == view_id
        if not is_home and view_id not in self.ws.stacks.get(user, []):
            raise ControlError(409, "view_not_open", f"view {view_id} is not open")
        return record

    @staticmethod
    def _block_ids(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            b["block_id"]: b
            for b in view.get("blocks") or []
            if isinstance(b, dict) and b.get("block_id")
        }

    def _check_values(self, view: dict[str, Any], values: Any) -> None:
        """Slack only reports state for blocks and elements that are in the view."""
        if not isinstance(values, dict):
            raise ControlError(400, "invalid_values", "values must be {block_id: {action_id: ..}}")
        blocks = self._block_ids(view)
        for block_id, actions in values.items():
            if block_id not in blocks:
                raise ControlError(400, "unknown_block_id", f"view has no block {block_id!r}")
            if not isinstance(actions, dict):
                raise ControlError(400, "invalid_values", f"values[{block_id!r}] must be a dict")
            for action_id, state in actions.items():
                if not find_element([blocks[block_id]], action_id):
                    raise ControlError(
                        400, "unknown_action_id", f"block {block_id!r} has no {action_id!r}"
                    )
                if not isinstance(state, dict) or "type" not in state:
                    raise ControlError(
                        400, "invalid_values", f"{block_id}.{action_id} needs a type"
                    )

    def _with_files(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        """A file input's state carries full file objects, as Slack sends them; the files
        become readable by the app once the form is submitted. Tests may give ids only."""
        values = copy.deepcopy(values)
        for actions in values.values():
            for state in actions.values():
                if state.get("type") != "file_input":
                    continue
                objects = []
                for item in state.get("files") or []:
                    file_id = item.get("id") if isinstance(item, dict) else item
                    record = self.ws.files.get(file_id) if isinstance(file_id, str) else None
                    if record is None or record["user"] != user:
                        raise ControlError(400, "file_not_found", f"{user} has no file {file_id!r}")
                    record["app_access"] = True
                    objects.append(self.ws.file_object(record, self.base_url()))
                state["files"] = objects
        return values

    def submit(
        self, user: str, view_id: str, values: Any = None, wait: float | None = None
    ) -> dict[str, Any]:
        """Submit an open modal with ``values`` in Slack's state.values shape."""
        self._user(user)
        values = values or {}
        with self.ws.lock:
            record = self._open_view(user, view_id)
            if record["view"]["type"] != "modal":
                raise ControlError(409, "not_a_modal", "only modals can be submitted")
            self._check_values(record["view"], values)
            values = {**initial_values(record["view"]), **self._with_files(user, values)}
            record["view"]["state"] = {"values": copy.deepcopy(values)}
            view = copy.deepcopy(record["view"])
        trigger_id = self.ws.issue_trigger(user, "view_submission")
        payload = {
            "type": "view_submission",
            **self._common(user),
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": [],
        }
        answer = self._send_interaction(payload, view.get("callback_id", ""))
        outcome = self._apply_submission(user, view, answer)
        views = self._wait_for_trigger(trigger_id, self._wait(wait, 0.0, answer))
        with self.ws.lock:
            stack = list(self.ws.stacks.get(user, []))
            top = copy.deepcopy(self.ws.views[stack[-1]]["view"]) if stack else None
        return self._result(
            answer, trigger_id=trigger_id, views=views, open_views=stack, view=top, **outcome
        )

    def _apply_submission(
        self, user: str, view: dict[str, Any], answer: AppAnswer
    ) -> dict[str, Any]:
        """What Slack does with the app's answer to a view_submission."""
        if answer.status != 200:
            return {"view_closed": False, "slack_error": "the app did not acknowledge in time"}
        body = answer.json if isinstance(answer.json, dict) else {}
        action = body.get("response_action")
        if action is None:
            self.ws.close_view(view["id"])
            return {"view_closed": True}
        if action == "clear":
            self.ws.close_all(user)
            return {"view_closed": True}
        if action == "errors":
            errors = body.get("errors") or {}
            inputs = {bid for bid, b in self._block_ids(view).items() if b.get("type") == "input"}
            unknown = sorted(set(errors) - inputs)
            result: dict[str, Any] = {"view_closed": False, "errors": errors}
            if unknown:
                result["slack_error"] = f"errors name blocks that are not inputs: {unknown}"
            return result
        if action in ("update", "push"):
            try:
                validate_view(body.get("view"), "modal")
            except BlockKitError as err:
                return {
                    "view_closed": False,
                    "slack_error": "invalid view",
                    "messages": err.messages,
                }
            with self.ws.lock:
                stack = self.ws.open_stack(user)
                if action == "update":
                    self.ws.create_view(
                        body["view"],
                        user,
                        previous=view.get("previous_view_id"),
                        root=view.get("root_view_id"),
                        view_id=view["id"],
                    )
                elif len(stack) >= 3:
                    return {"view_closed": False, "slack_error": "push_limit_reached"}
                else:
                    pushed = self.ws.create_view(
                        body["view"], user, previous=view["id"], root=view.get("root_view_id")
                    )
                    stack.append(pushed["id"])
            return {"view_closed": False}
        return {"view_closed": False, "slack_error": f"unknown response_action {action!r}"}

    # -- clicks ------------------------------------------------------------------------

    def click(
        self,
        user: str,
        action_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        value: Any = None,
        block_id: str | None = None,
        wait: float | None = None,
    ) -> dict[str, Any]:
        """Press a button (or pick an option) in a message or in an open view."""
        self._user(user)
        with self.ws.lock:
            if view_id:
                record = self._open_view(user, view_id)
                view = copy.deepcopy(record["view"])
                blocks = view.get("blocks") or []
                context: dict[str, Any] = {
                    "container": {"type": "view", "view_id": view_id},
                    "view": view,
                    "state": copy.deepcopy(view.get("state") or {"values": {}}),
                }
            elif channel and message_ts:
                chan = self._visible_channel(user, channel)
                stored = self._message(chan, message_ts)
                message = self.ws.render_message(chan, stored)
                blocks = message.get("blocks") or []
                container = {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": chan["id"],
                    "is_ephemeral": False,
                }
                if message.get("thread_ts") and message["thread_ts"] != message_ts:
                    container["thread_ts"] = message["thread_ts"]
                context = {
                    "container": container,
                    "channel": self._channel_ref(chan),
                    "message": message,
                    "state": {"values": {}},
                }
            else:
                raise ControlError(400, "invalid_arguments", "give channel+message_ts or view_id")
            action = self._action(blocks, action_id, value, block_id)
        if not view_id:
            context["response_url"] = self._response_url(chan, user, message_ts)
        trigger_id = self.ws.issue_trigger(user, "block_actions")
        payload = {
            "type": "block_actions",
            **self._common(user),
            "trigger_id": trigger_id,
            **context,
            "actions": [action],
        }
        answer = self._send_interaction(payload, action_id)
        views = self._wait_for_trigger(trigger_id, self._wait(wait, 1.0, answer))
        return self._result(answer, trigger_id=trigger_id, views=views, action=action)

    def _action(
        self, blocks: list[Any], action_id: str, value: Any, block_id: str | None
    ) -> dict[str, Any]:
        """The ``actions[0]`` entry Slack sends for the element with this action_id."""
        matches = find_element(blocks, action_id, block_id)
        if not matches:
            raise ControlError(404, "action_not_found", f"no element with action_id {action_id!r}")
        if value is not None:
            buttons = [
                m for m in matches if m[1].get("type") == "button" and m[1].get("value") == value
            ]
            others = [m for m in matches if m[1].get("type") != "button"]
            matches = buttons or others
            if not matches:
                raise ControlError(
                    404, "action_not_found", f"no {action_id!r} button with value {value!r}"
                )
        block, element = matches[0]
        kind = element["type"]
        action: dict[str, Any] = {
            "type": kind,
            "action_id": action_id,
            "block_id": block.get("block_id"),
            "action_ts": self.ws.next_ts(),
        }
        if kind == "button":
            action["text"] = copy.deepcopy(element.get("text"))
            if "value" in element:
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
        elif kind in SELECT_TYPES:
            options = list(element.get("options") or [])
            for group in element.get("option_groups") or []:
                options.extend(group.get("options") or [])
            chosen = [o for o in options if o.get("value") == value]
            if not chosen and kind != "external_select":
                raise ControlError(400, "option_not_found", f"{action_id} has no option {value!r}")
            action["selected_option"] = (
                copy.deepcopy(chosen[0])
                if chosen
                else {"text": {"type": "plain_text", "text": str(value)}, "value": value}
            )
        elif kind == "users_select":
            action["selected_user"] = value
        elif kind == "conversations_select":
            action["selected_conversation"] = value
        elif kind == "channels_select":
            action["selected_channel"] = value
        elif kind == "datepicker":
            action["selected_date"] = value
        elif kind in ("checkboxes", "multi_static_select"):
            wanted = value if isinstance(value, list) else [value]
            action["selected_options"] = [
                copy.deepcopy(o) for o in element.get("options") or [] if o.get("value") in wanted
            ]
        else:
            action["value"] = value
        return action

    # -- events ------------------------------------------------------------------------

    def post(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A user's message, stored and delivered as a ``message`` event if the bot can see it.

        ``channel`` may be the bot's user ID, meaning the user's DM with the bot. ``text``
        is what the user typed; it is stored and delivered escaped, as Slack does.
        """
        self._user(user)
        return self._user_message(user, channel, thread_ts, self._typed(text))

    def upload(
        self,
        user: str,
        filename: str,
        content: str | None = None,
        content_base64: str | None = None,
        mimetype: str | None = None,
        channel: str | None = None,
        text: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A user uploads a file. With ``channel`` it is shared there as a ``file_share``
        message (delivered like ``post``); without, it waits to be added to a modal's file
        input (give its id in ``submit``'s values)."""
        self._user(user)
        if not isinstance(filename, str) or not filename:
            raise ControlError(400, "invalid_arguments", "filename is required")
        try:
            data = (
                base64.b64decode(content_base64, validate=True)
                if content_base64 is not None
                else (content or "").encode("utf-8")
            )
        except (ValueError, TypeError):
            raise ControlError(400, "invalid_arguments", "content_base64 is not base64") from None
        record = self.ws.add_file(user, filename, data, mimetype)
        if channel is None:
            return {"ok": True, "file": self.ws.file_object(record, self.base_url())}
        fields: dict[str, Any] = {"subtype": "file_share", "upload": True, "display_as_bot": False}
        fields.update(self._typed(text) if text else {"text": ""})
        result = self._user_message(user, channel, thread_ts, fields, files=[record])
        return {**result, "file": result["message"]["files"][0]}

    @staticmethod
    def _typed(text: str) -> dict[str, Any]:
        """The fields Slack adds to a message typed in its client."""
        return {
            "text": wire_text(text),
            "client_msg_id": str(uuid.uuid4()),
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": secrets.token_urlsafe(3),
                    "elements": [
                        {"type": "rich_text_section", "elements": rich_text_elements(text)}
                    ],
                }
            ],
        }

    def _user_message(
        self,
        user: str,
        channel: str,
        thread_ts: str | None,
        fields: dict[str, Any],
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        if channel == self.ws.bot["user_id"]:
            channel = self.ws.open_dm(user)[0]["id"]
        with self.ws.lock:
            chan = self._visible_channel(user, channel)
            if user not in chan["members"]:
                raise ControlError(403, "not_in_channel", f"{user} is not in {channel}")
            if chan["is_archived"]:
                raise ControlError(409, "is_archived", f"{channel} is archived")
            message: dict[str, Any] = {"type": "message", "user": user, **fields}
            if thread_ts:
                self._message(chan, thread_ts)
                message["thread_ts"] = thread_ts
            for record in files or []:
                record["channels"].append(chan["id"])
            if files:
                message["files"] = [self.ws.file_object(r, self.base_url()) for r in files]
            stored = self.ws.add_message(chan, message)
            event = self._message_event(chan, stored)
            bot_sees = self.ws.bot["user_id"] in chan["members"]
        result: dict[str, Any] = {
            "ok": True,
            "channel": chan["id"],
            "ts": stored["ts"],
            "message": copy.deepcopy(event),
            "delivered": False,
        }
        if bot_sees and self._app_reachable():
            answer = self._send_event(event)
            result.update(answer.as_dict())
            result["delivered"] = answer.status is not None
        return result

    def _message_event(self, channel: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
        event = self.ws.render_message(channel, stored)
        event.update(
            {
                "channel": channel["id"],
                "event_ts": stored["ts"],
                "channel_type": self.ws.channel_type(channel),
            }
        )
        return event

    def echo_bot_message(self, channel: dict[str, Any], rendered: dict[str, Any]) -> None:
        """Slack also sends the bot its own messages (with bot_id); optional here."""
        if not (self.echo_bot_messages and self._app_reachable()):
            return
        event = {
            **rendered,
            "channel": channel["id"],
            "event_ts": rendered["ts"],
            "channel_type": self.ws.channel_type(channel),
        }
        threading.Thread(target=self._send_event, args=(event,), daemon=True).start()

    def open_home(self, user: str, wait: float | None = None) -> dict[str, Any]:
        """The user opens the app's Home tab; waits for the app's views.publish."""
        self._user(user)
        dm, _ = self.ws.open_dm(user)
        with self.ws.lock:
            home_id = self.ws.homes.get(user)
            before = self.ws.views[home_id]["view"]["hash"] if home_id else None
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user,
                "channel": dm["id"],
                "tab": "home",
                "event_ts": self.ws.next_ts(),
            }
            if home_id:
                event["view"] = copy.deepcopy(self.ws.views[home_id]["view"])
        answer = self._send_event(event)
        deadline = time.monotonic() + self._wait(wait, 1.0, answer)
        with self.ws.changed:
            while True:
                home_id = self.ws.homes.get(user)
                now_hash = self.ws.views[home_id]["view"]["hash"] if home_id else None
                remaining = deadline - time.monotonic()
                if now_hash != before or remaining <= 0:
                    break
                self.ws.changed.wait(remaining)
            view = copy.deepcopy(self.ws.views[home_id]["view"]) if home_id else None
        return self._result(answer, view=view, published=now_hash != before)

    # -- response_url ------------------------------------------------------------------

    def respond(self, key: str, body: Any) -> tuple[int, dict[str, Any]]:
        """A POST to a response_url: reply in channel, ephemerally, or edit the original."""
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        with self.ws.lock:
            entry = self.ws.response_urls.get(key)
            if entry is None:
                return 404, {"ok": False, "error": "no_such_url"}
            if time.monotonic() - entry["issued_at"] > RESPONSE_URL_TTL:
                return 404, {"ok": False, "error": "expired_url"}
            if entry["uses"] >= RESPONSE_URL_USES:
                return 404, {"ok": False, "error": "used_url"}
            if body.get("blocks") is not None:
                try:
                    validate_message_blocks(body["blocks"])
                except BlockKitError as err:
                    return 400, {"ok": False, "error": "invalid_blocks", "messages": err.messages}
            entry["uses"] += 1
            channel = self.ws.channels[entry["channel"]]
            content = {k: body[k] for k in ("text", "blocks") if k in body}
            original = channel["messages"].get(entry["message_ts"] or "")
            if body.get("delete_original") or body.get("replace_original"):
                if original is None or original.get("bot_id") != self.ws.bot["bot_id"]:
                    return 400, {"ok": False, "error": "cant_update_message"}
                if body.get("delete_original"):
                    del channel["messages"][original["ts"]]
                    for replies in channel["threads"].values():
                        if original["ts"] in replies:
                            replies.remove(original["ts"])
                else:
                    original.update(content)
                    original["edited"] = {"user": self.ws.bot["user_id"], "ts": self.ws.next_ts()}
            elif body.get("response_type") == "in_channel":
                message = {**self.ws.bot_message_fields(), **content}
                if body.get("thread_ts"):
                    message["thread_ts"] = body["thread_ts"]
                self.ws.add_message(channel, message)
            else:
                channel["ephemeral"].append(
                    {
                        "type": "message",
                        "subtype": "ephemeral",
                        "user": entry["user"],
                        "ts": self.ws.next_ts(),
                        **content,
                    }
                )
            self.ws.response_posts.append(
                {"channel": channel["id"], "user": entry["user"], "body": copy.deepcopy(body)}
            )
            self.ws.changed.notify_all()
        return 200, {"ok": True}
