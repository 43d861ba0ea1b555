"""A small HTTP client for the control API, for tests and tools in other processes.

It mirrors ``SlackEmulator``'s control methods and returns the same dicts;
a 4xx/5xx answer raises the same ``ControlError``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .interactions import ControlError


class EmulatorClient:
    """Talks to ``{url}/_emulator/``; ``url`` is the emulator's base URL."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def _request(self, verb: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None
        headers = {}
        if verb == "POST":
            payload = {k: v for k, v in (body or {}).items() if v is not None}
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{self.url}/_emulator/{name}", data=data, method=verb, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read() or b"{}")
            except ValueError:
                detail = {}
            raise ControlError(
                err.code, detail.get("error", "http_error"), detail.get("detail", "")
            ) from None

    def state(self) -> dict[str, Any]:
        return self._request("GET", "state")

    def global_shortcut(
        self, user: str, callback_id: str, wait: float | None = None
    ) -> dict[str, Any]:
        return self._request(
            "POST", "global_shortcut", {"user": user, "callback_id": callback_id, "wait": wait}
        )

    def message_shortcut(
        self,
        user: str,
        channel: str,
        message_ts: str,
        callback_id: str,
        wait: float | None = None,
    ) -> dict[str, Any]:
        body = {
            "user": user,
            "channel": channel,
            "message_ts": message_ts,
            "callback_id": callback_id,
            "wait": wait,
        }
        return self._request("POST", "message_shortcut", body)

    def submit(
        self,
        user: str,
        view_id: str,
        values: dict[str, Any] | None = None,
        wait: float | None = None,
    ) -> dict[str, Any]:
        body = {"user": user, "view_id": view_id, "values": values or {}, "wait": wait}
        return self._request("POST", "submit", body)

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
        body = {
            "user": user,
            "action_id": action_id,
            "channel": channel,
            "message_ts": message_ts,
            "view_id": view_id,
            "value": value,
            "block_id": block_id,
            "wait": wait,
        }
        return self._request("POST", "click", body)

    def post(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        body = {"user": user, "channel": channel, "text": text, "thread_ts": thread_ts}
        return self._request("POST", "post", body)

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
        body = {
            "user": user,
            "filename": filename,
            "content": content,
            "content_base64": content_base64,
            "mimetype": mimetype,
            "channel": channel,
            "text": text,
            "thread_ts": thread_ts,
        }
        return self._request("POST", "upload", body)

    def open_home(self, user: str, wait: float | None = None) -> dict[str, Any]:
        return self._request("POST", "open_home", {"user": user, "wait": wait})

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
        body = {
            "method": method,
            "error": error,
            "status": status,
            "times": times,
            "retry_after": retry_after,
            "delay": delay,
            "for_seconds": for_seconds,
        }
        return self._request("POST", "faults", body)

    def rate_limit(self, method: str, per_channel_per_sec: float | None) -> dict[str, Any]:
        body = {"method": method, "per_channel_per_sec": per_channel_per_sec}
        return self._request("POST", "rate_limit", body)

    def reset(self) -> dict[str, Any]:
        return self._request("POST", "reset", {})

    def config(self, app_url: str | None = None) -> dict[str, Any]:
        return self._request("POST", "config", {"app_url": app_url})
