"""Nothing personal is logged on the new paths: an anonymous email report and its reveal,
a case moved to a restricted room, and both cases expunged and cleared from Slack."""

from __future__ import annotations

import json
import logging

import pytest

from core.casework import cases as case_service
from core.records.retention import expunge
from mailgateway.server import MailServer
from tests.confidentiality.test_anonymity import mails_to
from tests.mail import corpus
from tests.slack.conftest import Stack
from tests.smtp_helpers import send

SECRET = "the purple umbrella incident"
ADDRESS = "casey.quill@example.net"


def test_anonymity_and_rooms_log_nothing_personal(
    stack: Stack, gateway_for: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack.report(what=f"About {SECRET}.", reported=["U_STEW1"])
    raw = corpus.plain(
        from_addr=f"Casey Quill <{ADDRESS}>", subject="Anonymous report", body=f"{SECRET}."
    )
    assert send(gateway_for.address[1], raw, mail_from=ADDRESS)[0] == 250
    stack.drain()
    [ack] = mails_to(stack, ADDRESS)
    reveal = corpus.plain(from_addr=f"Casey Quill <{ADDRESS}>", subject="Re: x", body="REVEAL")
    assert send(gateway_for.address[1], reveal, mail_from=ADDRESS, to=ack["Reply-To"])[0] == 250
    stack.drain()
    for ref in ("COC-1", "COC-2"):
        with stack.db.session() as session:
            expunge(session, case_service.get_case(session, ref))
    stack.drain()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "restricted room created" in logged
    assert "expunged case cleared from Slack" in logged
    for secret in (SECRET, "casey.quill", "Casey Quill", "U_ALEX", "U_STEW1"):
        assert secret not in logged, secret
    rooms = [c for c in stack.emulator.state()["channels"].values() if "restricted" in c["name"]]
    assert [c["name"] for c in rooms] == ["coc-1-restricted"]
    assert SECRET not in json.dumps(stack.staff_messages(rooms[0]["id"]))
    assert SECRET not in json.dumps(stack.staff_messages())
