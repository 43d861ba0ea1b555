"""automatic.classify: one test per rule, plus the cases that must stay a person's mail."""

from __future__ import annotations

import pytest

from mailgateway.automatic import classify

PERSON = "alex@example.net"


def check(
    headers: list[tuple[str, str]] | None = None,
    subject: str = "Report about the meetup",
    from_address: str | None = PERSON,
    envelope_from: str | None = PERSON,
    content_type: str = "text/plain; charset=utf-8",
    **kwargs: str,
) -> str | None:
    return classify(headers or [], subject, from_address, envelope_from, content_type, **kwargs)


def test_a_person_is_not_automatic() -> None:
    assert check([("From", PERSON), ("Subject", "Report about the meetup")]) is None


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "Auto-Notified (x)"])
def test_auto_submitted(value: str) -> None:
    assert check([("Auto-Submitted", value)]) == "auto-submitted"


@pytest.mark.parametrize("value", ["no", " No ", "no (human)"])
def test_auto_submitted_no_is_a_person(value: str) -> None:
    assert check([("Auto-Submitted", value)]) is None


@pytest.mark.parametrize("name", ["X-Autoreply", "X-Autorespond", "x-autoreply"])
def test_x_autoreply_headers(name: str) -> None:
    assert check([(name, "yes")]) == "auto-submitted"


@pytest.mark.parametrize("value", ["bulk", "junk", "list", " Bulk "])
def test_precedence(value: str) -> None:
    assert check([("Precedence", value)]) == "precedence"


def test_precedence_first_class_is_a_person() -> None:
    assert check([("Precedence", "first-class")]) is None


@pytest.mark.parametrize("name", ["List-Id", "List-Unsubscribe", "List-Post", "Mailing-List"])
def test_mailing_list(name: str) -> None:
    assert check([(name, "<x.lists.example.com>")]) == "mailing-list"


def test_list_headers_beat_precedence() -> None:
    assert check([("Precedence", "list"), ("List-Id", "<x>")]) == "mailing-list"


def test_auto_response_suppress() -> None:
    assert check([("X-Auto-Response-Suppress", "All")]) == "auto-response-suppress"


def test_our_loop_header() -> None:
    assert check([("X-Steward-Loop", "example.org")]) == "loop"
    assert check([("X-Other-Loop", "1")], loop_header="X-Other-Loop") == "loop"
    assert check([("X-Steward-Loop", "example.org")], loop_header="X-Other-Loop") is None


def test_loop_wins_over_everything_else() -> None:
    headers = [("Auto-Submitted", "auto-replied"), ("X-Steward-Loop", "example.org")]
    assert check(headers, envelope_from="") == "loop"


@pytest.mark.parametrize("envelope_from", ["", "<>", " < > "])
def test_empty_envelope_sender(envelope_from: str) -> None:
    assert check(envelope_from=envelope_from) == "empty-return-path"


def test_empty_return_path_header() -> None:
    assert check([("Return-Path", "<>")], envelope_from=None) == "empty-return-path"


def test_unknown_envelope_sender_is_not_empty() -> None:
    assert check(envelope_from=None) is None


@pytest.mark.parametrize(
    "address",
    [
        "MAILER-DAEMON@mx.example.com",
        "postmaster@example.com",
        "noreply@example.com",
        "no-reply@example.com",
        "do-not-reply@example.com",
        "donotreply@example.com",
        "no-reply+tag@example.com",
    ],
)
def test_system_senders(address: str) -> None:
    assert check(from_address=address.lower()) == "system-sender"
    assert check(from_address=PERSON, envelope_from=address) == "system-sender"


def test_reply_in_a_local_part_is_not_a_system_sender() -> None:
    assert check(from_address="reply.desk@example.com") is None


@pytest.mark.parametrize(
    "content_type",
    [
        'multipart/report; report-type=delivery-status; boundary="x"',
        "Multipart/Report; report-type=disposition-notification",
    ],
)
def test_bounce(content_type: str) -> None:
    assert check(content_type=content_type) == "bounce"


def test_bounce_wins_over_empty_return_path_and_auto_submitted() -> None:
    headers = [("Auto-Submitted", "auto-replied")]
    assert check(headers, envelope_from="", content_type="multipart/report") == "bounce"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office",
        "Out of Office: Your report",
        "Out of the office: Re: hello",
        "Out of Office AutoReply: Your report",
        "Automatic reply: [COC-1] Your report",
        "Auto-Reply: Your report",
        "Autoreply: Your report",
        "[Auto-Reply] Your report",
        "Abwesenheitsnotiz: Ihre Meldung",
        "[COC-1] Abwesenheitsnotiz: Ihre Meldung",
        "Automatische Antwort: AW: Ihre Meldung",
        "Nicht im Büro: Ihre Meldung",
        "Jonas Weber ist nicht im Büro",
        "Absence du bureau : votre signalement",
        "Réponse automatique : Votre signalement",
        "Absent du bureau",
        "Absente du bureau : signalement",
        "Respuesta automática: Su informe",
        "Fuera de la oficina: Su informe",
        "Ausente: Su informe",
        "Sam Lee is out of the office.",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    assert check(subject=subject) == "out-of-office"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: out of office harassment at the meetup",
        "Out of office hours someone messaged me",
        "Question about the automatic reply you sent",
        "Ausentes en la reunión",
        "",
    ],
)
def test_reports_that_mention_absence_are_people(subject: str) -> None:
    assert check(subject=subject) is None


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/report; report-type=feedback-report",
        "multipart/report; report-type=disposition-notification",
        "message/delivery-status",
        "Message/Global-Delivery-Status",
    ],
)
def test_every_report_shape_is_a_bounce(content_type: str) -> None:
    assert check(content_type=content_type) == "bounce"


def test_a_delivery_status_part_inside_multipart_mixed_is_a_bounce() -> None:
    parts = ["text/plain", "message/delivery-status", "message/rfc822"]
    assert check(content_type="multipart/mixed", part_types=parts) == "bounce"


@pytest.mark.parametrize("name", ["X-Failed-Recipients", "X-MS-Exchange-Message-Is-Ndr"])
def test_bounce_headers(name: str) -> None:
    assert check([(name, "gone@example.com")]) == "bounce"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([("X-Loop", "community@lists.example.com")], "x-loop"),
        ([("Feedback-ID", "1234:campaign:example")], "feedback-id"),
        ([("Precedence", "auto_reply")], "precedence"),
        ([("X-Autoresponder", "yes")], "auto-submitted"),
        ([("X-ML-Name", "neko ML")], "mailing-list"),
    ],
)
def test_header_rules(headers: list[tuple[str, str]], reason: str) -> None:
    assert check(headers) == reason


@pytest.mark.parametrize(
    "address",
    [
        "post_master@vtext.example.com",
        "Post-Master@example.com",
        "mailer_daemon@example.com",
        "community-request@lists.example.com",
        "community-owner@lists.example.com",
        "community-bounces@lists.example.com",
        "owner-community@lists.example.com",
        "noreply-12345@notifications.example.com",
        "no.reply@example.com",
        "bounces+1234@mail.example.com",
        "listserv@lists.example.com",
    ],
)
def test_more_system_senders(address: str) -> None:
    assert check(from_address=address) == "system-sender"


@pytest.mark.parametrize(
    "address", ["requester@example.com", "owner.jones@example.com", "nora.reply@example.com"]
)
def test_people_whose_addresses_look_a_little_like_robots(address: str) -> None:
    assert check(from_address=address) is None


def test_a_delivery_system_known_only_by_its_display_name() -> None:
    headers = [("From", "MAILER-DAEMON <>"), ("Subject", "Nyaan")]
    assert check(headers, from_address=None) == "system-sender"
    headers = [("From", '"Mail Delivery System" <relay@example.com>')]
    assert check(headers, from_address="relay@example.com") == "system-sender"


@pytest.mark.parametrize(
    "subject",
    [
        "Returned Mail - Error During Delivery",
        "Returned mail: see transcript for details",
        "Mail could not be delivered",
        "Delivery failure notification",
        "Delivery Status Notification (Failure)",
        "Undeliverable: Your report",
        "Undelivered Mail Returned to Sender",
        "failure notice",
        "Mail delivery failed: returning message to sender",
        "[Postmaster] Email Delivery Failure",
        "RE: Your message to community awaits moderator approval",
        "Unzustellbar: Ihre Meldung",
        "Non remis : votre signalement",
        "No se puede entregar: Su informe",
        "Onbestelbaar: uw melding",
        "Não foi possível entregar: relatório",
        "Non recapitabile: segnalazione",
        "Niedostarczalne: zgłoszenie",
        "Недоставленное сообщение",
        "Nepiegādāts: ziņojums",
        "メッセージを配信できません。",
        "系统退信",
    ],
)
def test_delivery_failure_subjects(subject: str) -> None:
    assert check(subject=subject) == "bounce"


@pytest.mark.parametrize(
    "subject",
    [
        "[AUTO GENERATED] Your report",
        "Automātiskā atbilde: Jūsu ziņojums",
        "Prombūtnē: Jūsu ziņojums",
        "Resposta automática: O seu relatório",
        "Automatisch antwoord: uw melding",
        "Автоматический ответ: Ваше сообщение",
        "Odpowiedź automatyczna: zgłoszenie",
        "Risposta automatica: segnalazione",
        "自動応答: ご報告",
        "自动回复: 您的报告",
        "AutoRespons :Nyaan?",
    ],
)
def test_out_of_office_subjects_in_more_languages(subject: str) -> None:
    assert check(subject=subject) == "out-of-office"


@pytest.mark.parametrize(
    "subject",
    [
        "Fwd: Undelivered Mail Returned to Sender",
        "Fw: Automatic reply: Your report",
        "WG: Unzustellbar: Ihre Meldung",
        "Re: delivery failure of my earlier mail",
        "Delivered by hand: my report",
        "Absent friends at the meetup",
        "Absent-minded remarks at the meetup",
        "Urlaub-Fotos ohne Zustimmung geteilt",
        "外出时被骚扰",
        "Undelivered promises from the organisers",
        "Non-delivery of the refund",
        "Message delayed by moderators?",
        "Mail delivery failed to reach the steward? Test",
        "Delivery report of the harassment",
        "Returned to the venue and he was there",
        "Failure to act on my last report",
    ],
)
def test_forwards_and_reports_about_mail_are_people(subject: str) -> None:
    assert check(subject=subject) is None
