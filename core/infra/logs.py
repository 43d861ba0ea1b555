"""Steward's log lines: one JSON object a line for a log collector, plain text on a terminal.

Every line about one case, outbox row, deadline or stored form carries its
reference as a field (`case`, `outbox_id`, `deadline_id`, `submission_id`), so
an operator can follow one case through the web, mail and worker processes.
Callers pass them with `extra=about(...)`. The fields are references and
kinds: like the messages, they never carry a name, an address or report text.

`STEWARD_LOG_FORMAT=json` or `text` overrides the choice made from whether
stderr is a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

CONTEXT_KEY = "steward"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def about(
    case: str | None = None,
    *,
    case_id: int | None = None,
    outbox_id: int | None = None,
    deadline_id: int | None = None,
    submission_id: int | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """The `extra=` of a log call: which case, row or deadline the line is about.

    A case is named by its reference; `case_id` is turned into one when only the
    id is at hand."""
    if case is None and case_id is not None:
        case = f"COC-{case_id}"
    fields = {
        "case": case,
        "outbox_id": outbox_id,
        "deadline_id": deadline_id,
        "submission_id": submission_id,
        "kind": kind,
    }
    return {CONTEXT_KEY: {name: value for name, value in fields.items() if value is not None}}


def context_of(record: logging.LogRecord) -> dict[str, Any]:
    return dict(getattr(record, CONTEXT_KEY, None) or {})


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the references, the error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_of(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with the references appended: `... [case=COC-3 outbox_id=12]`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        text = super().formatMessage(record)
        fields = context_of(record)
        if fields:
            text += " [" + " ".join(f"{name}={value}" for name, value in fields.items()) + "]"
        return text


def formatter_for(stream: TextIO) -> logging.Formatter:
    choice = (os.environ.get("STEWARD_LOG_FORMAT") or "").strip().lower()
    if choice not in ("json", "text"):
        isatty = getattr(stream, "isatty", lambda: False)
        choice = "text" if isatty() else "json"
    return JsonFormatter() if choice == "json" else TextFormatter()


def handler(stream: TextIO | None = None) -> logging.Handler:
    """A stderr handler in the format that suits where stderr goes."""
    stream = stream or sys.stderr
    out = logging.StreamHandler(stream)
    out.setFormatter(formatter_for(stream))
    return out
