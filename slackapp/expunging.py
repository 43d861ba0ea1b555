"""Clearing an expunged case out of Slack: the `case.expunge` outbox row.

Expunging deletes the record; this deletes what Steward itself posted about the
case. Every root the case had (the current one, in the staff channel, a
restricted room or the escalation channel, and any earlier one, such as the
shared thread a restricted room replaced) becomes a tombstone that names the
reference, the code name and the date, and every other message the bot posted
under it (notices, reminders, and with full disclosure the quoted report text)
is deleted with `chat.delete`, which `chat:write` allows for the bot's own
messages.

A bot cannot delete what people wrote: stewards' replies in the thread stay, and
the tombstone says they are theirs to delete. Direct messages to members are
left alone: each is the member's own copy of what they were told.

Every step can be repeated, so a retried row does no harm: `chat.update` sets the
same tombstone again, and a message already gone (`message_not_found`) counts as
deleted. `cant_delete_message` is not retried: the message is recorded in the
audit trail (channel and ts only) as kept, and the row is done.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.infra import audit
from core.infra.logs import about
from core.infra.models import Case
from core.infra.ports import OutboundItem, PermanentDeliveryError
from slackapp.blocks.thread import expunged_blocks, expunged_text
from slackapp.context import SlackContext

log = logging.getLogger(__name__)

GONE = "message_not_found"
NOT_OURS = "cant_delete_message"
# Answers that mean "no such thread here": an earlier root is looked for in more than
# one channel, and a thread whose root someone deleted has nothing left to clear.
NO_THREAD = {"thread_not_found", "channel_not_found", "not_in_channel", GONE}


def expunged_on(record: dict[str, Any]) -> str:
    """The date (UTC) the case was expunged, as the tombstone states it, from the
    outbox row's payload or the case's flags (both keep `expunged_at`)."""
    return str(record.get("expunged_at") or "")[:10]


def clear_case(ctx: SlackContext, item: OutboundItem, bot_user: str) -> str:
    """Tombstone every root of the expunged case and delete the bot's lines under them."""
    with ctx.db.session() as session:
        case = session.get(Case, item.case_id)
        if case is None:
            raise PermanentDeliveryError("case not found")
        ref, code_name = case.ref, case.code_name
    on = expunged_on(item.payload)
    client = ctx.client
    deleted, kept = 0, []
    for channel, root, thread in _threads(ctx, item.payload):
        _tombstone(client, channel, root, ref, code_name, on)
        for message in thread:
            if message["ts"] == root or message.get("user") != bot_user:
                continue
            outcome = _delete(client, channel, message["ts"])
            if outcome == NOT_OURS:
                kept.append({"channel": channel, "ts": message["ts"]})
            else:
                deleted += 1
    if kept:
        with ctx.db.session() as session:
            audit.record(
                session,
                "slack.messages_kept",
                case=session.get(Case, item.case_id),
                reason=NOT_OURS,
                messages=kept,
            )
    log.info(
        "expunged case cleared from Slack: %d message(s) deleted, %d kept",
        deleted,
        len(kept),
        extra=about(case_id=item.case_id, outbox_id=item.id),
    )
    return f"deleted {deleted}, kept {len(kept)}"


def _threads(
    ctx: SlackContext, payload: dict[str, Any]
) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """Each root the case had, where it is, and its thread as Slack has it now.

    An earlier root's channel is not on the record (a root's row keeps only its ts),
    so it is looked for in the channels a case thread can have lived in."""
    settings = ctx.settings
    if payload.get("channel") and payload.get("thread_ts"):
        thread = _replies(ctx.client, payload["channel"], payload["thread_ts"])
        if thread is not None:
            yield payload["channel"], payload["thread_ts"], thread
    places = [payload.get("channel"), settings.staff_channel, payload.get("room")]
    places.append(settings.escalation_channel)
    channels = [c for c in dict.fromkeys(places) if c]
    for root in payload.get("earlier_roots") or []:
        for channel in channels:
            thread = _replies(ctx.client, channel, root)
            if thread is not None:
                yield channel, root, thread
                break


def _replies(client: WebClient, channel: str, ts: str) -> list[dict[str, Any]] | None:
    """The whole thread (root first), or None when there is no such thread there."""
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        try:
            answer = client.conversations_replies(channel=channel, ts=ts, limit=200, cursor=cursor)
        except SlackApiError as exc:
            if exc.response.get("error") in NO_THREAD:
                return None
            raise
        messages += answer.get("messages") or []
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return messages


def tombstone(client: WebClient, channel: str, ts: str, ref: str, code_name: str, on: str) -> None:
    """The root keeps the reference, the code name and the date; nothing of the case."""
    client.chat_update(
        channel=channel,
        ts=ts,
        text=expunged_text(ref, code_name, on),
        blocks=expunged_blocks(ref, code_name, on),
    )


def _tombstone(client: WebClient, channel: str, ts: str, ref: str, code_name: str, on: str) -> None:
    """`tombstone`, where a root already gone or not Steward's to edit is left as it is."""
    try:
        tombstone(client, channel, ts, ref, code_name, on)
    except SlackApiError as exc:
        if exc.response.get("error") not in (GONE, "cant_update_message"):
            raise


def _delete(client: WebClient, channel: str, ts: str) -> str:
    """`chat.delete`; a message already gone is deleted, one we may not delete is kept."""
    try:
        client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in (GONE, NOT_OURS):
            return error
        raise
    return "deleted"
