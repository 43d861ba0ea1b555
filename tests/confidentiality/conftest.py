"""The Slack stack (emulator, Bolt app, outbox) and the mail gateway, shared with tests/slack."""

from tests.slack.conftest import gateway_for, stack

__all__ = ["gateway_for", "stack"]
