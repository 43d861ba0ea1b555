"""The composition root: builds Steward's pieces from the settings and starts them.

This is the only module that knows all three packages (core, mailgateway,
slackapp); each of them knows only the core.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from typing import Any

from core.correspondence import is_on_record
from core.db import Database
from core.outbox import OutboxWorker
from core.settings import Settings
from mailgateway.ingest import MailIngest
from mailgateway.outbound import EmailDeliverer
from mailgateway.server import MailServer

log = logging.getLogger("steward")


def open_database(settings: Settings, upgrade: bool | None = None) -> Database:
    """Open the record; an embedded SQLite file is brought up to date automatically.

    On PostgreSQL, schema changes are an operator's deliberate step
    (`steward db upgrade`), so several processes never race to migrate.
    """
    db = Database(settings.database_url)
    if upgrade is None:
        upgrade = db.dialect == "sqlite"
    if upgrade:
        db.upgrade()
    elif not db.has_schema():
        raise SystemExit("The database has no Steward schema yet: run `steward db upgrade`.")
    return db


def recipient_guard(db: Database) -> Any:
    def guard(case_id: int | None, address: str) -> bool:
        if case_id is None:
            return False
        with db.session() as session:
            return is_on_record(session, case_id, address)

    return guard


def build_outbox_worker(db: Database, settings: Settings, **kwargs: Any) -> OutboxWorker:
    deliverers = {"email": EmailDeliverer(settings, recipient_guard(db))}
    return OutboxWorker(db, deliverers, **kwargs)


def build_mail_server(db: Database, settings: Settings) -> MailServer:
    return MailServer(MailIngest(db, settings), settings, settings.smtp_host, settings.smtp_port)


@dataclass
class Services:
    """What a process runs; stopped in reverse order of starting."""

    started: list[Any] = field(default_factory=list)

    def start(self, service: Any) -> Any:
        service.start()
        self.started.append(service)
        return service

    def stop(self) -> None:
        for service in reversed(self.started):
            try:
                service.stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("error while stopping %s", type(service).__name__)
        self.started.clear()


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM, so Ctrl-C and process managers both stop us cleanly."""
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    while not stop.wait(1.0):
        pass
