"""``SlackEmulator``: the workspace, the Web API, the control API and Socket Mode on one port.

It runs in process (``with SlackEmulator() as emu:``) on a free loopback port,
or standalone through ``main``. Its Python methods are the control API itself:
``emu.submit(...)`` returns the same dict as ``POST /_emulator/submit``, and
raises ``ControlError`` where HTTP would answer 4xx.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .interactions import ControlError, Controller
from .limits import Faults, RateLimiter
from .scopes import resolve_scopes
from .server import EmulatorHTTPServer
from .socketmode import EVENT_RETRY_DELAYS, SocketModeHub
from .viewer import Viewer
from .webapi import WebApi
from .workspace import Workspace

DEFAULT_SIGNING_SECRET = "steward-emulator-signing-secret"


class SlackEmulator:
    """A local Slack: Web API at ``/api/``, control API at ``/_emulator/``.

    Args:
        seed: a seed dict, a YAML/JSON path, or None for the packaged default.
        signing_secret: the secret the app verifies X-Slack-Signature with.
        app_url: the app's ``/slack/events`` URL; may be set later via ``.app_url``.
        host, port: where to listen; port 0 picks a free port.
        trigger_ttl: seconds a trigger_id stays usable (Slack: 3).
        ack_timeout: seconds the app has to answer a request (Slack: 3).
        echo_bot_messages: also send the app ``message`` events for its own posts,
            with ``bot_id`` set, as Slack does. Off by default.
        event_retry_delays: seconds before each redelivery of an event that a
            Socket Mode app did not acknowledge (Slack: about 0, 60 and 300).
        scopes: the app's bot scopes, or the path of an app manifest to read them
            from; None reads Steward's manifest.yml. Methods outside them answer
            ``missing_scope``.
    """

    def __init__(
        self,
        seed: str | Path | dict[str, Any] | None = None,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        app_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        trigger_ttl: float = 3.0,
        ack_timeout: float = 3.0,
        echo_bot_messages: bool = False,
        event_retry_delays: tuple[float, ...] = EVENT_RETRY_DELAYS,
        scopes: Iterable[str] | str | Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.workspace = Workspace(seed, trigger_ttl=trigger_ttl)
        self._faults = Faults()
        self._rate_limiter = RateLimiter()
        self.controller = Controller(self.workspace, base_url=lambda: self.url)
        self.controller.signing_secret = signing_secret
        self.controller.app_url = app_url
        self.controller.ack_timeout = ack_timeout
        self.controller.echo_bot_messages = echo_bot_messages
        self.socket_mode = SocketModeHub(
            self.workspace, self.workspace.record_delivery, tuple(event_retry_delays)
        )
        self.controller.socket_mode = self.socket_mode
        self.webapi = WebApi(
            self.workspace,
            self._faults,
            self._rate_limiter,
            base_url=lambda: self.url,
            on_bot_message=self.controller.echo_bot_message,
            scopes=resolve_scopes(scopes),
        )
        self.webapi.methods["apps.connections.open"] = lambda _params: (
            self.socket_mode.open_connection(self.url)
        )
        self.viewer = Viewer(self.workspace)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer(
            (self.host, self.port),
            self.webapi,
            self.controller,
            self._control_ops(),
            self.socket_mode,
        )
        self._server.viewer = self.viewer
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"slack-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.socket_mode.close()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until stop() is called from another thread (used by the CLI)."""
        self.start()
        assert self._thread is not None
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and identities --------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=emu.api_url, token=emu.bot_token)``."""
        return self.url + "/api/"

    @property
    def control_url(self) -> str:
        return self.url + "/_emulator/"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot["token"]

    @property
    def app_token(self) -> str:
        """The app-level token (``xapp-``) that ``apps.connections.open`` takes."""
        return self.workspace.bot["app_token"]

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot["user_id"]

    @property
    def bot_id(self) -> str:
        return self.workspace.bot["bot_id"]

    @property
    def team_id(self) -> str:
        return self.workspace.team["id"]

    @property
    def signing_secret(self) -> str:
        return self.controller.signing_secret

    @signing_secret.setter
    def signing_secret(self, value: str) -> None:
        self.controller.signing_secret = value

    @property
    def app_url(self) -> str | None:
        return self.controller.app_url

    @app_url.setter
    def app_url(self, value: str | None) -> None:
        self.controller.app_url = value

    # -- control API (same results as the HTTP endpoints) ----------------------------------

    def _control_ops(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "global_shortcut": self.global_shortcut,
            "message_shortcut": self.message_shortcut,
            "submit": self.submit,
            "click": self.click,
            "post": self.post,
            "upload": self.upload,
            "open_home": self.open_home,
            "faults": self.faults,
            "rate_limit": self.rate_limit,
            "reset": self.reset,
            "config": self.config,
        }

    def state(self) -> dict[str, Any]:
        state = self.workspace.state()
        state["app_url"] = self.app_url
        state["faults"] = self._faults.pending()
        state["rate_limits"] = self._rate_limiter.rates()
        state["socket_mode"] = self.socket_mode.state()
        return state

    def global_shortcut(
        self, user: str, callback_id: str, wait: float | None = None
    ) -> dict[str, Any]:
        return self.controller.global_shortcut(user, callback_id, wait)

    def message_shortcut(
        self,
        user: str,
        channel: str,
        message_ts: str,
        callback_id: str,
        wait: float | None = None,
    ) -> dict[str, Any]:
        return self.controller.message_shortcut(user, channel, message_ts, callback_id, wait)

    def submit(
        self,
        user: str,
        view_id: str,
        values: dict[str, Any] | None = None,
        wait: float | None = None,
    ) -> dict[str, Any]:
        return self.controller.submit(user, view_id, values, wait)

    def click(
        self,
        user: str,
        action_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        value: Any = None,
        block_id: str | None = None,
        wait: float | None = None,
    ) -> dict[str, Any]:
        return self.controller.click(
            user, action_id, channel, message_ts, view_id, value, block_id, wait
        )

    def post(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        return self.controller.post(user, channel, text, thread_ts)

    def upload(
        self,
        user: str,
        filename: str,
        content: str | None = None,
        content_base64: str | None = None,
        mimetype: str | None = None,
        channel: str | None = None,
        text: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        return self.controller.upload(
            user, filename, content, content_base64, mimetype, channel, text, thread_ts
        )

    def open_home(self, user: str, wait: float | None = None) -> dict[str, Any]:
        return self.controller.open_home(user, wait)

    def faults(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        for_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Make the next ``times`` calls of ``method`` (or ``*``) fail, or every call
        for ``for_seconds`` from the first one; ``delay`` holds each call first."""
        try:
            self._faults.add(method, error, status, times, retry_after, delay, for_seconds)
        except (TypeError, ValueError) as err:
            raise ControlError(400, "invalid_arguments", str(err)) from None
        return {"ok": True, "faults": self._faults.pending()}

    def rate_limit(self, method: str, per_channel_per_sec: float | None) -> dict[str, Any]:
        """Limit ``method`` per channel; 0 or null removes the limit."""
        if not isinstance(method, str) or not method:
            raise ControlError(400, "invalid_arguments", "method is required")
        if per_channel_per_sec is not None and (
            not isinstance(per_channel_per_sec, int | float) or per_channel_per_sec < 0
        ):
            raise ControlError(400, "invalid_arguments", "per_channel_per_sec must be >= 0")
        self._rate_limiter.configure(method, per_channel_per_sec)
        return {"ok": True, "rate_limits": self._rate_limiter.rates()}

    def reset(self) -> dict[str, Any]:
        """Back to the seed: messages, views, files, faults and rate limits all cleared."""
        self.workspace.reset()
        self._faults.clear()
        self._rate_limiter.clear()
        return {"ok": True}

    def config(self, app_url: str | None = None) -> dict[str, Any]:
        """Point the emulator at the app (the app may start after the emulator)."""
        self.app_url = app_url
        return {"ok": True, "app_url": self.app_url}
