"""Opening and paging modals, where Slack may say no.

A `trigger_id` lives 3 seconds and serves once, and a modal can be closed while
its next page is being built. Slack then refuses `views.open` or `views.update`
(`expired_trigger_id`, `not_found`...). That is a click the person makes again,
not a fault of Steward: it is logged as a warning with Slack's error code, and
the handler stops there instead of failing with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def open_modal(client: WebClient, trigger_id: str | None, view: dict[str, Any]) -> bool:
    """`views.open`; False when Slack refused it."""
    return _done("opened", lambda: client.views_open(trigger_id=trigger_id, view=view))


def update_modal(client: WebClient, view_id: str, view: dict[str, Any]) -> bool:
    """`views.update` of an open modal; False when Slack refused it."""
    return _done("updated", lambda: client.views_update(view_id=view_id, view=view))


def _done(what: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except SlackApiError as exc:
        log.warning("a modal could not be %s (%s)", what, exc.response.get("error"))
        return False
    return True
