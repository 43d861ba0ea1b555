"""Text between Slack and the record: what a person typed, in and out exactly once.

Slack sends message text (events, message shortcuts) in its wire format: `&`, `<`
and `>` arrive as `&amp;`, `&lt;` and `&gt;`, and `<...>` marks mentions and
links. Values typed into a modal's `plain_text_input` arrive as typed. The
record keeps what the person typed, so that *View report*, the export and an
email all show "Fish & chips <3", and each surface escapes it once on the way
out (see `slackapp/blocks/common.py`).

Two of Slack's sequences stay in the record as they are, because they name
someone rather than say something: a user mention `<@U123>` and a channel
`<#C123>`. Every other sequence becomes the words Slack displayed for it.
"""

from __future__ import annotations

import re

ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("|".join(ENTITIES))
_SEQUENCE = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def unescape(value: str) -> str:
    """Slack's three entities back to characters, once: `&amp;lt;` stays `&lt;`."""
    return _ENTITY.sub(lambda m: ENTITIES[m.group(0)], value)


def from_slack(value: str | None) -> str:
    """Message text as Slack delivers it, turned into what the person typed."""
    if not value:
        return ""
    out: list[str] = []
    last = 0
    for match in _SEQUENCE.finditer(value):
        out.append(unescape(value[last : match.start()]))
        out.append(_sequence(match.group(1)))
        last = match.end()
    out.append(unescape(value[last:]))
    return "".join(out)


def _sequence(inner: str) -> str:
    """One `<...>` sequence: a mention kept as a mention, anything else as displayed."""
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target[:1] in "@#" and len(target) > 1:
        return f"<{target}>"
    if target.startswith("!"):
        command = target[1:]
        if command in _SPECIAL:
            return _SPECIAL[command]
        if command.startswith("subteam^"):
            return label or "@" + command.split("^", 1)[1]
        return label or command
    url = unescape(target)
    if not label:
        return url
    if url.startswith("mailto:") or label in (url, url.split("://", 1)[-1]):
        return label
    return f"{label} ({url})"
