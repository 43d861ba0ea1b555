"""Fixtures for the records tests: the mail gateway and the Slack stack."""

from __future__ import annotations

from tests.gateway.conftest import gateway, mail_settings, sink  # noqa: F401 - fixtures
from tests.slack.conftest import gateway_for, stack  # noqa: F401 - fixtures
