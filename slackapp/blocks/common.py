"""Small Block Kit pieces used by every builder, and the limits they respect."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

SECTION_LIMIT = 3000
MODAL_TITLE_LIMIT = 24
# Slack refuses a message whose blocks hold more text than this (msg_blocks_too_long),
# or more blocks than this (invalid_blocks), so longer content goes over several messages.
MESSAGE_TEXT_LIMIT = 12000
MESSAGE_BLOCK_LIMIT = 50
# Slack refuses a view over 250 KB; sizes are measured as the JSON that goes on the wire.
VIEW_BYTES_LIMIT = 250_000
Block = dict[str, Any]


def text(value: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": value}


def plain(value: str) -> dict[str, Any]:
    """A plain_text object; Slack reads `&`, `<` and `>` as entities there too, so the
    value is escaped once (see `escape_plain`)."""
    return {"type": "plain_text", "text": escape_plain(value), "emoji": True}


def section(value: str, **extra: Any) -> Block:
    return {"type": "section", "text": text(value), **extra}


def header(value: str) -> Block:
    return {"type": "header", "text": plain(value[:150])}


def context(value: str) -> Block:
    return {"type": "context", "elements": [text(value)]}


def divider() -> Block:
    return {"type": "divider"}


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(label),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


# A user or channel mention kept in the record as Slack wrote it (see slackapp/text.py).
MENTION = re.compile(r"<@[UW][A-Z0-9_]+>|<#[CG][A-Z0-9_]+>")


def _escape_all(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(value: str, mentions: bool = True) -> str:
    """Stored text as mrkdwn, escaped once: Slack's control characters cannot link or
    ping, while a mention (`<@U123>`) still shows the person's name.

    `mentions=False` shows mentions as typed, for messages where a name would notify
    someone (a mention in a view or a modal notifies nobody).
    """
    if not mentions:
        return _escape_all(value)
    out, last = [], 0
    for match in MENTION.finditer(value):
        out += [_escape_all(value[last : match.start()]), match.group(0)]
        last = match.end()
    out.append(_escape_all(value[last:]))
    return "".join(out)


def escape_plain(value: str) -> str:
    """Stored text for a plain_text object, escaped once (mentions cannot render there)."""
    return _escape_all(value)


def clip(value: str, limit: int, mentions: bool = True) -> str:
    """Escaped text that fits in `limit` characters, cut before escaping so that no
    entity or mention is broken in half."""
    escaped = escape(value, mentions)
    while len(escaped) > limit:
        value = value[: max(0, len(value) - (len(escaped) - limit) - 1)]
        escaped = escape(value, mentions) + "…"
    return escaped


def split_text(value: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split long text into section-sized pieces at line or word boundaries.

    Nothing is dropped: a report longer than one block continues in the next.
    """
    pieces: list[str] = []
    rest = value
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = _unbroken(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _unbroken(value: str, cut: int) -> int:
    """Move a hard cut back to the start of an entity (`&amp;`) or mention it would split."""
    for opener, closer, reach in (("&", ";", 6), ("<", ">", 40)):
        start = value.rfind(opener, max(0, cut - reach), cut)
        if start > 0 and closer not in value[start:cut]:
            return start
    return cut


def sections(mrkdwn: str) -> list[Block]:
    """Ready mrkdwn as as many sections as Slack's 3,000-character limit needs."""
    return [section(piece) for piece in split_text(mrkdwn)]


def text_sections(value: str, mentions: bool = True) -> list[Block]:
    """Stored text as as many sections as it needs (escaping can lengthen it)."""
    if not value:
        return [section("_(empty)_")]
    return sections(escape(value, mentions))


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> Block:
    view: Block = {
        "type": "modal",
        "title": plain(title[:MODAL_TITLE_LIMIT]),
        "close": plain(close[:MODAL_TITLE_LIMIT]),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if callback_id:
        view["callback_id"] = callback_id
    if submit:
        view["submit"] = plain(submit[:MODAL_TITLE_LIMIT])
    return view


def text_length(value: Any) -> int:
    """Characters of text in every text object under ``value``, as Slack adds them up."""
    if isinstance(value, list):
        return sum(text_length(item) for item in value)
    if not isinstance(value, dict):
        return 0
    own = value.get("text") if value.get("type") in ("plain_text", "mrkdwn") else None
    if isinstance(own, str):
        return len(own)
    return sum(text_length(item) for item in value.values())


def json_size(value: Any) -> int:
    """Bytes of ``value`` as ASCII-escaped JSON: never less than what a client sends."""
    return len(json.dumps(value).encode())


def group_blocks(
    blocks: list[Block], size: Callable[[Block], int], budget: int, max_blocks: int
) -> list[list[Block]]:
    """Blocks in order, cut into groups of at most ``max_blocks`` and ``budget`` in ``size``."""
    groups: list[list[Block]] = [[]]
    used = 0
    for block in blocks:
        cost = size(block)
        if groups[-1] and (used + cost > budget or len(groups[-1]) >= max_blocks):
            groups.append([])
            used = 0
        groups[-1].append(block)
        used += cost
    return groups


def message_parts(blocks: list[Block]) -> list[list[Block]]:
    """Blocks grouped, in order, into as many messages as Slack's per-message limits need."""
    return group_blocks(blocks, text_length, MESSAGE_TEXT_LIMIT, MESSAGE_BLOCK_LIMIT)


def versioned(blocks: list[Block], version: str) -> list[Block]:
    """The blocks with a block_id unique to this version of an updated message.

    Slack asks for a new block_id on each version of a message, or clients may
    keep showing the old block.
    """
    return [
        {**block, "block_id": f"{block.get('block_id') or block['type']}-{i}.{version}"[:255]}
        for i, block in enumerate(blocks)
    ]


def picked_date(value: object) -> datetime | None:
    """A datepicker's `YYYY-MM-DD` as a UTC datetime; anything else (Slack sends nothing
    else, but a tampered or stale form can) reads as no date, which the core refuses
    wherever a date is required."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
