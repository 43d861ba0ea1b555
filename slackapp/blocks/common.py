"""Small Block Kit pieces used by every builder, and the limits they respect."""

from __future__ import annotations

from typing import Any

SECTION_LIMIT = 3000
MODAL_TITLE_LIMIT = 24
Block = dict[str, Any]


def text(value: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": value}


def plain(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value, "emoji": True}


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


def escape(value: str) -> str:
    """Neutralise Slack's control characters so reported text cannot ping or link."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def text_sections(value: str) -> list[Block]:
    """Escaped text as as many sections as it needs (escaping can lengthen it)."""
    return [section(piece) for piece in split_text(escape(value or "_(empty)_"))]


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
