"""Slack's text formats as HTML: ``mrkdwn``, ``plain_text`` and emoji shortcodes.

Everything shown by the viewer is text that an app or a user wrote, so every
character goes through ``html.escape`` before any markup is added. Slack's own
escapes (``&amp;``, ``&lt;``, ``&gt;``) are undone first, so an app that
escapes text properly shows it as Slack does, and a ``<`` in it still cannot
open a tag here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

EMOJI = {
    "alarm_clock": "⏰",
    "arrows_counterclockwise": "🔄",
    "ballot_box_with_check": "☑️",
    "bell": "🔔",
    "calendar": "📆",
    "clipboard": "📋",
    "eyes": "👀",
    "heart": "❤️",
    "hourglass_flowing_sand": "⏳",
    "incoming_envelope": "📨",
    "information_source": "ℹ️",
    "lock": "🔒",
    "mag": "🔍",
    "memo": "📝",
    "new": "🆕",
    "no_entry": "⛔",
    "ok_hand": "👌",
    "outbox_tray": "📤",
    "pray": "🙏",
    "raised_hand": "✋",
    "robot_face": "🤖",
    "rotating_light": "🚨",
    "scales": "⚖️",
    "shield": "🛡️",
    "slightly_smiling_face": "🙂",
    "smile": "😄",
    "sos": "🆘",
    "tada": "🎉",
    "thumbsup": "👍",
    "+1": "👍",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
    "zap": "⚡",
    "zzz": "💤",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")

_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
_SLACK_TOKEN = re.compile(r"<([^<>\n]+)>")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_BULLET = re.compile(r"^\s*(?:•|◦|-|\*)\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _style(marker: str) -> re.Pattern[str]:
    """Slack's emphasis: a marker pair around non-blank text, not inside a word."""
    m = re.escape(marker)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")


_STYLES = ((_style("*"), "b"), (_style("_"), "i"), (_style("~"), "s"))


@dataclass
class Names:
    """Who and what ``<@U..>`` and ``<#C..>`` name, for showing them as Slack does."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    bot: dict[str, Any] = field(default_factory=dict)

    def user(self, user_id: str) -> str:
        if user_id == self.bot.get("user_id"):
            return self.bot.get("real_name") or self.bot.get("name") or user_id
        user = self.users.get(user_id)
        if not user:
            return user_id
        return user.get("display_name") or user.get("real_name") or user.get("name") or user_id

    def bot_name(self, bot_id: str | None, fallback: str | None = None) -> str:
        if bot_id and bot_id == self.bot.get("bot_id"):
            return self.bot.get("real_name") or self.bot.get("name") or bot_id
        for user in self.users.values():
            if bot_id and user.get("bot_id") == bot_id:
                return user.get("real_name") or user.get("name") or bot_id
        return fallback or bot_id or "a bot"

    def channel(self, channel_id: str) -> str:
        channel = self.channels.get(channel_id)
        return channel.get("name", channel_id) if channel else channel_id


def esc(value: Any) -> str:
    """Text or an attribute value, safe anywhere in the page."""
    return html.escape("" if value is None else str(value), quote=True)


def emoji(escaped: str) -> str:
    """``:name:`` shortcodes as characters; unknown names stay as they were typed."""
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)


def plain_text(obj: Any) -> str:
    """A ``plain_text`` (or ``mrkdwn``) text object's words, escaped, without markup."""
    if isinstance(obj, str):
        return emoji(esc(obj))
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return esc(_unescape_slack(obj.get("text") or ""))
    text = esc(obj.get("text") or "")
    return emoji(text) if obj.get("emoji", True) else text


def text_object(obj: Any, names: Names) -> str:
    """A text object as Slack shows it: mrkdwn formatted, plain text as is."""
    if isinstance(obj, dict) and obj.get("type") == "mrkdwn" and not obj.get("verbatim"):
        return mrkdwn(obj.get("text") or "", names)
    return plain_text(obj)


def _unescape_slack(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _Stash:
    """Finished HTML fragments held aside while the rest of a line is formatted."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, fragment: str) -> str:
        self.parts.append(fragment)
        return f"\x00{len(self.parts) - 1}\x00"

    def restore(self, text: str) -> str:
        while _PLACEHOLDER.search(text):
            text = _PLACEHOLDER.sub(lambda m: self.parts[int(m.group(1))], text)
        return text


def mrkdwn(text: str, names: Names) -> str:
    """Slack mrkdwn as HTML: emphasis, code, links, mentions, quotes and lists."""
    stash = _Stash()
    text = text.replace("\x00", "")
    text = _CODE_BLOCK.sub(
        lambda m: stash.put(f"<pre>{esc(_unescape_slack(m.group(1).strip(chr(10))))}</pre>"),
        text,
    )
    groups: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        kind, content = _line_kind(line)
        if groups and groups[-1][0] == kind and kind != "line":
            groups[-1][1].append(content)
        else:
            groups.append((kind, [content]))
    out: list[str] = []
    for kind, lines in groups:
        rendered = [_inline(line, names, stash) for line in lines]
        if kind == "quote":
            out.append("<blockquote>" + "<br>".join(rendered) + "</blockquote>")
        elif kind in ("ul", "ol"):
            items = "".join(f"<li>{item}</li>" for item in rendered)
            out.append(f"<{kind}>{items}</{kind}>")
        else:
            out.append(rendered[0] + "<br>")
    joined = "".join(out)
    joined = joined[:-4] if joined.endswith("<br>") else joined
    return stash.restore(joined)


def _line_kind(line: str) -> tuple[str, str]:
    if line.startswith(">"):
        return "quote", line[1:].lstrip(" ")
    bullet = _BULLET.match(line)
    if bullet:
        return "ul", bullet.group(1)
    numbered = _NUMBERED.match(line)
    if numbered:
        return "ol", numbered.group(1)
    return "line", line


def _inline(line: str, names: Names, stash: _Stash) -> str:
    line = _INLINE_CODE.sub(
        lambda m: stash.put(f"<code>{esc(_unescape_slack(m.group(1)))}</code>"), line
    )
    line = _SLACK_TOKEN.sub(lambda m: stash.put(_token(m.group(1), names)), line)
    line = esc(_unescape_slack(line))
    for pattern, tag in _STYLES:
        line = pattern.sub(lambda m, tag=tag: f"<{tag}>{m.group(1)}</{tag}>", line)
    return emoji(line)


def _token(body: str, names: Names) -> str:
    """One ``<...>`` token: a mention, a special mention, or a link."""
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{esc(label or names.user(target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{esc(label or names.channel(target[1:]))}</span>'
    if target.startswith("!"):
        return _special(target[1:], label)
    return _link(target, label)


def _special(target: str, label: str) -> str:
    word = target.split("^", 1)[0]
    if word in ("channel", "here", "everyone"):
        return f'<span class="mention">@{esc(word)}</span>'
    shown = label or target
    return f'<span class="mention">{esc(_unescape_slack(shown))}</span>'


def _link(url: str, label: str) -> str:
    url = _unescape_slack(url)
    shown = esc(_unescape_slack(label or url))
    if not url.lower().startswith(SAFE_SCHEMES):
        return shown
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'
