"""The composition root: builds Steward's pieces from the settings and starts them.

This is the only module that knows all three packages (core, mailgateway,
slackapp); each of them knows only the core.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.casework.correspondence import is_on_record
from core.casework.notify import CHAT, STAFF
from core.casework.scheduler import DeadlineScheduler
from core.infra.db import Database
from core.infra.election import SchedulerElection
from core.infra.health import Health
from core.infra.outbox import OutboxWorker
from core.infra.settings import Settings
from mailgateway.ingest import MailIngest
from mailgateway.outbound import EmailDeliverer
from mailgateway.server import MailServer
from mailgateway.storage import StorageProcess
from slackapp.app import build_app
from slackapp.context import SlackContext, make_client
from slackapp.delivery import SlackDeliverer
from slackapp.emulator import SlackEmulator
from slackapp.intake import SubmissionJournal, SubmissionProcessor
from slackapp.socketmode import SocketModeService
from slackapp.stewards import StewardDirectory
from slackapp.web import WebServer, make_wsgi

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


def build_outbox_worker(
    db: Database, settings: Settings, slack: SlackContext | None = None, **kwargs: Any
) -> OutboxWorker:
    """The outbox worker with a deliverer per channel; chat rows wait until Slack is set up."""
    deliverers: dict[str, Any] = {"email": EmailDeliverer(settings, recipient_guard(db))}
    if slack is not None:
        chat = SlackDeliverer(slack)
        deliverers.update({STAFF: chat, CHAT: chat})
    return OutboxWorker(db, deliverers, **kwargs)


def build_slack(db: Database, settings: Settings) -> SlackContext | None:
    """The Slack side, if a bot token is configured (or the emulator stands in)."""
    if not settings.slack_bot_token:
        return None
    client = make_client(settings)
    directory = StewardDirectory(client, settings.staff_channel, settings.stewards)
    return SlackContext(
        db=db,
        settings=settings,
        client=client,
        stewards=directory,
        journal=SubmissionJournal(db),
    )


def build_submission_processor(slack: SlackContext) -> SubmissionProcessor:
    """Opens cases from stored report forms; the web handler wakes it after each one."""
    processor = SubmissionProcessor(slack)
    slack.submitted = processor.wake
    return processor


def build_web_server(slack: SlackContext) -> WebServer:
    settings = slack.settings
    wsgi = make_wsgi(build_app(slack), build_health(slack.db, settings))
    return WebServer(wsgi, settings.web_host, settings.web_port)


def build_health(
    db: Database, settings: Settings, details: Callable[[], dict[str, Any]] | None = None
) -> Health:
    """What `/readyz` checks for this process; `details` adds what only it knows."""
    return Health(db, settings.ready_max_outbox_age_seconds, details or (lambda: {}))


def build_health_server(health: Health, settings: Settings, port: int) -> WebServer:
    """`/healthz`, `/readyz` and `/metrics` on a port of their own (mail, worker)."""
    return WebServer(health.wsgi(), settings.web_host, port, threads=2)


def build_socket_mode(slack: SlackContext) -> SocketModeService:
    """The same app over Socket Mode, for workspaces that cannot expose a URL."""
    assert slack.settings.slack_app_token, "Socket Mode needs SLACK_APP_TOKEN"
    return SocketModeService(build_app(slack), slack.settings.slack_app_token)


def start_emulator(settings: Settings) -> tuple[SlackEmulator, Settings]:
    """The embedded Slack workspace for a machine with no Slack token: the demo and tests."""
    emulator = SlackEmulator(port=settings.emulator_port).start()
    settings = settings.with_overrides(
        slack_bot_token=emulator.bot_token,
        slack_signing_secret=emulator.signing_secret,
        slack_api_url=emulator.api_url,
        staff_channel=settings.staff_channel or "G_STAFF",
        escalation_channel=settings.escalation_channel or "G_ESCALATE",
    )
    # The viewer opens on the staff channel, and lists the mail the demo writes to files.
    mail_dir = None if settings.outbound_smtp_url else settings.mail_out_dir
    emulator.viewer.configure(mail_dir=mail_dir, home_channel=settings.staff_channel)
    return emulator, settings


def build_scheduler(
    db: Database, settings: Settings, outbox: OutboxWorker | None = None
) -> DeadlineScheduler:
    """The worker's deadline scheduler; it nudges the outbox when a deadline has fired."""
    return DeadlineScheduler(db, settings, on_fired=outbox.wake if outbox else None)


def build_election(
    db: Database, settings: Settings, outbox: OutboxWorker | None = None
) -> SchedulerElection:
    """The scheduler, run only by the worker that holds the lock (on PostgreSQL)."""
    return SchedulerElection(db, lambda: build_scheduler(db, settings, outbox))


def build_mail_server(db: Database, settings: Settings) -> MailServer:
    """The SMTP gateway; it commits in a storage process of its own unless told not to."""
    ingest = MailIngest(db, settings)
    storage = StorageProcess(settings) if settings.mail_storage_process else None
    return MailServer(ingest, settings, settings.smtp_host, settings.smtp_port, storage=storage)


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
