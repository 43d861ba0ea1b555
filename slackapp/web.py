"""The HTTP endpoint Slack calls (`/slack/events`) and the health routes, served by waitress.

Waitress is a production WSGI server with a thread pool, so one slow request
never holds up the next ack; Bolt still verifies every request's signature.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from core.infra import metrics
from core.infra.health import Health, StartResponse, WSGIApp

log = logging.getLogger(__name__)


def make_wsgi(app: App, health: Health) -> WSGIApp:
    """`/slack/events` through Bolt, timed as the ack Slack waits for; the health routes."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") == "/slack/events":
            with metrics.timed(metrics.ACK_SECONDS):
                return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return health.wsgi(events)


class WebServer:
    """Waitress in a background thread; `port` 0 picks a free one."""

    def __init__(self, wsgi: Any, host: str, port: int, threads: int = 24) -> None:
        self.server = create_server(
            wsgi, host=host, port=port, threads=threads, ident="Steward", channel_timeout=30
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.socket.getsockname()[:2]
        return host, port

    @property
    def base_url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    @property
    def events_url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/slack/events"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Waitress's own loop never returns; this one checks for a stop between polls,
        so the socket is closed only after the loop has let go of it."""
        server = self.server
        while not self._stopping.is_set():
            server.asyncore.loop(timeout=0.2, map=server._map, count=1)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.server.close()
        self.server.task_dispatcher.shutdown()
