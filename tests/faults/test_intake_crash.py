"""Crash during intake: `steward mail` killed with SIGKILL at random points of a load.

The client resends whatever did not get 250, as a mail server does. Afterwards
every message is stored exactly once: a message committed just before the kill
(whose 250 never left) comes back and is recognised by its Message-ID.
Bounded: 200 messages and 3 kills (1,000 and 10 with --long).
"""

from __future__ import annotations

import contextlib
import queue
import random
import smtplib
import threading
import time
from collections import Counter
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from sqlalchemy import func, select

from core.infra.db import Database
from core.infra.models import Case, InboundMessage
from core.infra.settings import Settings
from tests.conftest import free_port
from tests.faults.conftest import Steward
from tests.followups.conftest import wait_until

READY = "Steward mail gateway"
CONNECTIONS = 4


def report(n: int) -> tuple[str, str, bytes]:
    """(Message-ID, sender, bytes): a new report from its own sender."""
    sender = f"member{n}@example.net"
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "conduct@example.org"
    msg["Subject"] = f"Report {n}: remarks in the forum"
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id = f"<crash-{n}@example.net>"
    msg.set_content(f"Report {n}. Someone kept mocking my accent after I asked them to stop.\n")
    return message_id, sender, msg.as_bytes()


class Client:
    """Several SMTP sessions that resend, after reconnecting, what did not get 250."""

    def __init__(self, port: int, load: list[tuple[str, str, bytes]]) -> None:
        self.port = port
        self.todo: queue.Queue[tuple[str, str, bytes]] = queue.Queue()
        for item in load:
            self.todo.put(item)
        self.accepted: Counter[str] = Counter()
        self.refused: list[tuple[str, int]] = []
        self.resent = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._session) for _ in range(CONNECTIONS)]

    def run(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)

    def _session(self) -> None:
        client: smtplib.SMTP | None = None
        while True:
            try:
                item = self.todo.get_nowait()
            except queue.Empty:
                break
            message_id, sender, raw = item
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
                client.sendmail(sender, ["conduct@example.org"], raw)
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    with self._lock:
                        self.refused.append((message_id, exc.smtp_code))
                    continue
                self._again(item)
                client = _close(client)
            except (OSError, smtplib.SMTPException):  # the server died under us
                self._again(item)
                client = _close(client)
                time.sleep(0.1)
            else:
                with self._lock:
                    self.accepted[message_id] += 1
        _close(client)

    def answered(self) -> int:
        with self._lock:
            return sum(self.accepted.values())

    def _again(self, item: tuple[str, str, bytes]) -> None:
        with self._lock:
            self.resent += 1
        self.todo.put(item)


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError):
            client.close()
    return None


def test_mail_killed_during_a_load_stores_every_message_once(
    db: Database, settings: Settings, tmp_path: Path, long_mode: bool
) -> None:
    count, kills = (1000, 10) if long_mode else (200, 3)
    load = [report(n) for n in range(count)]
    port = free_port()
    env = {"STEWARD_DATABASE_URL": settings.database_url, "STEWARD_SMTP_PORT": str(port)}
    gateway = Steward("mail", tmp_path, env, READY)
    client = Client(port, load)
    client.run()
    # Random points of the load, counted in messages answered 250 so far.
    points = sorted(random.sample(range(1, count - count // 10), kills))
    try:
        for point in points:
            wait_until(lambda point=point: client.answered() >= point, timeout=60, every=0.005)
            gateway.kill()  # the gateway and its storage child, mid-load
            gateway = Steward("mail", tmp_path, env, READY)
        client.join(timeout=120)
    finally:
        gateway.stop()

    assert client.refused == []
    assert sorted(client.accepted) == sorted(m for m, _, _ in load)
    assert set(client.accepted.values()) == {1}
    assert client.resent > 0, "no kill landed during the load"
    with db.session() as session:
        stored = Counter(session.scalars(select(InboundMessage.message_id)))
        cases = session.scalar(select(func.count(Case.id)))
    assert [m for m, n in stored.items() if n > 1] == []  # nothing stored twice
    assert set(stored) == set(client.accepted)  # every 250 has its entry
    assert cases == count
