"""Socket Mode: the app connects out over a WebSocket and Slack sends it envelopes.

An app calls ``apps.connections.open`` with its app-level token (``xapp-``) and
gets a one-time ``ws://.../link/?ticket=...`` URL. Once it connects, the
emulator says ``hello`` and from then on delivers every shortcut, submission,
click and event as an envelope on the socket instead of a signed HTTP POST::

    {"envelope_id": "...", "type": "events_api" | "interactive" | "slash_commands",
     "payload": {...}, "accepts_response_payload": bool,
     "retry_attempt": 0, "retry_reason": ""}        # the last two: events_api only

The app acknowledges with ``{"envelope_id": "...", "payload": {...}?}``; the
optional payload plays the role of an HTTP response body (``response_action``
for a view submission). An envelope not acknowledged within the ack timeout
counts as a timeout, exactly like a slow HTTP answer. Events are then delivered
again, as Slack retries the Events API: up to three more times, after
``retry_delays`` (Slack: about immediately, one minute, five minutes), each with
a new envelope_id, ``retry_attempt`` 1..3 and ``retry_reason`` ``"timeout"``,
on the next open connection in turn. Interactive payloads are never retried:
the person sees an error instead, as in Slack.

The WebSocket runs in the HTTP server's own request thread (the stdlib server
gives each connection one), with ``wsproto`` doing the framing; the read loop
answers pings, collects acks and ends when either side closes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .signing import AppAnswer
from .workspace import SlackError, Workspace

log = logging.getLogger("slackapp.emulator.socketmode")

TICKET_TTL = 60.0
MAX_CONNECTIONS = 10
EVENT_RETRY_DELAYS = (0.0, 60.0, 300.0)
# Methods that take the app-level token (xapp-) and refuse the bot token.
APP_LEVEL_METHODS = frozenset({"apps.connections.open"})
# Interactive payloads whose ack may carry a response body (Slack sets the flag for these).
RESPONDING_INTERACTIONS = ("view_submission", "block_suggestion")


@dataclass
class Pending:
    """An envelope sent and not yet acknowledged."""

    envelope_id: str
    sent_at: float
    acked: threading.Event = field(default_factory=threading.Event)
    ack_payload: Any = None


class Link:
    """One open WebSocket from the app: framing, a send lock, and the read loop."""

    def __init__(self, sock: socket.socket, ws: WSConnection, number: int) -> None:
        self.sock = sock
        self.ws = ws
        self.number = number
        self.open = True
        self._send_lock = threading.Lock()

    def send(self, event: Any) -> None:
        with self._send_lock:
            if not self.open:
                raise ConnectionError("the socket is closed")
            data = self.ws.send(event)
            try:
                self.sock.sendall(data)
            except OSError:
                self.open = False
                raise ConnectionError("the socket is closed") from None

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(TextMessage(data=json.dumps(message)))

    def close(self) -> None:
        """Close from our side; the read loop then ends."""
        with self._send_lock:
            if self.open:
                self.open = False
                # The peer may be gone already, or closing itself.
                with contextlib.suppress(OSError, LocalProtocolError):
                    self.sock.sendall(self.ws.send(CloseConnection(code=1001)))
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def read_loop(self, on_text: Callable[[str], None]) -> None:
        """Until the peer closes: answer pings, hand complete text messages to ``on_text``."""
        parts: list[str] = []
        while self.open:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                self.ws.receive_data(data)
                events = list(self.ws.events())
            except RemoteProtocolError:
                log.warning("socket mode: connection %s broke the WebSocket protocol", self.number)
                break
            for event in events:
                if isinstance(event, TextMessage):
                    parts.append(event.data)
                    if event.message_finished:
                        on_text("".join(parts))
                        parts = []
                elif isinstance(event, Ping):
                    self.send(event.response())
                elif isinstance(event, CloseConnection):
                    with self._send_lock:
                        if self.open:
                            self.open = False
                            with contextlib.suppress(OSError):
                                self.sock.sendall(self.ws.send(event.response()))
                    return
                elif isinstance(event, BytesMessage):
                    log.debug("socket mode: ignoring a binary frame")
        self.open = False


class SocketModeHub:
    """Tickets, open connections, and envelopes waiting for their acks."""

    def __init__(
        self,
        workspace: Workspace,
        record: Callable[[dict[str, Any]], None],
        retry_delays: tuple[float, ...] = EVENT_RETRY_DELAYS,
    ) -> None:
        self.ws = workspace
        self.record = record
        self.retry_delays = retry_delays
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}
        self._links: list[Link] = []
        self._pending: dict[str, Pending] = {}
        self._numbers = itertools.count(1)
        self._turn = itertools.count()

    # -- apps.connections.open ---------------------------------------------------------

    def open_connection(self, base_url: str) -> dict[str, Any]:
        """A one-time WebSocket URL (Slack's: wss://wss-primary.slack.com/link/?ticket=...)."""
        ticket = str(uuid.uuid4())
        with self._lock:
            now = time.monotonic()
            self._tickets = {t: at for t, at in self._tickets.items() if now - at < TICKET_TTL}
            self._tickets[ticket] = now
        host = urllib.parse.urlsplit(base_url).netloc
        query = urllib.parse.urlencode({"ticket": ticket, "app_id": self.ws.bot["app_id"]})
        return {"url": f"ws://{host}/link/?{query}"}

    def _take_ticket(self, query: str) -> str | None:
        """Why the connection is refused, or None; a ticket works once, within its life."""
        ticket = (urllib.parse.parse_qs(query).get("ticket") or [""])[-1]
        with self._lock:
            issued = self._tickets.pop(ticket, None)
            if issued is None or time.monotonic() - issued > TICKET_TTL:
                return "invalid_ticket"
            if len(self.open_links()) >= MAX_CONNECTIONS:
                return "too_many_connections"
        return None

    # -- connections -------------------------------------------------------------------

    def open_links(self) -> list[Link]:
        return [link for link in self._links if link.open]

    @property
    def connected(self) -> bool:
        with self._lock:
            return bool(self.open_links())

    def accept(self, sock: socket.socket, raw_request: bytes, query: str) -> None:
        """Serve one WebSocket on ``sock`` (the upgrade request is already read)."""
        ws = WSConnection(ConnectionType.SERVER)
        try:
            ws.receive_data(raw_request)
            request = next((e for e in ws.events() if isinstance(e, Request)), None)
        except RemoteProtocolError:
            request = None
        if request is None:
            _refuse(sock, 400, "not_a_websocket_request")
            return
        refusal = self._take_ticket(query)
        if refusal is not None:
            _refuse(sock, 401, refusal)
            return
        sock.sendall(ws.send(AcceptConnection()))
        sock.settimeout(1.0)
        link = Link(sock, ws, next(self._numbers))
        with self._lock:
            self._links.append(link)
            count = len(self.open_links())
        log.info("socket mode: connection %s opened (%s open)", link.number, count)
        try:
            link.send_json(self._hello(count))
            link.read_loop(lambda text: self._on_text(link, text))
        finally:
            link.open = False
            with self._lock:
                self._links = [other for other in self._links if other is not link]
            log.info("socket mode: connection %s closed", link.number)

    def _hello(self, count: int) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": "applink-emulator",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.ws.bot["app_id"]},
        }

    def _on_text(self, link: Link, text: str) -> None:
        """An ack ({envelope_id, payload?}); anything else is logged and ignored, as Slack does."""
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("socket mode: connection %s sent a frame that is not JSON", link.number)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            pending = self._pending.pop(envelope_id, None) if envelope_id else None
        if pending is None:
            log.warning("socket mode: an ack for no pending envelope")
            return
        pending.ack_payload = message.get("payload")
        pending.acked.set()

    def disconnect_all(self, reason: str = "refresh_requested") -> int:
        """Ask every connection to reconnect, as Slack does before it closes one."""
        with self._lock:
            links = self.open_links()
        for link in links:
            with contextlib.suppress(ConnectionError):
                link.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
                )
        return len(links)

    def close(self) -> None:
        with self._lock:
            links, self._links = list(self._links), []
        for link in links:
            link.close()

    # -- envelopes ---------------------------------------------------------------------

    def deliver(self, kind: str, payload: dict[str, Any], timeout: float) -> AppAnswer:
        """Send one envelope and wait for its ack; events are retried in the background."""
        accepts = kind == "slash_commands" or (
            kind == "interactive" and payload.get("type") in RESPONDING_INTERACTIONS
        )
        answer = self._attempt(kind, payload, accepts, timeout, 0)
        if answer.status is None and kind == "events_api" and self.retry_delays:
            threading.Thread(
                target=self._retry_event,
                args=(payload, timeout),
                name="socket-mode-retry",
                daemon=True,
            ).start()
        return answer

    def _attempt(
        self, kind: str, payload: dict[str, Any], accepts: bool, timeout: float, attempt: int
    ) -> AppAnswer:
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = attempt
            envelope["retry_reason"] = "timeout" if attempt else ""
        started = time.monotonic()
        pending = Pending(envelope["envelope_id"], started)
        with self._lock:
            links = self.open_links()
            if not links:
                return AppAnswer(None, "", 0, "unreachable: no socket mode connection")
            link = links[next(self._turn) % len(links)]
            self._pending[pending.envelope_id] = pending
        try:
            link.send_json(envelope)
        except ConnectionError:
            with self._lock:
                self._pending.pop(pending.envelope_id, None)
            return AppAnswer(None, "", 0, "unreachable: the socket closed")
        acked = pending.acked.wait(timeout)
        elapsed = int((time.monotonic() - started) * 1000)
        if not acked:
            with self._lock:
                self._pending.pop(pending.envelope_id, None)
            return AppAnswer(None, "", elapsed, "timeout")
        text = "" if pending.ack_payload is None else json.dumps(pending.ack_payload)
        return AppAnswer(200, text, elapsed)

    def _retry_event(self, payload: dict[str, Any], timeout: float) -> None:
        """Slack's Events API retries: a new envelope each time, until one is acked."""
        detail = (payload.get("event") or {}).get("type", "")
        for attempt, delay in enumerate(self.retry_delays, start=1):
            time.sleep(delay)
            answer = self._attempt("events_api", payload, False, timeout, attempt)
            self.record(
                {
                    "kind": "event_callback",
                    "detail": detail,
                    "at": time.time(),
                    "status": answer.status,
                    "elapsed_ms": answer.elapsed_ms,
                    "error": answer.error,
                    "transport": "socket_mode",
                    "retry_attempt": attempt,
                }
            )
            if answer.status == 200:
                return

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "connections": len(self.open_links()),
                "pending_envelopes": len(self._pending),
            }


def connection_token_error(bot: dict[str, Any], token: str, app_level: bool) -> SlackError | None:
    """Slack's answer to a token of the wrong kind for a method, or None if it fits.

    App-level tokens (``xapp-``) work only for app-level methods such as
    ``apps.connections.open``; bot tokens do not work for those.
    """
    if token == bot.get("app_token"):
        return None if app_level else SlackError("not_allowed_token_type")
    if token == bot.get("token"):
        return SlackError("not_allowed_token_type") if app_level else None
    return SlackError("invalid_auth")


def _refuse(sock: socket.socket, status: int, error: str) -> None:
    """An HTTP answer instead of the upgrade, with a Slack-style JSON body."""
    body = json.dumps({"ok": False, "error": error}).encode()
    reason = {400: "Bad Request", 401: "Unauthorized"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
