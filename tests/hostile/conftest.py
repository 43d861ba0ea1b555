"""Hostile input: Hypothesis profiles, and a watch on the logs for crashes.

The fuzzing tests run a bounded number of examples in CI (the `steward-ci`
profile). Pass `--long` (or set `STEWARD_LONG_TESTS=1`) for the deep run (`steward-long`): many
times the examples, for a night or before a release:

    .venv/bin/pytest tests/hostile -q --long

Each test draws its own count with `examples(n)`: `n` in CI, `LONG_FACTOR * n`
in the long mode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings

# The real gateway and the Slack stack, as the other suites start them.
from tests.gateway.conftest import mail_settings, sink  # noqa: F401
from tests.slack.conftest import gateway_for, stack  # noqa: F401

LONG = os.environ.get("STEWARD_LONG_TESTS", "").lower() in {"1", "true", "yes"}
LONG_FACTOR = 25

# The servers under test (gateway, Bolt app, emulator) are started once per test
# and shared by all its examples, as a real deployment shares them between senders;
# the examples are slow by unit-test standards because each is a real SMTP or HTTP
# conversation.
_COMMON = {
    "deadline": None,
    "derandomize": False,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}
settings.register_profile("steward-ci", max_examples=40, **_COMMON)
settings.register_profile("steward-long", max_examples=40 * LONG_FACTOR, **_COMMON)
settings.load_profile("steward-long" if LONG else "steward-ci")


def pytest_configure(config: pytest.Config) -> None:
    """`--long` chooses the deep profile too; this runs before the test modules are
    imported, which is when `examples` reads the mode."""
    global LONG
    if config.getoption("--long", default=False) and not LONG:
        LONG = True
        settings.load_profile("steward-long")


def examples(n: int) -> settings:
    """Hypothesis settings for a test worth `n` examples in CI (more in the long mode)."""
    return settings(max_examples=n * LONG_FACTOR if LONG else n)


class LogWatch(logging.Handler):
    """Every record at ERROR or above, or carrying a traceback, from any logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.stack_info:
            self.records.append(record)

    def crashes(self) -> list[str]:
        return [
            f"{r.name} {r.levelname}: {r.getMessage()}"
            + (f" ({r.exc_info[0].__name__})" if r.exc_info and r.exc_info[0] else "")
            for r in self.records
        ]

    def clear(self) -> None:
        self.records.clear()


@contextmanager
def watching_logs() -> Iterator[LogWatch]:
    """Attach a LogWatch to the root logger, where every Steward and library logger ends."""
    watch = LogWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
