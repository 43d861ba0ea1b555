"""The Bolt app: built from a `SlackContext`, with every listener registered.

Listeners acknowledge Slack first; anything slow after that (Web API calls
other than `views.open`) goes through the outbox or after the ack.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from slack_bolt import App, BoltContext

from core.infra.privacy import silence_below
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
    app.error(log_failure)
    return app


def _metered_client(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002
    """Bolt builds a plain client per request; swap in a counted one with the same
    token and endpoint, so the handlers' calls (views.open...) show in the metrics."""
    plain = context.client
    context["client"] = MeteredClient(
        token=plain.token, base_url=plain.base_url, timeout=plain.timeout, headers=plain.headers
    )
    next()


def log_failure(error: Exception) -> None:
    """A listener that failed, logged by its kind and place only.

    Bolt's own handler logs the exception's message with its traceback, and a message
    can quote what a person typed (a form value, a button value): that must not reach
    the logs. The kind and the innermost frame of Steward's own code find the bug."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    where = f" at {ours[-1].filename.rsplit('/', 1)[-1]}:{ours[-1].lineno}" if ours else ""
    log.error("a Slack listener failed (%s%s)", type(error).__name__, where)
