"""The operator's features run against the same real parts as the Slack and mail tests."""

from tests.slack.conftest import gateway_for, stack  # noqa: F401 - fixtures
