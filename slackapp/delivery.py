"""Delivers the outbox's `staff` and `chat` rows to Slack.

Rows are rendered from the record at delivery time, so a root message always
shows the case as it is now. Slack's answers map onto retry decisions: 429 and
5xx wait and retry (honouring `Retry-After`), configuration problems wait longer
so an operator can fix them without losing anything, and malformed requests stop.

Slack has no idempotency key, so every message Steward posts carries its outbox
row's id (and part number) in Slack's message `metadata`. A row whose earlier
attempt has no known outcome is first looked for in the thread or channel
history; what is found there is recorded instead of being posted again.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.casework.cases import flag
from core.casework.confidentiality import (
    ROOM,
    audience,
    is_restricted,
    room_name,
    room_of,
)
from core.infra import audit
from core.infra.db import Database
from core.infra.models import Case, Entry
from core.infra.ports import OutboundItem, PermanentDeliveryError, TransientDeliveryError
from core.records.retention import is_expunged
from slackapp.blocks.common import Block, message_parts, versioned
from slackapp.blocks.direct import direct_message
from slackapp.blocks.home import home_view
from slackapp.blocks.thread import (
    keep_longer_target,
    moved_blocks,
    moved_text,
    notice_blocks,
    notice_text,
    root_blocks,
    root_text,
    snooze_target,
)
from slackapp.context import SlackContext
from slackapp.expunging import clear_case, expunged_on, tombstone
from slackapp.pacing import ChannelPacer
from slackapp.readmodels import open_cases, own_cases, root_facts, steward_desk

log = logging.getLogger(__name__)

METADATA_EVENT = "steward_outbox"
HISTORY_PAGES = 10  # how far back (pages of 200) an uncertain row's messages are looked for
CONFIG_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "invalid_auth"}
PERMANENT_ERRORS = {"invalid_blocks", "invalid_arguments", "msg_too_long", "user_not_found"}


class PublicChannelRefused(TransientDeliveryError):
    """The configured staff channel is public; case threads are never posted there."""


class SlackDeliverer:
    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx
        self._private: dict[str, bool] = {}
        self._bot: str | None = None
        self._lock = threading.Lock()
        self.pacer = ChannelPacer()

    @property
    def db(self) -> Database:
        return self.ctx.db

    def deliver(self, item: OutboundItem) -> str:
        handler = {
            "case.root": self._root,
            "case.notice": self._notice,
            "case.expunge": self._expunge,
            "room.create": self._room_create,
            "room.members": self._room_members,
            "dm": self._dm,
            "home": self._home,
            "ephemeral": self._ephemeral,
        }.get(item.kind)
        if handler is None:
            raise PermanentDeliveryError(f"unknown chat item kind {item.kind}")
        try:
            return handler(item)
        except SlackApiError as exc:
            raise translate(exc) from None
        except OSError as exc:  # a timeout or a refused connection: Slack may have posted
            raise TransientDeliveryError(f"slack did not answer ({type(exc).__name__})") from None

    def channel_for(self, case: Case) -> str:
        """Where a case's thread goes: the staff channel; the case's restricted room once a
        conflict is on the record; the escalation channel when every steward has one."""
        settings = self.ctx.settings
        channel = settings.escalation_channel if case.escalated else settings.staff_channel
        channel = channel or settings.staff_channel
        if not case.escalated and is_restricted(case):
            channel = room_of(case)
            if channel is None:
                raise TransientDeliveryError(
                    "the restricted room is not created yet", 2, refused=True
                )
        if not channel:
            raise TransientDeliveryError(
                "no staff channel is configured", retry_after=300, refused=True
            )
        return channel

    def require_private(self, channel: str) -> None:
        with self._lock:
            known = self._private.get(channel)
        if known is None:
            known = channel_is_private(self.ctx.client, channel)
            with self._lock:
                self._private[channel] = known
        if not known:
            log.error("staff channel %s is public: Steward refuses to post cases there", channel)
            raise PublicChannelRefused("the staff channel is public", retry_after=300, refused=True)

    def _root(self, item: OutboundItem) -> str:
        """Post or update the thread root; if the case must now live elsewhere (a restricted
        room, the escalation channel), leave one line where it was and post it there."""
        with self.db.session() as session:
            case = session.get(Case, item.case_id)
            if case is None:
                raise PermanentDeliveryError("case not found")
            channel, ts = case.slack_channel, case.slack_thread_ts
            if is_expunged(case):
                expunged = (case.ref, case.code_name, expunged_on(case.flags or {}))
            else:
                expunged = None
                facts = root_facts(session, case, self.ctx.settings)
                target = self.channel_for(case)
        if expunged is not None:
            return self._expunged_root(channel, ts, *expunged)
        blocks, fallback = versioned(root_blocks(facts), secrets.token_hex(4)), root_text(facts)
        client = self.ctx.client
        if ts and channel == target:
            client.chat_update(channel=channel, ts=ts, text=fallback, blocks=blocks)
            return ts
        if ts and channel:
            # The shared thread keeps one line, with no name and no reason, and no buttons.
            client.chat_update(
                channel=channel, ts=ts, text=moved_text(facts.ref), blocks=moved_blocks(facts.ref)
            )
        self.require_private(target)  # asked of Slack outside the database session
        found = posted_parts(client, target, item.id) if item.uncertain else {}
        if found:
            channel, posted = target, found[min(found)]
        else:
            answer = self._post(
                channel=target, text=fallback, blocks=blocks, metadata=outbox_metadata(item.id)
            )
            channel, posted = answer["channel"], answer["ts"]
        with self.db.session() as session:
            case = session.get(Case, item.case_id)
            if case is not None:
                case.slack_channel, case.slack_thread_ts = channel, posted
        return posted

    def _expunged_root(
        self, channel: str | None, ts: str | None, ref: str, code_name: str, on: str
    ) -> str:
        """An expunged case's root stays where it is, as a tombstone; one never posted
        is not posted now."""
        if not (channel and ts):
            return "expunged"
        tombstone(self.ctx.client, channel, ts, ref, code_name, on)
        return ts

    def _expunge(self, item: OutboundItem) -> str:
        """Clear an expunged case out of Slack (`slackapp/expunging.py`)."""
        return clear_case(self.ctx, item, self._bot_user())

    def _room_create(self, item: OutboundItem) -> str:
        """Create the case's private room once; a retry finds the room it made before.

        When no steward may see the case, no room is made: the case is escalated.
        """
        stewards = self.ctx.stewards.all()  # asked before the database session is opened
        with self.db.session() as session:
            case = self._case(session, item)
            if room_of(case):
                return str(room_of(case))
            if case.escalated or self._escalate_if_nobody_left(session, case, stewards):
                return "escalated"
            name = room_name(case.id)
        try:
            channel = self.ctx.client.conversations_create(name=name, is_private=True)["channel"]
            room = channel["id"]
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
            room = self._find_private_channel(name)
        with self.db.session() as session:
            flag(session, self._case(session, item), ROOM, room)
        log.info("restricted room created for case %s", item.case_id)
        return room

    def _room_members(self, item: OutboundItem) -> str:
        """Make the room's members exactly the stewards who may see the case; when nobody
        may, everyone leaves it and the case is escalated."""
        stewards = self.ctx.stewards.all()
        with self.db.session() as session:
            case = self._case(session, item)
            room = room_of(case)
            wanted = audience(case, stewards)
            if not wanted and not case.escalated:
                self._escalate_if_nobody_left(session, case, stewards)
        if room is None:
            if not wanted:
                return "escalated"
            raise TransientDeliveryError("the restricted room is not created yet", 2, refused=True)
        client = self.ctx.client
        present = set(self._members(room)) - {self._bot_user()}
        missing = sorted(wanted - present)
        if missing:
            client.conversations_invite(channel=room, users=",".join(missing))
        for user in sorted(present - wanted):
            client.conversations_kick(channel=room, user=user)
        return room

    def _case(self, session: Any, item: OutboundItem) -> Case:
        case = session.get(Case, item.case_id)
        if case is None:
            raise PermanentDeliveryError("case not found")
        return case

    def _escalate_if_nobody_left(self, session: Any, case: Case, stewards: frozenset[str]) -> bool:
        """Every steward has a conflict: the case goes to the escalation channel."""
        if audience(case, stewards):
            return False
        case.escalated = True
        audit.record(session, "case.escalated", case=case, reason="every steward has a conflict")
        return True

    def _members(self, channel: str) -> list[str]:
        members: list[str] = []
        cursor = None
        while True:
            answer = self.ctx.client.conversations_members(channel=channel, cursor=cursor)
            members += answer.get("members", [])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    def _find_private_channel(self, name: str) -> str:
        """The private channel the bot is in with this name (a room created by a lost try)."""
        cursor = None
        while True:
            answer = self.ctx.client.conversations_list(
                types="private_channel", exclude_archived=True, cursor=cursor, limit=200
            )
            for channel in answer.get("channels", []):
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise TransientDeliveryError("the room's name is taken by a channel we cannot see")

    def _bot_user(self) -> str:
        with self._lock:
            if self._bot is None:
                self._bot = str(self.ctx.client.auth_test().get("user_id", ""))
            return self._bot

    def _notice(self, item: OutboundItem) -> str:
        payload = item.payload
        stewards = self.ctx.stewards.all() if payload.get("mention_stewards") else frozenset()
        with self.db.session() as session:
            case = session.get(Case, item.case_id)
            if case is None:
                raise PermanentDeliveryError("case not found")
            if not case.slack_thread_ts or not case.slack_channel:
                raise TransientDeliveryError(
                    "the case thread is not posted yet", retry_after=2, refused=True
                )
            channel, thread_ts = case.slack_channel, case.slack_thread_ts
            entry = session.get(Entry, payload["entry_id"]) if payload.get("entry_id") else None
            disclosed = (
                entry.text if (entry is not None and self.ctx.settings.full_disclosure) else None
            )
            mentions = self._mentions(case, stewards) if payload.get("mention_stewards") else ""
        line = notice_text(payload.get("notice", ""), payload, None, mentions)
        blocks = notice_blocks(
            line, disclosed, snooze_target(payload), keep_longer_target(payload, item.case_id)
        )
        return self._post_parts(item, channel, line, blocks, thread_ts=thread_ts)

    def _mentions(self, case: Case, stewards: frozenset[str]) -> str:
        """Who a line calling on every steward mentions: in the shared channel, everyone
        there; for a case with a conflict, by name, only those who may see the case."""
        if case.escalated or not is_restricted(case):
            return "<!channel>"
        return " ".join(f"<@{u}>" for u in sorted(audience(case, stewards)))

    def _dm(self, item: OutboundItem) -> str:
        user = item.payload.get("user")
        if not user:
            raise PermanentDeliveryError("no Slack user to write to")
        fallback, blocks = direct_message(item.payload)
        client = self.ctx.client
        channel = client.conversations_open(users=user)["channel"]["id"]
        return self._post_parts(item, channel, fallback, blocks)

    def _post_parts(
        self,
        item: OutboundItem,
        channel: str,
        fallback: str,
        blocks: list[Block],
        thread_ts: str | None = None,
    ) -> str:
        """Post blocks as one message, or in order as several when Slack's limits need it.

        Returns the first message's ts. Each part carries the row's id and its number,
        so a retry after a crash or a failed later part posts only the missing parts.
        """
        parts = message_parts(blocks)
        client = self.ctx.client
        done = posted_parts(client, channel, item.id, thread_ts) if item.uncertain else {}
        for number, part in enumerate(parts, start=1):
            if number in done:
                continue
            text = fallback if number == 1 else f"{fallback} (part {number} of {len(parts)})"
            try:
                answer = self._post(
                    channel=channel,
                    text=text,
                    blocks=part,
                    thread_ts=thread_ts,
                    metadata=outbox_metadata(item.id, number, len(parts)),
                )
            except SlackApiError as exc:  # after earlier parts went out, the retry must look
                raise translate(exc, nothing_sent=not done) from None
            done[number] = answer["ts"]
        return done[1]

    def _post(self, channel: str, **message: Any) -> Any:
        """chat.postMessage in the channel's turn; a 429 is waited out here, once, so that
        the rows behind this one keep their order (`slackapp/pacing.py`)."""
        self.pacer.wait(channel)
        try:
            answer = self.ctx.client.chat_postMessage(channel=channel, **message)
        except SlackApiError as exc:
            limited = getattr(exc.response, "status_code", 200) == 429
            if not limited or not self.pacer.refused(channel, _retry_after(exc.response.headers)):
                raise
            self.pacer.wait(channel)
            answer = self.ctx.client.chat_postMessage(channel=channel, **message)
        self.pacer.posted(channel)
        return answer

    def _home(self, item: OutboundItem) -> str:
        user = item.payload["user"]
        steward = self.ctx.stewards.is_steward(user)
        stewards = self.ctx.stewards.all()
        with self.db.session() as session:
            own = own_cases(session, user)
            cases = open_cases(session, user, stewards, self.ctx.settings) if steward else None
            desk = steward_desk(session, user, stewards, self.ctx.settings) if steward else None
        self.ctx.client.views_publish(user_id=user, view=home_view(own, cases, desk))
        return "home"  # the row names its recipient, sealed; a plain ref must not

    def _ephemeral(self, item: OutboundItem) -> str:
        """A private answer in the channel; someone outside it gets a direct message instead."""
        payload = item.payload
        client = self.ctx.client
        try:
            answer = client.chat_postEphemeral(
                channel=payload["channel"], user=payload["user"], text=payload["text"]
            )
            return str(answer.get("message_ts") or "ephemeral")
        except SlackApiError as exc:
            if exc.response.get("error") not in ("user_not_in_channel", "channel_not_found"):
                raise
        channel = client.conversations_open(users=payload["user"])["channel"]["id"]
        return client.chat_postMessage(channel=channel, text=payload["text"])["ts"]


def outbox_metadata(outbox_id: int, part: int = 1, parts: int = 1) -> dict[str, Any]:
    """Slack message metadata naming the outbox row (and part) a message delivers."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"outbox_id": outbox_id, "part": part, "parts": parts},
    }


def posted_parts(
    client: WebClient, channel: str, outbox_id: int, thread_ts: str | None = None
) -> dict[int, str]:
    """The parts of an outbox row already in Slack (part number to ts), by their metadata.

    A thread's replies are read for a notice, the channel's history (newest first)
    for a thread root or a direct message; `include_all_metadata` makes Slack return
    the metadata. Needs `groups:history` and `im:history`, which Steward holds.
    """
    found: dict[int, str] = {}
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        arguments: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": 200,
            "cursor": cursor,
        }
        if thread_ts:
            answer = client.conversations_replies(ts=thread_ts, **arguments)
        else:
            answer = client.conversations_history(**arguments)
        for message in answer.get("messages") or []:
            number = _part_of(message, outbox_id)
            if number is not None:
                found.setdefault(number, message["ts"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    if found:
        log.info("outbox item %s was already in Slack (%d part(s))", outbox_id, len(found))
    return found


def _part_of(message: dict[str, Any], outbox_id: int) -> int | None:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != METADATA_EVENT or payload.get("outbox_id") != outbox_id:
        return None
    return int(payload.get("part", 1))


def channel_is_private(client: WebClient, channel: str) -> bool:
    """Whether Slack says the channel is private, with only the scopes the manifest grants.

    Steward holds ``groups:read`` and not ``channels:read``: Slack answers
    ``conversations.info`` for a private channel, and ``missing_scope`` naming a
    public-channel (or DM) scope for anything else, which is therefore not private.
    """
    try:
        info = client.conversations_info(channel=channel)
    except SlackApiError as exc:
        if exc.response.get("error") == "missing_scope" and exc.response.get("needed") in (
            "channels:read",
            "im:read",
            "mpim:read",
        ):
            return False
        raise
    return bool(info["channel"].get("is_private"))


def translate(exc: SlackApiError, nothing_sent: bool = True) -> Exception:
    """Slack's answer as a retry decision; the reason carries no message content.

    A 429 or an error answer means Slack did nothing with this call: the retry need not
    look for it, unless earlier parts of the same row went out (`nothing_sent` False).
    A 5xx may come after Slack did the work, so its retry always looks.
    """
    response = exc.response
    status = getattr(response, "status_code", 200)
    error = (response.data or {}).get("error", "unknown") if hasattr(response, "data") else "?"
    if status == 429:
        retry_after = _retry_after(response.headers)
        return TransientDeliveryError(
            "slack rate limited", retry_after=retry_after, refused=nothing_sent
        )
    if status >= 500:
        return TransientDeliveryError(f"slack unavailable ({status})")
    if error in CONFIG_ERRORS:
        log.error("Slack refused a delivery (%s): check the app's channels and token", error)
        return TransientDeliveryError(
            f"slack configuration: {error}", retry_after=300, refused=nothing_sent
        )
    if error in PERMANENT_ERRORS:
        return PermanentDeliveryError(f"slack refused: {error}")
    return TransientDeliveryError(f"slack error: {error}", refused=nothing_sent)


def _retry_after(headers: Any) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return 1.0
    return 1.0
