"""Socket Mode: the same Bolt app, reached over an outbound WebSocket instead of a URL.

A workspace that cannot expose a public `/slack/events` runs `steward web
--socket-mode`: Steward calls `apps.connections.open` with the app-level token
(`xapp-`, scope `connections:write`) and Slack sends every shortcut, submission,
click and event down that socket. The listeners and their acks are the very
same as over HTTP; only the transport differs, and Slack's request signature
is replaced by the app token.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError


class SocketModeRefused(Exception):
    """Slack would not open a Socket Mode connection (a wrong or revoked app token)."""

    def __init__(self, error: str) -> None:
        super().__init__(f"Slack refused the Socket Mode connection: {error}")
        self.error = error


class SocketModeService:
    """slack_sdk's built-in Socket Mode client (it reconnects by itself) as a service."""

    def __init__(self, app: App, app_token: str) -> None:
        self.handler = SocketModeHandler(app, app_token)

    def start(self) -> None:
        """Open the connection; Slack's refusal (its error code only) becomes SocketModeRefused."""
        try:
            self.handler.connect()
        except SlackApiError as exc:
            self.handler.close()
            raise SocketModeRefused(str(exc.response.get("error"))) from None

    def stop(self) -> None:
        self.handler.close()
