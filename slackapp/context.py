"""What every Slack handler and the delivery adapter share: the record, the settings,
the Web API client and the directory of stewards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient

from core.db import Database
from core.privacy import silence_below
from core.settings import Settings
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


def make_client(settings: Settings) -> WebClient:
    """A Web API client that honours Slack's 429 `Retry-After` once before giving up."""
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    return client
