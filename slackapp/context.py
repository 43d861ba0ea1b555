"""What every Slack handler and the delivery adapter share: the record, the settings,
the Web API client and the directory of stewards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # Stores report forms before Slack is answered (see slackapp/intake.py).
    journal: Any = None


def make_client(settings: Settings) -> WebClient:
    """The Web API client. It does not retry a 429 by itself: the outbox does, waiting
    `Retry-After` without holding a thread, and keeping each thread's posts in order."""
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
