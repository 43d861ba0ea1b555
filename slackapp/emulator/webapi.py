"""The Web API methods under ``/api/<method>``.

``WebApi.call`` runs the same pipeline for every method, in Slack's order:
unknown method, injected fault, token, scope, per-channel rate limit, then the
method itself. Methods read their arguments from form fields or a JSON body (slack-sdk
sends both), and answer Slack-shaped JSON; a refusal is a ``SlackError``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .blockkit import (
    MAX_MESSAGE_BLOCKS_TEXT,
    BlockKitError,
    blocks_text_length,
    check_message_text,
    validate_message_blocks,
    validate_view,
)
from .limits import Faults, RateLimiter
from .scopes import (
    CONVERSATION_SCOPES,
    CREATE_SCOPES,
    LIST_SCOPES,
    METHOD_SCOPES,
    conversation_kind,
)
from .socketmode import APP_LEVEL_METHODS, connection_token_error
from .workspace import SlackError, Workspace

MAX_VIEW_STACK = 3
METADATA_EVENT_TYPE = re.compile(r"[A-Za-z0-9_]{1,255}")
# Slack's rule for channel names: lower case letters, digits, hyphens and underscores.
CHANNEL_NAME = re.compile(r"[a-z0-9_\-]+")
# Set to a directory to keep every accepted message and view payload there, as
# JSON, for checks that the emulator did not write (.ci/slack-types/).
RECORD_DIR_ENV = "STEWARD_EMULATOR_RECORD_DIR"
RECORDED_ARGUMENTS = (
    "channel",
    "ts",
    "thread_ts",
    "text",
    "blocks",
    "user",
    "user_id",
    "trigger_id",
    "view_id",
    "external_id",
    "hash",
    "view",
)
RECORDED_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "views.open",
        "views.push",
        "views.update",
        "views.publish",
    }
)


@dataclass
class ApiResponse:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Params:
    """Method arguments from a form body, a JSON body or the query string."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        return default if value is None else value

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def structured(self, name: str, error: str) -> Any:
        """A JSON argument that form bodies carry as a string (blocks, view, files)."""
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value


def _cursor_page(
    items: list[Any], params: Params, default_limit: int = 100
) -> tuple[list[Any], str]:
    """Slack's cursor pagination; the cursor is opaque to callers."""
    cursor = params.text("cursor") or ""
    offset = 0
    if cursor:
        try:
            offset = int(base64.b64decode(cursor).decode().split(":", 1)[1])
        except (ValueError, IndexError):
            raise SlackError("invalid_cursor") from None
    try:
        limit = int(params.get("limit", default_limit) or default_limit)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    limit = max(1, min(limit, 1000))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.b64encode(f"next:{offset + limit}".encode()).decode() if more else ""
    return page, next_cursor


def _assign_ids(blocks: list[Any]) -> list[Any]:
    """Slack stores a block_id on every block and an action_id on every element."""
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(3))
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for element in elements:
            if isinstance(element, dict) and element.get("type") in (
                "button",
                "static_select",
                "users_select",
                "conversations_select",
                "channels_select",
                "overflow",
                "datepicker",
                "checkboxes",
                "radio_buttons",
                "plain_text_input",
                "multi_static_select",
                "multi_users_select",
            ):
                element.setdefault("action_id", secrets.token_urlsafe(3))
    return blocks


def record(method: str, params: Params) -> None:
    """Keep an accepted payload in $STEWARD_EMULATOR_RECORD_DIR, one file per distinct call."""
    directory = os.environ.get(RECORD_DIR_ENV)
    if not directory:
        return
    arguments = {}
    for name in RECORDED_ARGUMENTS:
        value = params.structured(name, "invalid_arguments") if name in ("blocks", "view") else None
        value = value if value is not None else params.get(name)
        if value is not None:
            arguments[name] = value
    document = json.dumps({"method": method, "arguments": arguments}, sort_keys=True)
    digest = hashlib.sha256(document.encode()).hexdigest()[:20]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{method}-{digest}.json")
    if not os.path.exists(path):
        partial = f"{path}.{secrets.token_hex(4)}.tmp"
        with open(partial, "w", encoding="utf-8") as out:
            out.write(document)
        os.replace(partial, path)


class WebApi:
    """Dispatches Web API calls against one workspace."""

    def __init__(
        self,
        workspace: Workspace,
        faults: Faults,
        rate_limiter: RateLimiter,
        base_url: Callable[[], str],
        on_bot_message: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        scopes: frozenset[str] | None = None,
    ) -> None:
        self.ws = workspace
        self.scopes = scopes  # None grants every method
        self.faults = faults
        self.rate_limiter = rate_limiter
        self.base_url = base_url
        self.on_bot_message = on_bot_message
        self.methods: dict[str, Callable[[Params], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.open": self.conversations_open,
            "conversations.create": self.conversations_create,
            "conversations.invite": self.conversations_invite,
            "conversations.kick": self.conversations_kick,
            "conversations.list": self.conversations_list,
            "conversations.replies": self.conversations_replies,
            "conversations.history": self.conversations_history,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "views.publish": self.views_publish,
            "reactions.add": self.reactions_add,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "files.info": self.files_info,
        }

    # -- pipeline ----------------------------------------------------------------------

    def call(
        self,
        method: str,
        values: dict[str, Any],
        bearer: str | None,
        json_body: bool,
    ) -> ApiResponse:
        handler = self.methods.get(method)
        if handler is None:
            return ApiResponse(404, {"ok": False, "error": "unknown_method"})
        fault = self.faults.take(method)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.fails:
                status, body, headers = fault.answer()
                return ApiResponse(status, body, headers)
        params = Params(values)
        token = bearer
        if token is None and not json_body:
            token = params.text("token")
        if not token:
            return ApiResponse(200, {"ok": False, "error": "not_authed"})
        refusal = connection_token_error(self.ws.bot, token, method in APP_LEVEL_METHODS)
        if refusal is not None:
            return ApiResponse(200, refusal.body())
        refused = self._missing_scope(method, params)
        if refused is not None:
            return ApiResponse(200, refused)
        channel_key = params.text("channel") or params.text("channel_id") or ""
        retry_after = self.rate_limiter.check(method, channel_key)
        if retry_after is not None:
            self.ws.count_rate_limited(method)
            return ApiResponse(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            )
        self.ws.count_call(method)
        try:
            with self.ws.lock:
                body = handler(params)
        except SlackError as err:
            return ApiResponse(200, err.body())
        after = body.pop("_after", None)
        if after is not None:
            after()
        if method in RECORDED_METHODS:
            record(method, params)
        return ApiResponse(200, {"ok": True, **body}, self._scope_header())

    def grants(self, scope: str) -> bool:
        """Whether the app holds ``scope`` (every scope when none were configured)."""
        return self.scopes is None or scope in self.scopes

    def _missing_scope(self, method: str, params: Params) -> dict[str, Any] | None:
        """Slack's ``missing_scope`` answer when the app lacks what the method needs."""
        if self.scopes is None:
            return None
        needed = METHOD_SCOPES.get(method)
        if method == "conversations.create":
            needed = CREATE_SCOPES["private" if params.flag("is_private") else "public"]
        elif method == "conversations.list":
            types = params.text("types") or "public_channel"
            wanted = [LIST_SCOPES.get(t.strip()) for t in types.split(",")]
            needed = next((s for s in wanted if s and s not in self.scopes), None)
        kinds = CONVERSATION_SCOPES.get(method)
        if kinds is not None:
            channel_id = params.text("channel")
            with self.ws.lock:
                channel = self.ws.channels.get(channel_id or "")
            if channel is not None:
                needed = kinds[conversation_kind(channel)]
            elif method == "conversations.open":
                users = params.get("users") or ""
                count = len(users.split(",") if isinstance(users, str) else users)
                needed = kinds["mpim" if count > 1 else "im"]
        if needed is None or needed in self.scopes:
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": needed,
            "provided": ",".join(sorted(self.scopes)),
        }

    # -- helpers -----------------------------------------------------------------------

    def _scope_header(self) -> dict[str, str]:
        """The app's granted scopes, as Slack reports them on every answer (none when the
        emulator grants every method)."""
        if self.scopes is None:
            return {}
        return {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}

    def _resolve_channel(self, value: Any) -> dict[str, Any]:
        """Channel IDs, ``#names``, and user IDs (which mean the bot's DM with them)."""
        if isinstance(value, str) and value.startswith("#"):
            for channel in self.ws.channels.values():
                if channel["name"] == value[1:]:
                    return self.ws.channel(channel["id"])
            raise SlackError("channel_not_found")
        if isinstance(value, str) and value in self.ws.users and value not in self.ws.channels:
            channel, _ = self.ws.open_dm(value)
            return channel
        return self.ws.channel(value)

    def _writable(self, value: Any) -> dict[str, Any]:
        channel = self._resolve_channel(value)
        if self.ws.bot["user_id"] not in channel["members"]:
            raise SlackError("not_in_channel")
        if channel["is_archived"]:
            raise SlackError("is_archived")
        return channel

    def _message_content(self, params: Params, require: bool) -> dict[str, Any]:
        """Text, blocks and attachments, checked against Slack's limits."""
        text = params.text("text")
        blocks = params.structured("blocks", "invalid_blocks_format")
        attachments = params.structured("attachments", "invalid_attachments")
        if require and not text and not blocks and not attachments:
            raise SlackError("no_text")
        if not check_message_text(text):
            raise SlackError("msg_too_long")
        content: dict[str, Any] = {}
        if text is not None:
            content["text"] = text
        if blocks is not None:
            try:
                validate_message_blocks(blocks)
            except BlockKitError as err:
                raise SlackError("invalid_blocks", err.messages) from None
            if blocks_text_length(blocks) > MAX_MESSAGE_BLOCKS_TEXT:
                raise SlackError("msg_blocks_too_long")
            content["blocks"] = _assign_ids(blocks)
        if attachments is not None:
            if not isinstance(attachments, list):
                raise SlackError("invalid_attachments")
            content["attachments"] = attachments
        metadata = params.structured("metadata", "invalid_metadata_format")
        if metadata is not None:
            content["metadata"] = _checked_metadata(metadata)
        return content

    def _view_argument(self, params: Params, expected_type: str | None) -> dict[str, Any]:
        view = params.structured("view", "invalid_arguments")
        if view is None:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
        try:
            validate_view(view, expected_type)
        except BlockKitError as err:
            raise SlackError("invalid_arguments", err.messages) from None
        return view

    # -- auth --------------------------------------------------------------------------

    def auth_test(self, params: Params) -> dict[str, Any]:
        return {
            "url": f"https://{self.ws.team['domain']}.slack.com/",
            "team": self.ws.team["name"],
            "user": self.ws.bot["name"],
            "team_id": self.ws.team["id"],
            "user_id": self.ws.bot["user_id"],
            "bot_id": self.ws.bot["bot_id"],
            "app_id": self.ws.bot["app_id"],
            "is_enterprise_install": False,
        }

    # -- chat --------------------------------------------------------------------------

    def chat_post_message(self, params: Params) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        content = self._message_content(params, require=True)
        thread_ts = params.text("thread_ts")
        if thread_ts:
            self.ws.message(channel, thread_ts)
            content["thread_ts"] = thread_ts
            if params.flag("reply_broadcast"):
                content["reply_broadcast"] = True
        for key in ("username", "icon_emoji", "icon_url"):
            if params.text(key):
                content[key] = params.text(key)
        stored = self.ws.add_message(channel, {**self.ws.bot_message_fields(), **content})
        rendered = self.ws.render_message(channel, stored)
        result: dict[str, Any] = {"channel": channel["id"], "ts": stored["ts"], "message": rendered}
        if self.on_bot_message is not None:
            hook, snapshot = self.on_bot_message, copy.deepcopy(rendered)
            result["_after"] = lambda: hook(channel, snapshot)
        return result

    def chat_update(self, params: Params) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        message = self.ws.message(channel, params.text("ts"))
        if message.get("bot_id") != self.ws.bot["bot_id"]:
            raise SlackError("cant_update_message")
        content = self._message_content(params, require=False)
        if not content:
            raise SlackError("no_text")
        message.update(content)
        message["edited"] = {"user": self.ws.bot["user_id"], "ts": self.ws.next_ts()}
        self.ws.changed.notify_all()
        rendered = self.ws.render_message(channel, message)
        return {
            "channel": channel["id"],
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": rendered,
        }

    def chat_delete(self, params: Params) -> dict[str, Any]:
        """A bot token deletes only the bot's own messages, as in Slack."""
        channel = self._resolve_channel(params.get("channel"))
        message = self.ws.message(channel, params.text("ts"))
        if message.get("bot_id") != self.ws.bot["bot_id"]:
            raise SlackError("cant_delete_message")
        self.ws.delete_message(channel, message["ts"])
        return {"channel": channel["id"], "ts": message["ts"]}

    def chat_post_ephemeral(self, params: Params) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        user = self.ws.user(params.text("user"))
        if user["id"] not in channel["members"]:
            raise SlackError("user_not_in_channel")
        content = self._message_content(params, require=True)
        ts = self.ws.next_ts()
        entry = {"type": "message", "subtype": "ephemeral", "user": user["id"], "ts": ts, **content}
        if params.text("thread_ts"):
            entry["thread_ts"] = params.text("thread_ts")
        channel["ephemeral"].append(entry)
        self.ws.changed.notify_all()
        return {"message_ts": ts}

    def chat_get_permalink(self, params: Params) -> dict[str, Any]:
        channel = self.ws.channel(params.get("channel"))
        message = self.ws.message(channel, params.text("message_ts"))
        return {"channel": channel["id"], "permalink": self.ws.permalink(channel, message)}

    # -- conversations -----------------------------------------------------------------

    def conversations_info(self, params: Params) -> dict[str, Any]:
        channel = self.ws.channel(params.get("channel"))
        return {"channel": self.ws.render_channel(channel)}

    def conversations_members(self, params: Params) -> dict[str, Any]:
        channel = self.ws.channel(params.get("channel"))
        page, cursor = _cursor_page(list(channel["members"]), params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def conversations_open(self, params: Params) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, str):
            users = [u.strip() for u in users.split(",") if u.strip()]
        if params.text("channel"):
            channel = self.ws.channel(params.text("channel"))
            if not (channel["is_im"] or channel["is_mpim"]):
                raise SlackError("channel_not_found")
            existed = True
        elif users:
            humans = [u for u in users if u != self.ws.bot["user_id"]]
            if not humans:
                raise SlackError("cannot_dm_bot")
            if len(humans) == 1:
                channel, existed = self.ws.open_dm(humans[0])
            else:
                channel, existed = self.ws.open_mpim(humans)
        else:
            raise SlackError("users_list_not_supplied")
        rendered = (
            self.ws.render_channel(channel) if params.flag("return_im") else {"id": channel["id"]}
        )
        result: dict[str, Any] = {"channel": rendered}
        if existed:
            result.update({"no_op": True, "already_open": True})
        return result

    def conversations_create(self, params: Params) -> dict[str, Any]:
        """A new channel with the bot as its only member; names are unique in the workspace."""
        name = params.text("name") or ""
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not CHANNEL_NAME.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if any(c["name"] == name for c in self.ws.channels.values()):
            raise SlackError("name_taken")
        private = params.flag("is_private")
        channel_id = self.ws.new_id("G" if private else "C")
        self.ws.load_channel(
            {
                "id": channel_id,
                "name": name,
                "is_private": private,
                "created": int(time.time()),
                "creator": self.ws.bot["user_id"],
                "members": [self.ws.bot["user_id"]],
            }
        )
        self.ws.changed.notify_all()
        return {"channel": self.ws.render_channel(self.ws.channels[channel_id])}

    def conversations_invite(self, params: Params) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        users = [u.strip() for u in (params.text("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("no_user")
        for user_id in users:
            self.ws.user(user_id)
            if user_id == self.ws.bot["user_id"]:
                raise SlackError("cant_invite_self")
            if user_id in channel["members"]:
                raise SlackError("already_in_channel")
        channel["members"].extend(dict.fromkeys(users))
        self.ws.changed.notify_all()
        return {"channel": self.ws.render_channel(channel)}

    def conversations_kick(self, params: Params) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        user = self.ws.user(params.text("user"))
        if user["id"] == self.ws.bot["user_id"]:
            raise SlackError("cant_kick_self")
        if user["id"] not in channel["members"]:
            raise SlackError("not_in_channel")
        channel["members"].remove(user["id"])
        self.ws.changed.notify_all()
        return {}

    def conversations_list(self, params: Params) -> dict[str, Any]:
        """Channels of the asked types that the bot can see (private ones only as a member)."""
        types = {t.strip() for t in (params.text("types") or "public_channel").split(",")}
        listed = []
        for channel in self.ws.channels.values():
            kind = {"public": "public_channel", "private": "private_channel"}.get(
                conversation_kind(channel), conversation_kind(channel)
            )
            if kind not in types:
                continue
            if channel["is_private"] and self.ws.bot["user_id"] not in channel["members"]:
                continue
            if channel["is_archived"] and params.flag("exclude_archived"):
                continue
            listed.append(self.ws.render_channel(channel))
        page, cursor = _cursor_page(listed, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _time_window(self, params: Params, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        oldest, latest = params.text("oldest"), params.text("latest")
        inclusive = params.flag("inclusive")

        def keep(message: dict[str, Any]) -> bool:
            ts = float(message["ts"])
            if oldest and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
                return False
            return not (latest and (ts > float(latest) or (ts == float(latest) and not inclusive)))

        try:
            return [m for m in messages if keep(m)]
        except ValueError:
            raise SlackError("invalid_ts_latest" if latest else "invalid_ts_oldest") from None

    def conversations_history(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(params.get("channel"))
        messages = list(reversed(self.ws.top_level(channel)))
        messages = self._time_window(params, messages)
        page, cursor = _cursor_page(messages, params)
        return {
            "messages": self._listed(channel, page, params),
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(params.get("channel"))
        ts = params.text("ts")
        if not ts or ts not in channel["messages"]:
            raise SlackError("thread_not_found")
        thread = self.ws.thread(channel, self.ws.thread_root(channel, ts))
        root, replies = thread[0], self._time_window(params, thread[1:])
        page, cursor = _cursor_page([root] + replies, params, default_limit=1000)
        return {
            "messages": self._listed(channel, page, params),
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _listed(
        self, channel: dict[str, Any], page: list[dict[str, Any]], params: Params
    ) -> list[dict[str, Any]]:
        """Messages as history lists them: their metadata only on `include_all_metadata`."""
        rendered = [self.ws.render_message(channel, m) for m in page]
        if not params.flag("include_all_metadata"):
            for message in rendered:
                message.pop("metadata", None)
        return rendered

    # -- users -------------------------------------------------------------------------

    def users_info(self, params: Params) -> dict[str, Any]:
        return {"user": self.ws.render_user(self.ws.user(params.text("user")))}

    def users_lookup_by_email(self, params: Params) -> dict[str, Any]:
        email = (params.text("email") or "").lower()
        for user in self.ws.users.values():
            if email and str(user.get("email", "")).lower() == email:
                return {"user": self.ws.render_user(user)}
        raise SlackError("users_not_found")

    # -- views -------------------------------------------------------------------------

    def views_open(self, params: Params) -> dict[str, Any]:
        if not params.text("trigger_id"):
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        definition = self._view_argument(params, "modal")
        trigger = self.ws.exchange_trigger(params.text("trigger_id"))
        user = trigger["user"]
        self.ws.close_all(user)
        view = self.ws.create_view(definition, user)
        self.ws.open_stack(user).append(view["id"])
        trigger["views"].append(view["id"])
        return {"view": copy.deepcopy(view)}

    def views_push(self, params: Params) -> dict[str, Any]:
        if not params.text("trigger_id"):
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        definition = self._view_argument(params, "modal")
        trigger = self.ws.exchange_trigger(params.text("trigger_id"))
        stack = self.ws.open_stack(trigger["user"])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        previous = stack[-1] if stack else None
        root = stack[0] if stack else None
        view = self.ws.create_view(definition, trigger["user"], previous=previous, root=root)
        stack.append(view["id"])
        trigger["views"].append(view["id"])
        return {"view": copy.deepcopy(view)}

    def views_update(self, params: Params) -> dict[str, Any]:
        view_id, external_id = params.text("view_id"), params.text("external_id")
        if not view_id and not external_id:
            raise SlackError(
                "invalid_arguments", ["[ERROR] either view_id or external_id is required"]
            )
        record = self.ws.find_view(view_id, external_id)
        if not record["open"]:
            raise SlackError("not_found")
        current = record["view"]
        definition = self._view_argument(params, current["type"])
        if current.get("external_id") and not definition.get("external_id"):
            definition = {**definition, "external_id": current["external_id"]}
        expected_hash = params.text("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise SlackError("hash_conflict")
        view = self.ws.create_view(
            definition,
            record["user"],
            previous=current.get("previous_view_id"),
            root=current.get("root_view_id"),
            view_id=current["id"],
        )
        return {"view": copy.deepcopy(view)}

    def views_publish(self, params: Params) -> dict[str, Any]:
        user = self.ws.user(params.text("user_id"))
        definition = self._view_argument(params, "home")
        view_id = self.ws.homes.get(user["id"])
        if view_id is not None:
            expected_hash = params.text("hash")
            if expected_hash and expected_hash != self.ws.views[view_id]["view"]["hash"]:
                raise SlackError("hash_conflict")
        view = self.ws.create_view(definition, user["id"], view_id=view_id)
        self.ws.homes[user["id"]] = view["id"]
        return {"view": copy.deepcopy(view)}

    # -- reactions ---------------------------------------------------------------------

    def reactions_add(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(params.get("channel"))
        message = self.ws.message(channel, params.text("timestamp"))
        name = (params.text("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        reactions = message.setdefault("reactions", [])
        bot = self.ws.bot["user_id"]
        for reaction in reactions:
            if reaction["name"] == name:
                if bot in reaction["users"]:
                    raise SlackError("already_reacted")
                reaction["users"].append(bot)
                reaction["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [bot], "count": 1})
        self.ws.changed.notify_all()
        return {}

    # -- files -------------------------------------------------------------------------

    def files_get_upload_url_external(self, params: Params) -> dict[str, Any]:
        filename = params.text("filename")
        length = params.text("length")
        if not filename or not length or not length.isdigit():
            raise SlackError("invalid_arguments", ["[ERROR] filename and length are required"])
        record = self.ws.add_file(self.ws.bot["user_id"], filename, None)
        record.update(alt_txt=params.text("alt_txt") or "", declared_length=int(length))
        key = record["upload_key"]
        return {"upload_url": f"{self.base_url()}/upload/v1/{key}", "file_id": record["id"]}

    def files_info(self, params: Params) -> dict[str, Any]:
        """A file the bot may see; any other is ``file_not_found``, as in Slack."""
        record = self.ws.files.get(params.text("file") or "")
        if record is None or not record["completed"] or not self.ws.bot_can_see(record):
            raise SlackError("file_not_found")
        return {
            "file": self.ws.file_object(record, self.base_url()),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def receive_upload(self, key: str, content: bytes) -> bool:
        """Store bytes POSTed to an upload URL that files.getUploadURLExternal handed out."""
        with self.ws.lock:
            for record in self.ws.files.values():
                if record["upload_key"] == key and not record["completed"]:
                    record.update({"content": content, "size": len(content), "uploaded": True})
                    self.ws.changed.notify_all()
                    return True
        return False

    def files_complete_upload_external(self, params: Params) -> dict[str, Any]:
        files = params.structured("files", "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments", ["[ERROR] files must be a non-empty array"])
        channel = None
        if params.text("channel_id"):
            channel = self._writable(params.text("channel_id"))
        records = []
        for item in files:
            record = self.ws.files.get(item.get("id")) if isinstance(item, dict) else None
            if record is None or not record["uploaded"]:
                raise SlackError("file_not_found")
            records.append((record, item))
        shared = []
        for record, item in records:
            record["completed"] = True
            if item.get("title"):
                record["title"] = item["title"]
            if channel is not None and channel["id"] not in record["channels"]:
                record["channels"].append(channel["id"])
            shared.append(self._file_object(record))
        if channel is not None:
            message = {
                **self.ws.bot_message_fields(),
                "text": params.text("initial_comment") or "",
                "files": copy.deepcopy(shared),
                "upload": True,
            }
            if params.text("thread_ts"):
                self.ws.message(channel, params.text("thread_ts"))
                message["thread_ts"] = params.text("thread_ts")
            self.ws.add_message(channel, message)
        return {"files": shared}

    def _file_object(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.ws.file_object(record, self.base_url())


def _checked_metadata(metadata: Any) -> dict[str, Any]:
    """Message metadata as Slack takes it: an `event_type` name and an `event_payload` object."""
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not METADATA_EVENT_TYPE.fullmatch(event_type):
        raise SlackError("invalid_metadata_format")
    if not isinstance(payload, dict):
        raise SlackError("invalid_metadata_format")
    return {"event_type": event_type, "event_payload": payload}
