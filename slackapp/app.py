"""The Bolt app: built from a `SlackContext`, with every listener registered.

Listeners acknowledge Slack first; anything slow after that (Web API calls
other than `views.open`) goes through the outbox or after the ack.
"""

from __future__ import annotations

import logging

from slack_bolt import App

from core.privacy import silence_below
from slackapp.context import SlackContext
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
    for module in (reporting, casework, decisions, conversation):
        module.register(app, ctx)
    return app
