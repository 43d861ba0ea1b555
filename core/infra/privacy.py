"""Keeping personal data out of logs, including the logs of libraries we use.

Some libraries log what passes through them at DEBUG or INFO: aiosmtpd logs
each SMTP line (addresses, message text), slack_sdk logs request bodies (a
report modal's content). A filter on their loggers drops those records however
the operator configures logging, so turning on DEBUG never leaks a report.
"""

from __future__ import annotations

import logging

from core.infra import logs


class _AtLeast(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def silence_below(logger_name: str, level: int = logging.WARNING) -> None:
    """Drop a library's records below `level`; idempotent.

    The level covers the library's child loggers (they inherit it); the filter
    holds even if someone lowers the level of this logger later.
    """
    logger = logging.getLogger(logger_name)
    if logger.level < level:
        logger.setLevel(level)
    if not any(isinstance(f, _AtLeast) for f in logger.filters):
        logger.addFilter(_AtLeast(level))


QUIET_LOGGERS = ("alembic", "mail.log", "slack_bolt", "slack_sdk")


def configure_logging() -> None:
    """The service's logging, the same in every process it starts: INFO and up, as JSON
    lines or text (see `core.infra.logs`), with the libraries that speak about message content
    held at WARNING."""
    logging.basicConfig(level=logging.INFO, handlers=[logs.handler()])
    for name in QUIET_LOGGERS:
        silence_below(name)
