"""Signing and delivering requests to the app, exactly as Slack does.

Slack signs ``v0:{timestamp}:{raw body}`` with HMAC-SHA256 under the app's
signing secret and sends ``X-Slack-Signature: v0=<hex>`` with
``X-Slack-Request-Timestamp``. Interactivity payloads are form-encoded
(``payload=<json>``); Events API envelopes are JSON. The app must answer within
3 seconds, or Slack shows the user an error; the emulator uses the same budget.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }


@dataclass
class AppAnswer:
    """What the app answered: HTTP status (None if unreachable), body, timing."""

    status: int | None
    text: str
    elapsed_ms: int
    error: str | None = None

    @property
    def json(self) -> Any:
        """The parsed body, or None when it is empty or not JSON (Bolt acks with '')."""
        if not self.text:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "status": self.status,
            "body": self.json,
            "elapsed_ms": self.elapsed_ms,
        }
        if self.json is None and self.text:
            answer["text"] = self.text
        if self.error:
            answer["error"] = self.error
        return answer


def post_signed(url: str, body: bytes, content_type: str, secret: str, timeout: float) -> AppAnswer:
    """POST a signed request and report the app's answer (never raises for HTTP errors)."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers=signed_headers(secret, body, content_type)
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
            status: int | None = response.status
            error = None
    except urllib.error.HTTPError as err:
        status, text, error = err.code, err.read().decode("utf-8", "replace"), None
    except TimeoutError:
        status, text, error = None, "", "timeout"
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        status, text = None, ""
        error = "timeout" if isinstance(reason, TimeoutError) else f"unreachable: {reason}"
    elapsed = int((time.monotonic() - started) * 1000)
    return AppAnswer(status, text, elapsed, error)


def post_interaction(url: str, payload: dict[str, Any], secret: str, timeout: float) -> AppAnswer:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return post_signed(url, body, "application/x-www-form-urlencoded", secret, timeout)


def post_event(url: str, envelope: dict[str, Any], secret: str, timeout: float) -> AppAnswer:
    body = json.dumps(envelope).encode()
    return post_signed(url, body, "application/json", secret, timeout)
