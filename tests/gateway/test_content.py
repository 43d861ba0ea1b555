"""The corpus over real SMTP: encodings, HTML, attachments, automatic mail, authentication."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.db import Database
from core.infra.models import Attachment, OutboxItem
from core.infra.settings import Settings
from mailgateway.server import MailServer
from tests.gateway.conftest import running_gateway
from tests.mail import corpus
from tests.smtp_helpers import send


def report_entry(db: Database, ref: str = "COC-1"):  # noqa: ANN201 - a detached Entry
    with db.session() as session:
        return case_service.get_case(session, ref).entries[0]


def test_encoded_subjects_are_decoded(gateway: MailServer, db: Database) -> None:
    samples = corpus.rfc2047_subjects()
    for raw, _expected in samples:
        assert send(gateway.address[1], raw)[0] == 250
    for number, (_raw, expected) in enumerate(samples, start=1):
        assert report_entry(db, f"COC-{number}").data["subject"] == expected


def test_raw_8bit_utf8_over_smtputf8(gateway: MailServer, db: Database) -> None:
    raw = corpus.raw_8bit_utf8()
    code, _ = send(gateway.address[1], raw, options=["SMTPUTF8", "BODY=8BITMIME"])
    assert code == 250
    entry = report_entry(db)
    assert "é" in entry.data["subject"] or "ü" in entry.data["subject"]
    assert any(ord(ch) > 127 for ch in entry.text)


def test_html_only_mail_is_readable(gateway: MailServer, db: Database) -> None:
    assert send(gateway.address[1], corpus.html_only())[0] == 250
    entry = report_entry(db)
    assert "<" not in entry.text and entry.text.strip()


def test_attachments_keep_their_non_ascii_names(gateway: MailServer, db: Database) -> None:
    assert send(gateway.address[1], corpus.attachment_non_ascii())[0] == 250
    with db.session() as session:
        names = sorted(a.filename for a in session.scalars(select(Attachment)))
    assert names == sorted(["Übersicht März.pdf", "報告.txt"])


def test_refused_attachments_are_reported_on_the_case(
    db: Database, mail_settings: Settings
) -> None:
    settings = replace(mail_settings, max_attachments=1)
    with running_gateway(db, settings) as server:
        assert send(server.address[1], corpus.attachment_non_ascii())[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        stored = session.scalars(select(Attachment)).all()
        assert len(stored) == 1
        system = [e for e in case.entries if e.kind == "system"]
        assert system and "not stored" in system[0].text
        assert system[0].data["refused"] == ["too_many"]


@pytest.mark.parametrize(
    ("builder", "reason"),
    [
        (corpus.vacation_autoreply, None),
        (corpus.dsn_bounce, "bounce"),
        (corpus.mailing_list, "mailing-list"),
        (corpus.ooo_german, "out-of-office"),
        (corpus.ooo_french, "out-of-office"),
    ],
)
def test_automatic_mail_is_recorded_but_never_acknowledged(
    gateway: MailServer,
    db: Database,
    builder,
    reason: str | None,  # noqa: ANN001
) -> None:
    assert send(gateway.address[1], builder())[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.flags["automatic"]
        if reason:
            assert case.flags["automatic"] == reason
        assert session.scalars(select(OutboxItem).where(OutboxItem.channel == "email")).all() == []


def test_automatic_mail_on_an_existing_case_is_an_automatic_entry(
    gateway: MailServer, db: Database
) -> None:
    assert send(gateway.address[1], corpus.plain(subject="my report"))[0] == 250
    # The reporter's own out-of-office answers our acknowledgement.
    auto = corpus.plain(subject="Abwesenheitsnotiz: [COC-1] Your report", body="Bin weg.")
    assert send(gateway.address[1], auto)[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert [e.kind for e in case.entries] == ["report", "automatic_mail"]


def test_sender_is_unverified_when_our_dmarc_check_failed(
    gateway: MailServer, db: Database
) -> None:
    raw = corpus.plain(
        extra_headers={"Authentication-Results": "mx.example.org; dkim=fail; spf=pass; dmarc=fail"}
    )
    assert send(gateway.address[1], raw)[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.flags.get("unverified_sender") is True
        assert case.entries[0].data["sender_verified"] is False


def test_an_upstream_header_claiming_our_authserv_id_is_ignored(
    gateway: MailServer, db: Database
) -> None:
    forged = (
        b"Received: from relay.example.net by mx.example.org; Sat, 21 Nov 2026 10:00:00 +0000\r\n"
        b"Authentication-Results: mx.example.org; dkim=pass; dmarc=pass\r\n"
    )
    raw = forged + corpus.plain()
    assert send(gateway.address[1], raw)[0] == 250
    with db.session() as session:
        case = case_service.get_case(session, "COC-1")
        assert case.entries[0].data["sender_verified"] is None
        assert "unverified_sender" not in case.flags
