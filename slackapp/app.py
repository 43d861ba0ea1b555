"""The Bolt app: built from a `SlackContext`, with every listener registered.

Listeners acknowledge Slack first; anything slow after that (Web API calls
other than `views.open`) goes through the outbox or after the ack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext

from core.privacy import silence_below
from slackapp.context import MeteredClient, SlackContext
from slackapp.handlers import casework, conversation, decisions, reporting

log = logging.getLogger(__name__)

# Bolt (and the Socket Mode client, which logs every envelope it receives) writes
# whole payloads, report text included, at DEBUG. Bolt sets each of its loggers'
# level from the root logger's unless it is given a base logger, so it gets this
# one, held at WARNING with a filter that a lowered level cannot undo.
BOLT_LOGGER = "slack_bolt.steward"


def build_app(ctx: SlackContext) -> App:
    settings = ctx.settings
    silence_below(BOLT_LOGGER)
    app = App(
        logger=logging.getLogger(BOLT_LOGGER),
        signing_secret=settings.slack_signing_secret,
        client=ctx.client,
        token_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    app.middleware(_metered_client)
    for module in (reporting, casework, decisions, conversation):
        module.register(app, ctx)
    return app


def _metered_client(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002
    """Bolt builds a plain client per request; swap in a counted one with the same
    token and endpoint, so the handlers' calls (views.open...) show in the metrics."""
    plain = context.client
    context["client"] = MeteredClient(
        token=plain.token, base_url=plain.base_url, timeout=plain.timeout, headers=plain.headers
    )
    next()
