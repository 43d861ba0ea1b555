"""What every Slack handler and the delivery adapter share: the record, the settings,
the Web API client and the directory of stewards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.infra import metrics
from core.infra.db import Database
from core.infra.privacy import silence_below
from core.infra.settings import Settings
from slackapp.stewards import StewardDirectory

# Both libraries log request and response bodies (report content) below WARNING.
silence_below("slack_sdk")
silence_below("slack_bolt")


@dataclass
class SlackContext:
    db: Database
    settings: Settings
    client: WebClient
    stewards: StewardDirectory
    # Called after a report form is stored, to open its case without waiting for a poll.
    submitted: Callable[[], None] = field(default=lambda: None)
    # Stores report forms before Slack is answered (see slackapp/intake.py).
    journal: Any = None


class MeteredClient(WebClient):
    """slack_sdk's client with every call counted by method, and its failures by kind.

    Every Web API method goes through `api_call`, so one override counts them all."""

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        metrics.SLACK_CALLS.labels(method=api_method).inc()
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            limited = exc.response is not None and exc.response.status_code == 429
            (metrics.SLACK_RATE_LIMITED if limited else metrics.SLACK_ERRORS).labels(
                method=api_method
            ).inc()
            raise
        except Exception:
            metrics.SLACK_ERRORS.labels(method=api_method).inc()
            raise


def make_client(settings: Settings) -> WebClient:
    """The Web API client. It does not retry a 429 by itself: the outbox does, waiting
    `Retry-After` without holding a thread, and keeping each thread's posts in order."""
    return MeteredClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10
    )
