"""The in-memory Slack workspace: users, channels, messages, views, triggers, files.

Everything lives behind one re-entrant lock. The Web API, the control API and
the delivery threads all touch the same records, and the app calls back into
the Web API while the emulator waits for its answer to an interaction, so the
lock is never held while talking to the app. ``changed`` is a condition on that
lock; waiters (for example "has the app opened a view with this trigger yet?")
sleep on it instead of polling.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import mimetypes
import re
import secrets
import threading
import time
import urllib.parse
from typing import Any

from .seed import load_seed

DERIVED_MESSAGE_KEYS = (
    "replies",
    "reply_count",
    "reply_users",
    "reply_users_count",
    "latest_reply",
    "parent_user_id",
    "thread_ts",
)


# What a Slack client turns "@Blair" or "#general" into before it sends a message.
MENTION = re.compile(r"<@([UW][A-Z0-9_]+)>|<#([CG][A-Z0-9_]+)>")


def _escape(typed: str) -> str:
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wire_text(typed: str) -> str:
    """A message as Slack stores and delivers it: `&`, `<` and `>` as entities, except in
    the mentions the client inserted (written `<@U123>` or `<#C123>` by whoever posts)."""
    out, last = [], 0
    for match in MENTION.finditer(typed):
        out += [_escape(typed[last : match.start()]), match.group(0)]
        last = match.end()
    out.append(_escape(typed[last:]))
    return "".join(out)


def rich_text_elements(typed: str) -> list[dict[str, Any]]:
    """The rich_text section Slack adds to a typed message; its text is *not* escaped."""
    elements: list[dict[str, Any]] = []
    last = 0
    for match in MENTION.finditer(typed):
        if match.start() > last:
            elements.append({"type": "text", "text": typed[last : match.start()]})
        if match.group(1):
            elements.append({"type": "user", "user_id": match.group(1)})
        else:
            elements.append({"type": "channel", "channel_id": match.group(2)})
        last = match.end()
    if last < len(typed) or not elements:
        elements.append({"type": "text", "text": typed[last:]})
    return elements


class SlackError(Exception):
    """A Slack ``ok: false`` answer: the error code plus optional metadata messages."""

    def __init__(self, error: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


class Workspace:
    """One Slack workspace as seen by one installed bot."""

    def __init__(self, seed: Any = None, trigger_ttl: float = 3.0) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.trigger_ttl = trigger_ttl
        self._seed = load_seed(seed)
        self._last_us = 0
        self._counter = itertools.count(1)
        self.load(self._seed)

    # -- lifecycle ---------------------------------------------------------------------

    def load(self, seed: dict[str, Any]) -> None:
        """Replace every record with the seed's (used at start and by reset)."""
        with self.lock:
            self.team: dict[str, Any] = dict(seed["team"])
            self.bot: dict[str, Any] = dict(seed["bot"])
            self.users: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, dict[str, Any]] = {}
            self.dms: dict[str, str] = {}
            self.views: dict[str, dict[str, Any]] = {}
            self.stacks: dict[str, list[str]] = {}
            self.homes: dict[str, str] = {}
            self.triggers: dict[str, dict[str, Any]] = {}
            self.files: dict[str, dict[str, Any]] = {}
            self.response_urls: dict[str, dict[str, Any]] = {}
            self.response_posts: list[dict[str, Any]] = []
            self.calls: dict[str, int] = {}
            # Calls refused with 429 by the rate limit, per method (not in `calls`).
            self.rate_limited: dict[str, int] = {}
            self.deliveries: list[dict[str, Any]] = []
            self.users[self.bot["user_id"]] = {
                "id": self.bot["user_id"],
                "name": self.bot["name"],
                "real_name": self.bot.get("real_name", self.bot["name"]),
                "is_bot": True,
                "bot_id": self.bot["bot_id"],
                "app_id": self.bot["app_id"],
            }
            for user in seed["users"]:
                self.users[user["id"]] = dict(user)
            for channel in seed["channels"]:
                self.load_channel(channel)
            self.changed.notify_all()

    def reset(self) -> None:
        self.load(self._seed)

    def load_channel(self, data: dict[str, Any]) -> None:
        channel = {
            "id": data["id"],
            "name": data.get("name") or data["id"].lower(),
            "is_private": bool(data.get("is_private", data.get("is_im", False))),
            "is_im": bool(data.get("is_im", False)),
            "is_mpim": bool(data.get("is_mpim", False)),
            "is_archived": bool(data.get("is_archived", False)),
            "created": int(data.get("created", 1700000000)),
            "creator": data.get("creator", ""),
            "topic": data.get("topic", ""),
            "purpose": data.get("purpose", ""),
            "members": list(data.get("members") or []),
            "messages": {},
            "threads": {},
            "ephemeral": list(data.get("ephemeral") or []),
        }
        if channel["is_im"]:
            # The bot's own DMs are keyed by their user; a DM between two people
            # (the bot not in it) is only theirs: the bot cannot see it.
            channel["user"] = data.get("user")
            if self.bot["user_id"] in channel["members"] or not channel["members"]:
                self.dms[channel["user"]] = channel["id"]
        self.channels[channel["id"]] = channel
        for message in data.get("messages") or []:
            replies = message.get("replies") or []
            root = self._stored(message)
            self._insert(channel, root)
            for reply in replies:
                stored = self._stored(reply)
                stored["thread_ts"] = root["ts"]
                self._insert(channel, stored)

    def _stored(self, message: dict[str, Any]) -> dict[str, Any]:
        stored = {k: copy.deepcopy(v) for k, v in message.items() if k not in DERIVED_MESSAGE_KEYS}
        stored.setdefault("type", "message")
        stored.setdefault("ts", self.next_ts())
        stored.setdefault("text", "")
        stored.setdefault("team", self.team["id"])
        return stored

    def _insert(self, channel: dict[str, Any], message: dict[str, Any]) -> None:
        channel["messages"][message["ts"]] = message
        root = message.get("thread_ts")
        if root and root != message["ts"]:
            channel["threads"].setdefault(root, []).append(message["ts"])

    # -- ids ---------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A Slack ``ts``: unique and increasing, even for calls in the same microsecond."""
        with self.lock:
            now_us = time.time_ns() // 1000
            self._last_us = max(now_us, self._last_us + 1)
            return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def new_id(self, prefix: str, length: int = 10) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return prefix + "".join(secrets.choice(alphabet) for _ in range(length))

    # -- users -------------------------------------------------------------------------

    def user(self, user_id: Any, error: str = "user_not_found") -> dict[str, Any]:
        user = self.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise SlackError(error)
        return user

    def render_user(self, user: dict[str, Any]) -> dict[str, Any]:
        """The users.info shape (with email: the emulated bot holds users:read.email)."""
        real_name = user.get("real_name", user.get("name", user["id"]))
        display = user.get("display_name", "")
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display,
            "display_name_normalized": display,
            "title": user.get("title", ""),
            "team": self.team["id"],
            "image_48": f"https://avatars.example.org/{user['id']}_48.png",
        }
        if user.get("email"):
            profile["email"] = user["email"]
        if user.get("is_bot"):
            profile["bot_id"] = user.get("bot_id")
            if user.get("app_id"):
                profile["api_app_id"] = user["app_id"]
        return {
            "id": user["id"],
            "team_id": self.team["id"],
            "name": user.get("name", user["id"].lower()),
            "deleted": bool(user.get("deleted", False)),
            "real_name": real_name,
            "tz": user.get("tz", "UTC"),
            "tz_label": user.get("tz", "UTC"),
            "tz_offset": 0,
            "is_admin": bool(user.get("is_admin", False)),
            "is_owner": bool(user.get("is_owner", False)),
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": bool(user.get("is_bot", False)),
            "is_app_user": False,
            "updated": 1700000000,
            "profile": profile,
        }

    def payload_user(self, user_id: str) -> dict[str, Any]:
        """The ``user`` object in interaction payloads."""
        user = self.user(user_id)
        name = user.get("name", user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team["id"]}

    # -- channels ----------------------------------------------------------------------

    def channel(self, channel_id: Any) -> dict[str, Any]:
        """The channel as the bot may see it: private ones it is not in do not exist."""
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is None:
            raise SlackError("channel_not_found")
        if channel["is_private"] and self.bot["user_id"] not in channel["members"]:
            raise SlackError("channel_not_found")
        return channel

    def member_channel(self, channel_id: Any) -> dict[str, Any]:
        """A channel the bot must belong to (history, posting, reactions)."""
        channel = self.channel(channel_id)
        if self.bot["user_id"] not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def channel_type(self, channel: dict[str, Any]) -> str:
        """The Events API ``channel_type``."""
        if channel["is_im"]:
            return "im"
        if channel["is_mpim"]:
            return "mpim"
        return "group" if channel["is_private"] else "channel"

    def render_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        """The conversations.info shape."""
        if channel["is_im"]:
            return {
                "id": channel["id"],
                "created": channel["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": channel["user"],
                "is_user_deleted": False,
                "priority": 0,
                "is_open": True,
            }
        info = {
            "id": channel["id"],
            "name": channel["name"],
            "name_normalized": channel["name"],
            "is_channel": not channel["is_private"] and not channel["is_mpim"],
            "is_group": channel["is_private"] and not channel["is_mpim"],
            "is_im": False,
            "is_mpim": channel["is_mpim"],
            "is_private": channel["is_private"],
            "is_archived": channel["is_archived"],
            "is_general": channel["name"] == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot["user_id"] in channel["members"],
            "created": channel["created"],
            "creator": channel["creator"],
            "topic": {"value": channel["topic"], "creator": "", "last_set": 0},
            "purpose": {"value": channel["purpose"], "creator": "", "last_set": 0},
            "num_members": len(channel["members"]),
            "context_team_id": self.team["id"],
        }
        return info

    def open_dm(self, user_id: str) -> tuple[dict[str, Any], bool]:
        """The bot's DM with a user, created on first use; returns (channel, existed)."""
        with self.lock:
            self.user(user_id)
            if user_id in self.dms:
                return self.channels[self.dms[user_id]], True
            suffix = user_id[2:] if user_id.startswith("U_") else user_id[1:]
            channel_id = f"D_{suffix}" if user_id.startswith("U_") else f"D{suffix}"
            self.load_channel(
                {
                    "id": channel_id,
                    "name": channel_id.lower(),
                    "is_im": True,
                    "user": user_id,
                    "created": int(time.time()),
                    "members": [user_id, self.bot["user_id"]],
                }
            )
            self.changed.notify_all()
            return self.channels[channel_id], False

    def open_mpim(self, user_ids: list[str]) -> tuple[dict[str, Any], bool]:
        """A group DM of the bot and several users, keyed by its member set."""
        with self.lock:
            for user_id in user_ids:
                self.user(user_id)
            members = sorted(set(user_ids) | {self.bot["user_id"]})
            for channel in self.channels.values():
                if channel["is_mpim"] and sorted(channel["members"]) == members:
                    return channel, True
            digest = hashlib.sha1(",".join(members).encode()).hexdigest()[:8].upper()
            channel_id = f"G_MPIM{digest}"
            self.load_channel(
                {
                    "id": channel_id,
                    "name": "mpdm-" + "--".join(self.users[m].get("name", m) for m in members),
                    "is_private": True,
                    "is_mpim": True,
                    "created": int(time.time()),
                    "members": members,
                }
            )
            self.changed.notify_all()
            return self.channels[channel_id], False

    # -- messages ----------------------------------------------------------------------

    def message(self, channel: dict[str, Any], ts: Any) -> dict[str, Any]:
        message = channel["messages"].get(ts) if isinstance(ts, str) else None
        if message is None:
            raise SlackError("message_not_found")
        return message

    def thread_root(self, channel: dict[str, Any], ts: str) -> str:
        """Slack files a reply to a reply under the thread's root."""
        message = channel["messages"].get(ts)
        if message is None:
            return ts
        return message.get("thread_ts") or ts

    def add_message(self, channel: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stored = dict(message)
            stored.setdefault("type", "message")
            stored["ts"] = self.next_ts()
            stored.setdefault("team", self.team["id"])
            if stored.get("thread_ts"):
                stored["thread_ts"] = self.thread_root(channel, stored["thread_ts"])
            self._insert(channel, stored)
            self.changed.notify_all()
            return stored

    def delete_message(self, channel: dict[str, Any], ts: str) -> None:
        """Remove a message. A thread parent that still has replies stays as Slack's
        tombstone ("This message was deleted."), so the replies keep their thread."""
        with self.lock:
            message = channel["messages"][ts]
            if channel["threads"].get(ts):
                channel["messages"][ts] = {
                    "type": "message",
                    "subtype": "tombstone",
                    "text": "This message was deleted.",
                    "user": "USLACKBOT",
                    "hidden": True,
                    "ts": ts,
                    "thread_ts": ts,
                    "team": message.get("team"),
                }
            else:
                del channel["messages"][ts]
                root = message.get("thread_ts")
                replies = channel["threads"].get(root) if root and root != ts else None
                if replies is not None and ts in replies:
                    replies.remove(ts)
                    if not replies:
                        del channel["threads"][root]
            self.changed.notify_all()

    def bot_message_fields(self) -> dict[str, Any]:
        return {
            "user": self.bot["user_id"],
            "bot_id": self.bot["bot_id"],
            "app_id": self.bot["app_id"],
            "bot_profile": {
                "id": self.bot["bot_id"],
                "app_id": self.bot["app_id"],
                "name": self.bot["name"],
                "deleted": False,
                "team_id": self.team["id"],
            },
        }

    def render_message(self, channel: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        """A message as the API returns it, with the thread fields Slack derives."""
        rendered = copy.deepcopy(message)
        root = message.get("thread_ts")
        if root and root != message["ts"]:
            parent = channel["messages"].get(root, {})
            rendered["thread_ts"] = root
            rendered["parent_user_id"] = parent.get("user") or parent.get("bot_id", "")
            return rendered
        replies = [channel["messages"][ts] for ts in channel["threads"].get(message["ts"], [])]
        if replies:
            users: list[str] = []
            for reply in replies:
                author = reply.get("user") or reply.get("bot_id", "")
                if author not in users:
                    users.append(author)
            rendered["thread_ts"] = message["ts"]
            rendered["reply_count"] = len(replies)
            rendered["reply_users"] = users
            rendered["reply_users_count"] = len(users)
            rendered["latest_reply"] = max(r["ts"] for r in replies)
        return rendered

    def top_level(self, channel: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages in the channel itself (not thread replies), oldest first."""
        return sorted(
            (
                m
                for m in channel["messages"].values()
                if not m.get("thread_ts") or m["thread_ts"] == m["ts"]
            ),
            key=lambda m: float(m["ts"]),
        )

    def thread(self, channel: dict[str, Any], root_ts: str) -> list[dict[str, Any]]:
        """The root then its replies, oldest first."""
        root = self.message(channel, root_ts)
        replies = [channel["messages"][ts] for ts in channel["threads"].get(root_ts, [])]
        return [root] + sorted(replies, key=lambda m: float(m["ts"]))

    def permalink(self, channel: dict[str, Any], message: dict[str, Any]) -> str:
        base = f"https://{self.team['domain']}.slack.com/archives/{channel['id']}"
        link = f"{base}/p{message['ts'].replace('.', '')}"
        root = message.get("thread_ts")
        if root and root != message["ts"]:
            link += f"?thread_ts={root}&cid={channel['id']}"
        return link

    # -- files -------------------------------------------------------------------------

    def add_file(
        self, user_id: str, name: str, content: bytes | None, mimetype: str | None = None
    ) -> dict[str, Any]:
        """A file record; ``content`` None means an upload URL was handed out but not used."""
        with self.lock:
            file_id = self.new_id("F")
            guessed = mimetypes.guess_type(name)[0]
            record = {
                "id": file_id,
                "name": name,
                "title": name,
                "mimetype": mimetype or guessed or "application/octet-stream",
                "alt_txt": "",
                "size": len(content or b""),
                "uploaded": content is not None,
                "completed": content is not None,
                "upload_key": secrets.token_urlsafe(12),
                "user": user_id,
                "created": int(time.time()),
                "channels": [],
                "app_access": user_id == self.bot["user_id"],
                "content": content,
            }
            self.files[file_id] = record
            self.changed.notify_all()
            return record

    def bot_can_see(self, record: dict[str, Any]) -> bool:
        """The bot reads a file it uploaded, one handed to the app (a modal's file input),
        or one shared in a conversation it belongs to."""
        if record["app_access"]:
            return True
        bot = self.bot["user_id"]
        return any(bot in self.channels[c]["members"] for c in record["channels"])

    def file_object(self, record: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A file as files.info, events and payloads show it."""
        name = urllib.parse.quote(record["name"])
        url = f"{base_url}/files-pri/{self.team['id']}-{record['id']}"
        extension = record["name"].rsplit(".", 1)[-1].lower() if "." in record["name"] else ""
        return {
            "id": record["id"],
            "created": record["created"],
            "timestamp": record["created"],
            "name": record["name"],
            "title": record["title"],
            "mimetype": record["mimetype"],
            "filetype": extension or "binary",
            "pretty_type": extension.upper() or "Binary",
            "user": record["user"],
            "user_team": self.team["id"],
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "external_type": "",
            "is_public": any(not self.channels[c]["is_private"] for c in record["channels"]),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "size": record["size"],
            "url_private": f"{url}/{name}",
            "url_private_download": f"{url}/download/{name}",
            "permalink": f"https://{self.team['domain']}.slack.com/files/{record['user']}/"
            f"{record['id']}/{name}",
            "channels": [c for c in record["channels"] if not self.channels[c]["is_private"]],
            "groups": [
                c
                for c in record["channels"]
                if self.channels[c]["is_private"] and not self.channels[c]["is_im"]
            ],
            "ims": [c for c in record["channels"] if self.channels[c]["is_im"]],
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def download(self, path: str, bearer: str | None) -> tuple[int, bytes, str]:
        """GET of a ``url_private``: the bot token in ``Authorization: Bearer`` is required."""
        if not bearer:
            return 401, b"not_authed", "text/plain"
        if bearer != self.bot["token"]:
            return 403, b"invalid_auth", "text/plain"
        key = path.split("/", 1)[0]
        prefix = f"{self.team['id']}-"
        with self.lock:
            record = self.files.get(key[len(prefix) :]) if key.startswith(prefix) else None
            if record is None or record["content"] is None or not self.bot_can_see(record):
                return 404, b"file_not_found", "text/plain"
            return 200, record["content"], record["mimetype"]

    # -- triggers ----------------------------------------------------------------------

    def issue_trigger(self, user_id: str, source: str) -> str:
        """A trigger_id as Slack hands out with each interaction."""
        with self.lock:
            trigger_id = f"{int(time.time())}.{next(self._counter)}.{secrets.token_hex(16)}"
            self.triggers[trigger_id] = {
                "user": user_id,
                "source": source,
                "issued_at": time.monotonic(),
                "exchanged": False,
                "views": [],
            }
            return trigger_id

    def exchange_trigger(self, trigger_id: Any) -> dict[str, Any]:
        """Use a trigger once, within its time to live, as views.open/push require."""
        with self.lock:
            trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger["exchanged"]:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() - trigger["issued_at"] > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
            trigger["exchanged"] = True
            return trigger

    # -- views -------------------------------------------------------------------------

    def create_view(
        self,
        definition: dict[str, Any],
        user_id: str,
        previous: str | None = None,
        root: str | None = None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a view the way Slack returns it (id, hash, state, ...)."""
        with self.lock:
            view_id = view_id or self.new_id("V")
            view = copy.deepcopy(definition)
            view.update(
                {
                    "id": view_id,
                    "team_id": self.team["id"],
                    "app_id": self.bot["app_id"],
                    "app_installed_team_id": self.team["id"],
                    "bot_id": self.bot["bot_id"],
                    "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
                    "previous_view_id": previous,
                    "root_view_id": root or view_id,
                    "state": {"values": {}},
                }
            )
            for key, default in (
                ("private_metadata", ""),
                ("callback_id", ""),
                ("external_id", ""),
                ("clear_on_close", False),
                ("notify_on_close", False),
                ("close", None),
                ("submit", None),
                ("blocks", []),
            ):
                view.setdefault(key, default)
            self.views[view_id] = {"view": view, "user": user_id, "open": True}
            self.changed.notify_all()
            return view

    def find_view(self, view_id: Any = None, external_id: Any = None) -> dict[str, Any]:
        for record in self.views.values():
            view = record["view"]
            if (view_id and view["id"] == view_id) or (
                external_id and view.get("external_id") == external_id
            ):
                return record
        raise SlackError("not_found")

    def open_stack(self, user_id: str) -> list[str]:
        return self.stacks.setdefault(user_id, [])

    def close_view(self, view_id: str) -> None:
        with self.lock:
            record = self.views.get(view_id)
            if record:
                record["open"] = False
                stack = self.stacks.get(record["user"], [])
                if view_id in stack:
                    stack.remove(view_id)
            self.changed.notify_all()

    def close_all(self, user_id: str) -> None:
        with self.lock:
            for view_id in list(self.stacks.get(user_id, [])):
                self.close_view(view_id)

    # -- bookkeeping -------------------------------------------------------------------

    def count_call(self, method: str) -> None:
        with self.lock:
            self.calls[method] = self.calls.get(method, 0) + 1

    def count_rate_limited(self, method: str) -> None:
        with self.lock:
            self.rate_limited[method] = self.rate_limited.get(method, 0) + 1

    def record_delivery(self, entry: dict[str, Any]) -> None:
        """Keep the latest deliveries to the app, for state() and debugging."""
        with self.lock:
            self.deliveries.append(entry)
            del self.deliveries[:-200]
            self.changed.notify_all()

    # -- state -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything, as JSON-ready data; its users and channels also load as a seed."""
        with self.lock:
            channels = {}
            for channel in self.channels.values():
                messages = []
                for message in self.top_level(channel):
                    rendered = self.render_message(channel, message)
                    rendered["replies"] = [
                        self.render_message(channel, reply)
                        for reply in self.thread(channel, message["ts"])[1:]
                    ]
                    messages.append(rendered)
                data = {
                    k: copy.deepcopy(v)
                    for k, v in channel.items()
                    if k not in ("messages", "threads")
                }
                data["channel_type"] = self.channel_type(channel)
                data["messages"] = messages
                channels[channel["id"]] = data
            views = {}
            for view_id, record in self.views.items():
                views[view_id] = {
                    **copy.deepcopy(record["view"]),
                    "user": record["user"],
                    "open": record["open"],
                }
            files = {}
            for file_id, record in self.files.items():
                files[file_id] = {k: v for k, v in record.items() if k != "content"}
                content = record.get("content")
                if content is not None:
                    try:
                        files[file_id]["text"] = content.decode("utf-8")
                    except UnicodeDecodeError:
                        files[file_id]["text"] = None
            return {
                "team": dict(self.team),
                "bot": {k: v for k, v in self.bot.items()},
                "users": {
                    uid: dict(u) for uid, u in self.users.items() if uid != self.bot["user_id"]
                },
                "channels": channels,
                "dms": dict(self.dms),
                "views": views,
                "open_views": {u: list(s) for u, s in self.stacks.items() if s},
                "home_tabs": {
                    user: copy.deepcopy(self.views[view_id]["view"])
                    for user, view_id in self.homes.items()
                },
                "files": files,
                "response_url_posts": copy.deepcopy(self.response_posts),
                "calls": dict(self.calls),
                "rate_limited": dict(self.rate_limited),
                "deliveries": copy.deepcopy(self.deliveries),
            }
