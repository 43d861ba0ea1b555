"""Fixtures for the mail gateway: the real aiosmtpd server, and a real sink for our mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from core.infra.db import Database
from core.infra.outbox import OutboxWorker
from core.infra.settings import Settings
from mailgateway.server import MailServer
from steward import runtime
from tests.conftest import free_port
from tests.smtp_helpers import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink(free_port()) as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: Sink) -> Settings:
    return replace(settings, outbound_smtp_url=sink.url)


@contextmanager
def running_gateway(db: Database, settings: Settings) -> Iterator[MailServer]:
    """The real gateway with these settings, stopped when the block ends."""
    server = runtime.build_mail_server(db, settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway(db: Database, mail_settings: Settings) -> Iterator[MailServer]:
    with running_gateway(db, mail_settings) as server:
        yield server


@pytest.fixture
def worker(db: Database, mail_settings: Settings) -> OutboxWorker:
    """The real outbox worker; tests call run_once() to deliver what is due."""
    return runtime.build_outbox_worker(db, mail_settings)
