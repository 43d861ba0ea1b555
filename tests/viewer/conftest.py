"""The viewer tests use the Slack test stack: the emulator, the real Bolt app, the outbox."""

from tests.slack.conftest import stack  # noqa: F401
