"""The workspace as one person sees it: sidebar, channel or App Home, thread, modal.

The page is rendered on the server from a snapshot of the workspace state, in
named parts. The page script polls for the same parts and swaps in only the
ones whose digest changed, so a modal being typed into is left alone while the
channel behind it fills up.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .blocks import Surface, objects, render_blocks
from .mailbox import Mailbox
from .mrkdwn import Names, esc, mrkdwn, plain_text

HOME, DM, MAIL = "home", "dm", "mail"
AVATAR_COLOURS = 8


@dataclass(frozen=True)
class Place:
    """Who is looking, and at what: a channel ID, ``home``, ``dm`` or ``mail``."""

    user: str
    pane: str
    thread: str | None = None

    def href(self, user: str | None = None, pane: str | None = None, thread: str = "") -> str:
        query = {"as": user or self.user, "pane": pane or self.pane}
        if thread:
            query["thread"] = thread
        return "?" + urllib.parse.urlencode(query)


def digest(fragment: str) -> str:
    return hashlib.sha1(fragment.encode()).hexdigest()[:16]


class WorkspacePage:
    """Renders one place from one state snapshot (``Workspace.state()``)."""

    def __init__(self, state: dict[str, Any], place: Place, mailbox: Mailbox) -> None:
        self.state = state
        self.place = place
        self.mailbox = mailbox
        self.names = Names(state["users"], state["channels"], state["bot"])
        self.shortcuts = objects(state["bot"].get("shortcuts"))
        self.dm_id = state["dms"].get(place.user)

    # -- what the user can see ---------------------------------------------------------

    def visible_channels(self) -> list[dict[str, Any]]:
        """Public channels and the private ones the user is in, as Slack's sidebar lists them."""
        channels = [
            c
            for c in self.state["channels"].values()
            if not c["is_im"]
            and not c["is_mpim"]
            and (not c["is_private"] or self.place.user in c["members"])
        ]
        return sorted(channels, key=lambda c: (c["is_private"], c["name"]))

    def pane_channel(self) -> dict[str, Any] | None:
        pane = self.place.pane
        if pane == DM:
            return self.state["channels"].get(self.dm_id) if self.dm_id else None
        if pane in (HOME, MAIL):
            return None
        return next((c for c in self.visible_channels() if c["id"] == pane), None)

    # -- parts -------------------------------------------------------------------------

    def parts(self) -> dict[str, str]:
        return {
            "sidebar": self.sidebar(),
            "pane-head": self.pane_head(),
            "pane-body": self.pane_body(),
            "thread-body": self.thread_body(),
            "modal": self.modal(),
        }

    def sidebar(self) -> str:
        links = []
        for channel in self.visible_channels():
            icon = "🔒" if channel["is_private"] else "#"
            links.append(self._nav(channel["id"], f'<span class="icon">{icon}</span>', channel))
        dm = self._nav(DM, '<span class="icon presence"></span>', label=self._bot_label())
        home = self._nav(HOME, '<span class="icon">⌂</span>', label=self._bot_label())
        count = self.mailbox.count()
        badge = f' <span class="count">{count}</span>' if count else ""
        mail = self._nav(MAIL, '<span class="icon">✉</span>', label=f"Outbound mail{badge}")
        return (
            '<div class="side-section"><h4>Channels</h4>' + "".join(links) + "</div>"
            f'<div class="side-section"><h4>Direct messages</h4>{dm}</div>'
            f'<div class="side-section"><h4>Apps</h4>{home}</div>'
            f'<div class="side-section"><h4>Outside Slack</h4>{mail}</div>'
        )

    def _bot_label(self) -> str:
        name = esc(self.names.user(self.state["bot"]["user_id"]))
        return f'{name} <span class="app-badge">APP</span>'

    def _nav(
        self, pane: str, icon: str, channel: dict[str, Any] | None = None, label: str = ""
    ) -> str:
        active = " active" if pane == self.place.pane else ""
        text = esc(channel["name"]) if channel else label
        return (
            f'<a class="side-link{active}" data-pane="{esc(pane)}" '
            f'href="{esc(self.place.href(pane=pane))}">{icon}<span>{text}</span></a>'
        )

    def pane_head(self) -> str:
        pane = self.place.pane
        if pane in (HOME, DM):
            tabs = "".join(
                f'<a class="tab{" active" if p == pane else ""}" '
                f'href="{esc(self.place.href(pane=p))}">{label}</a>'
                for p, label in ((HOME, "Home"), (DM, "Messages"))
            )
            return f'<h2>{self._bot_label()}</h2><nav class="tabs">{tabs}</nav>'
        if pane == MAIL:
            where = esc(self.mailbox.folder or "no folder: mail goes to a relay")
            return f'<h2>✉ Outbound mail</h2><div class="topic">{where}</div>'
        channel = self.pane_channel()
        if channel is None:
            return "<h2>Nothing here</h2>"
        icon = "🔒" if channel["is_private"] else "#"
        about = channel.get("topic") or channel.get("purpose") or ""
        members = len(channel["members"])
        return (
            f"<h2>{icon} {esc(channel['name'])}</h2>"
            f'<div class="topic">{esc(about)} · {members} members</div>'
        )

    def pane_body(self) -> str:
        pane = self.place.pane
        if pane == HOME:
            return self.home()
        if pane == MAIL:
            return self.mail()
        channel = self.pane_channel()
        if channel is None:
            if pane == DM:
                return '<div class="empty">No messages with the app yet. Say hello below.</div>'
            return '<div class="empty">This channel is not visible to this person.</div>'
        messages = [self.message(channel, m) for m in channel["messages"]]
        # Only apps post ephemeral messages; ``user`` names who may see one, not its author.
        app = {"bot_id": self.state["bot"]["bot_id"]}
        messages += [
            self.message(channel, {**m, **app}, ephemeral=True)
            for m in channel.get("ephemeral") or []
            if m.get("user") == self.place.user
        ]
        if not messages:
            name = "this conversation" if channel["is_im"] else f"#{esc(channel['name'])}"
            return f'<div class="empty">This is the very beginning of {name}.</div>'
        return "".join(messages)

    def home(self) -> str:
        view = self.state["home_tabs"].get(self.place.user)
        if not view:
            return '<div class="empty">Opening the app\'s Home tab…</div>'
        surface = Surface(self.names, (view.get("state") or {}).get("values") or {})
        return (
            f'<div class="home" data-container="view" data-view="{esc(view["id"])}">'
            f"{render_blocks(view.get('blocks'), surface)}</div>"
        )

    def mail(self) -> str:
        letters = self.mailbox.letters()
        if not letters:
            return '<div class="empty">No mail has been sent yet.</div>'
        cards = []
        for number, letter in enumerate(letters):
            cards.append(
                f'<details class="letter"{" open" if number == 0 else ""}><summary>'
                f'<span class="subject">{esc(letter.subject or "(no subject)")}</span>'
                f'<span class="meta">to {esc(letter.to)} · {letter.sent:%H:%M:%S}</span>'
                "</summary>"
                f'<div class="headers">From: {esc(letter.sender)}<br>To: {esc(letter.to)}'
                f"<br>File: {esc(letter.name)}</div>"
                f'<pre class="mail-body">{esc(letter.body)}</pre></details>'
            )
        return "".join(cards)

    def thread_body(self) -> str:
        channel = self.pane_channel()
        if not self.place.thread or channel is None:
            return ""
        root = next((m for m in channel["messages"] if m["ts"] == self.place.thread), None)
        if root is None:
            return '<div class="empty">This thread is gone.</div>'
        replies = root.get("replies") or []
        count = len(replies)
        divider = f'<div class="reply-count">{count} {"reply" if count == 1 else "replies"}</div>'
        return (
            self.message(channel, root, in_thread=True)
            + divider
            + "".join(self.message(channel, r, in_thread=True) for r in replies)
        )

    def modal(self) -> str:
        stack = self.state["open_views"].get(self.place.user) or []
        view = self.state["views"].get(stack[-1]) if stack else None
        if not view:
            return ""
        surface = Surface(self.names, (view.get("state") or {}).get("values") or {})
        close = plain_text(view.get("close")) if view.get("close") else "Cancel"
        submit = (
            f'<button type="submit" class="btn btn-primary">{plain_text(view["submit"])}</button>'
            if view.get("submit")
            else ""
        )
        back = '<span class="stack">‹ </span>' if len(stack) > 1 else ""
        return (
            '<div class="backdrop">'
            f'<form class="modal" data-container="view" data-view="{esc(view["id"])}" '
            f'data-hash="{esc(view.get("hash"))}">'
            f"<header><h2>{back}{plain_text(view.get('title'))}</h2>"
            '<button type="button" class="x" data-act="close-view" aria-label="Close">×</button>'
            "</header>"
            f'<div class="modal-body">{render_blocks(view.get("blocks"), surface)}</div>'
            '<div class="modal-error" role="alert"></div>'
            f'<footer><button type="button" class="btn" data-act="close-view">{close}</button>'
            f"{submit}</footer></form></div>"
        )

    # -- one message -----------------------------------------------------------------------

    def author(self, message: dict[str, Any]) -> tuple[str, str, bool]:
        """(name, avatar key, is an app) for a message's author."""
        bot_id = message.get("bot_id")
        if bot_id:
            fallback = (message.get("bot_profile") or {}).get("name") or message.get("username")
            return self.names.bot_name(bot_id, fallback), bot_id, True
        user_id = message.get("user") or ""
        user = self.names.users.get(user_id) or {}
        name = user.get("real_name") or self.names.user(user_id)
        return name, user_id, bool(user.get("is_bot"))

    def message(
        self,
        channel: dict[str, Any],
        message: dict[str, Any],
        in_thread: bool = False,
        ephemeral: bool = False,
    ) -> str:
        if message.get("subtype") == "tombstone":
            return self._deleted(channel, message, in_thread)
        name, key, is_app = self.author(message)
        badge = ' <span class="app-badge">APP</span>' if is_app else ""
        ts = str(message.get("ts", ""))
        when = _time(ts)
        edited = ' <span class="edited">(edited)</span>' if message.get("edited") else ""
        note = '<div class="ephemeral-note">Only visible to you</div>' if ephemeral else ""
        content = self.content(message)
        files = "".join(
            f'<span class="file">📄 {esc(f.get("title") or f.get("name") or f.get("id"))}</span>'
            for f in objects(message.get("files"))
        )
        summary = "" if in_thread or ephemeral else self._thread_link(message)
        tools = "" if ephemeral else self._tools(channel, message, in_thread)
        initial = esc((name or "?")[:1].upper())
        colour = sum(map(ord, key)) % AVATAR_COLOURS
        return (
            f'<div class="msg{" ephemeral" if ephemeral else ""}" data-ts="{esc(ts)}" '
            f'data-container="message" data-channel="{esc(channel["id"])}">'
            f'<div class="avatar c{colour}">{initial}</div><div class="msg-main">'
            f'<div class="msg-head"><span class="author">{esc(name)}</span>{badge}'
            f' <time title="{esc(when[1])}">{esc(when[0])}</time>{edited}</div>'
            f'{note}<div class="msg-content">{content}</div>{files}{summary}</div>{tools}</div>'
        )

    def _deleted(self, channel: dict[str, Any], message: dict[str, Any], in_thread: bool) -> str:
        """A deleted message that still has replies: Slack keeps its place in the channel
        with a grey line and no author, so the thread stays reachable."""
        summary = "" if in_thread else self._thread_link(message)
        return (
            f'<div class="msg deleted" data-ts="{esc(str(message.get("ts", "")))}" '
            f'data-container="message" data-channel="{esc(channel["id"])}">'
            '<div class="msg-main"><div class="msg-content"><i>This message was deleted.</i>'
            f"</div>{summary}</div></div>"
        )

    def content(self, message: dict[str, Any]) -> str:
        surface = Surface(self.names)
        blocks = message.get("blocks")
        if isinstance(blocks, list) and blocks:
            return render_blocks(blocks, surface)
        return f'<div class="bk-text">{mrkdwn(str(message.get("text") or ""), self.names)}</div>'

    def _thread_link(self, message: dict[str, Any]) -> str:
        count = message.get("reply_count") or 0
        href = esc(self.place.href(thread=str(message.get("ts"))))
        if not count:
            return ""
        label = f"{count} {'reply' if count == 1 else 'replies'}"
        last = _time(str(message.get("latest_reply") or ""))[0]
        return (
            f'<a class="thread-link" href="{href}">{label}</a>'
            f'<span class="thread-last">Last reply {esc(last)}</span>'
        )

    def _tools(self, channel: dict[str, Any], message: dict[str, Any], in_thread: bool) -> str:
        """The hover toolbar: reply in thread, and the app's message shortcuts."""
        items = []
        if not in_thread and not channel["is_im"]:
            href = esc(self.place.href(thread=str(message.get("ts"))))
            items.append(f'<a class="tool" href="{href}" title="Reply in thread">💬</a>')
        shortcuts = "".join(
            f'<button type="button" data-act="message-shortcut" '
            f'data-callback-id="{esc(s.get("callback_id"))}">{esc(s.get("name"))}</button>'
            for s in self.shortcuts
            if s.get("type") == "message"
        )
        if shortcuts:
            items.append(
                '<details class="tool-menu"><summary class="tool" title="More actions">⋮</summary>'
                f'<div class="menu">{shortcuts}</div></details>'
            )
        return f'<div class="msg-tools">{"".join(items)}</div>'


def _time(ts: str) -> tuple[str, str]:
    """A message time as Slack shows it beside the name, and in full for the tooltip."""
    try:
        moment = datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        return "", ""
    return moment.strftime("%H:%M"), moment.strftime("%Y-%m-%d %H:%M:%S UTC")
