"""The viewer's routes on the emulator's port: the page, its parts, its static files.

Acting (shortcuts, clicks, submissions, posts) needs no route here: the page
script calls the control API at ``/_emulator/`` directly, so the app receives
the same signed requests a test would send. The one addition is closing a
modal (Slack's *Cancel*), which the control API has no endpoint for.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..workspace import Workspace
from .mailbox import Mailbox
from .mrkdwn import esc
from .page import DM, HOME, MAIL, Place, WorkspacePage, digest

STATIC = Path(__file__).with_name("static")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    # Everything on the page is text from the app and its users: no inline script may run.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any) -> Reply:
        return cls(status, "application/json; charset=utf-8", json.dumps(data).encode())


class Viewer:
    """The demo workspace as a web page, served beside the Web API and control API.

    Args:
        workspace: the emulator's workspace (read through ``state()``).
        mail_dir: the folder of outbound ``.eml`` files to list, if any.
        home_channel: the channel a first visit opens (Steward's staff channel);
            the first visit looks through the eyes of that channel's first member.
    """

    def __init__(
        self, workspace: Workspace, mail_dir: str | Path | None = None, home_channel: str = ""
    ) -> None:
        self.workspace = workspace
        self.mailbox = Mailbox(mail_dir)
        self.home_channel = home_channel

    def configure(self, mail_dir: str | Path | None = None, home_channel: str = "") -> None:
        self.mailbox = Mailbox(mail_dir)
        self.home_channel = home_channel

    @staticmethod
    def serves(verb: str, parts: list[str]) -> bool:
        return (not parts and verb == "GET") or parts[:1] == ["_viewer"]

    def handle(self, verb: str, parts: list[str], query: str, raw: bytes) -> Reply:
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        if not parts:
            return self.page(params)
        route = parts[1:]
        if verb == "GET" and route == ["parts"]:
            return self.parts(params)
        if verb == "GET" and len(route) == 2 and route[0] == "static":
            return self.static(route[1])
        if verb == "POST" and route == ["close"]:
            return self.close(raw)
        return Reply.json(404, {"ok": False, "error": "not_found"})

    # -- where the visitor is -----------------------------------------------------------------

    def place(self, state: dict[str, Any], params: dict[str, str]) -> Place:
        """The person and pane asked for, or sensible ones when the query names none."""
        people = [uid for uid, u in state["users"].items() if not u.get("is_bot")]
        home = state["channels"].get(self.home_channel)
        user = params.get("as", "")
        if user not in people:
            members = [m for m in (home or {}).get("members", []) if m in people]
            user = (members or people or [""])[0]
        page = WorkspacePage(state, Place(user, ""), self.mailbox)
        visible = [c["id"] for c in page.visible_channels()]
        pane = params.get("pane", "")
        if pane not in (*visible, HOME, DM, MAIL):
            pane = self.home_channel if self.home_channel in visible else (visible or [HOME])[0]
        thread = params.get("thread") if pane not in (HOME, MAIL) else None
        return Place(user, pane, thread or None)

    def _page(self, params: dict[str, str]) -> WorkspacePage:
        state = self.workspace.state()
        return WorkspacePage(state, self.place(state, params), self.mailbox)

    # -- routes ---------------------------------------------------------------------------

    def page(self, params: dict[str, str]) -> Reply:
        html = render_shell(self._page(params))
        return Reply(200, "text/html; charset=utf-8", html.encode(), dict(SECURITY_HEADERS))

    def parts(self, params: dict[str, str]) -> Reply:
        page = self._page(params)
        parts = {
            name: {"digest": digest(html), "html": html} for name, html in page.parts().items()
        }
        reply = Reply.json(200, {"ok": True, "parts": parts})
        reply.headers["Cache-Control"] = "no-store"
        return reply

    def static(self, name: str) -> Reply:
        path = STATIC / name
        if path.suffix not in STATIC_TYPES or path.parent != STATIC or not path.is_file():
            return Reply.json(404, {"ok": False, "error": "not_found"})
        return Reply(
            200, STATIC_TYPES[path.suffix], path.read_bytes(), {"Cache-Control": "no-store"}
        )

    def close(self, raw: bytes) -> Reply:
        """Slack's *Cancel* or ×: the top modal of the user's stack closes."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return Reply.json(400, {"ok": False, "error": "invalid_json"})
        user = body.get("user") if isinstance(body, dict) else None
        view_id = body.get("view_id") if isinstance(body, dict) else None
        with self.workspace.lock:
            stack = self.workspace.stacks.get(user) if isinstance(user, str) else None
            if not stack or stack[-1] != view_id:
                return Reply.json(
                    404, {"ok": False, "error": "view_not_open", "detail": "not the top modal"}
                )
            self.workspace.close_view(view_id)
            return Reply.json(200, {"ok": True, "open_views": list(stack)})


def render_shell(page: WorkspacePage) -> str:
    """The whole page: the parts, plus what never changes while it is open."""
    place = page.place
    parts = page.parts()

    def part(name: str, tag: str = "div", css: str = "") -> str:
        html = parts[name]
        return (
            f'<{tag} id="{name}" class="{css or name}" data-digest="{digest(html)}">{html}</{tag}>'
        )

    people = "".join(
        f'<option value="{esc(uid)}"{" selected" if uid == place.user else ""}>'
        f"{esc(u.get('real_name') or uid)} ({esc(uid)})</option>"
        for uid, u in page.state["users"].items()
        if not u.get("is_bot")
    )
    shortcuts = "".join(
        f'<button type="button" data-act="shortcut" data-callback-id="{esc(s.get("callback_id"))}">'
        f"{esc(s.get('name'))}</button>"
        for s in page.shortcuts
        if s.get("type") == "global"
    )
    thread = ""
    if place.thread:
        thread = (
            '<aside class="thread"><div class="thread-head"><h3>Thread</h3>'
            f'<a class="x" href="{esc(place.href(thread=""))}" aria-label="Close thread">×</a>'
            "</div>"
            f"{part('thread-body')}{composer(page, place.thread)}</aside>"
        )
    team = esc(page.state["team"].get("name") or "Slack")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{team} · workspace viewer</title>"
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/_viewer/static/viewer.css"></head>'
        f'<body data-user="{esc(place.user)}" data-pane="{esc(place.pane)}" '
        f'data-thread="{esc(place.thread or "")}">'
        f'<header class="topbar"><div class="team">{team}</div>'
        '<details class="shortcuts"><summary id="shortcuts-button">⚡ Shortcuts</summary>'
        f'<div class="menu">{shortcuts}</div></details>'
        '<label class="switcher">Viewing as '
        f'<select id="as-user" aria-label="Viewing as">{people}</select></label></header>'
        f'<div class="layout">{part("sidebar", "nav")}<main class="pane">'
        f"{part('pane-head')}{part('pane-body')}{composer(page)}</main>{thread}</div>"
        f'{part("modal")}<div id="toast" class="toast" role="status" hidden></div>'
        '<script src="/_viewer/static/viewer.js"></script></body></html>'
    )


def composer(page: WorkspacePage, thread_ts: str | None = None) -> str:
    """The message box: in the channel, in a thread, or in the DM with the app."""
    place = page.place
    if place.pane in (HOME, MAIL):
        return ""
    channel = page.pane_channel()
    if place.pane == DM:
        target = page.dm_id or page.state["bot"]["user_id"]
        label = "Message " + page.names.user(page.state["bot"]["user_id"])
    elif channel is None or place.user not in channel["members"]:
        return '<div class="composer disabled">You are not a member of this channel.</div>'
    else:
        target = channel["id"]
        label = f"Message #{channel['name']}"
    if thread_ts:
        label = "Reply…"
    thread = f' data-thread="{esc(thread_ts)}"' if thread_ts else ""
    return (
        f'<form class="composer" data-act="post" data-channel="{esc(target)}"{thread}>'
        f'<textarea rows="1" name="text" placeholder="{esc(label)}"></textarea>'
        '<button type="submit" class="send">Send</button></form>'
    )
