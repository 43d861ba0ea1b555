"""parse_message over the corpus: headers, bodies, attachments, defects, robustness."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from mailgateway import parsing
from mailgateway.parsing import normalise_line_endings, parse_message
from tests.mail import corpus

LIMITS = {"max_attachment_bytes": 1_000_000, "max_attachments": 10}


def parse(raw: bytes, envelope_from: str | None = "alex@example.net", **overrides: object):  # noqa: ANN201
    options: dict[str, object] = {"authserv_id": "mx.example.org", **LIMITS, **overrides}
    return parse_message(raw, envelope_from=envelope_from, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- line endings


def test_bare_lf_becomes_crlf_everywhere() -> None:
    raw = b"From: a@example.net\nSubject: hi\n\nline one\nline two\n"
    assert normalise_line_endings(raw) == (
        b"From: a@example.net\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n"
    )


def test_bare_cr_in_a_header_becomes_a_space() -> None:
    raw = b"Subject: hello\rX-Injected: yes\r\nFrom: a@example.net\r\n\r\nbody\r\n"
    assert normalise_line_endings(raw) == (
        b"Subject: hello X-Injected: yes\r\nFrom: a@example.net\r\n\r\nbody\r\n"
    )


def test_bare_cr_in_the_body_becomes_crlf() -> None:
    raw = b"Subject: x\r\n\r\none\rtwo\r\nthree\n"
    assert normalise_line_endings(raw) == b"Subject: x\r\n\r\none\r\ntwo\r\nthree\r\n"


def test_a_line_of_only_cr_still_ends_the_headers() -> None:
    raw = b"Subject: x\r\n\r\r\nbody\r\n"
    assert normalise_line_endings(raw) == b"Subject: x\r\n\r\nbody\r\n"


def test_normalising_twice_changes_nothing() -> None:
    for raw in (corpus.bare_cr_injection(), corpus.nested_multipart(), b"Subject: x\nno body"):
        once = normalise_line_endings(raw)
        assert normalise_line_endings(once) == once


def test_clean_crlf_mail_is_left_byte_for_byte() -> None:
    raw = corpus.nested_multipart()
    assert normalise_line_endings(raw) == raw


# --------------------------------------------------------------------------- header injection


def test_bare_cr_injection_adds_no_header() -> None:
    mail = parse(corpus.bare_cr_injection())
    names = [name.lower() for name, _ in mail.headers]
    assert "x-injected" not in names
    assert mail.subject == "hello X-Injected: yes"
    assert message_from_bytes(mail.raw, policy=policy.default)["X-Injected"] is None
    assert b"\r\r" not in mail.raw
    assert "BareCRInHeaderDefect" in mail.defects


def test_inline_bare_cr_example_from_the_contract() -> None:
    raw = b"From: a@example.net\r\nSubject: hello\rX-Injected: yes\r\n\r\nbody\r\n"
    mail = parse(raw)
    assert [n for n, _ in mail.headers] == ["From", "Subject"]
    assert mail.body_text == "body"


def test_encoded_crlf_in_a_subject_cannot_reach_outgoing_headers() -> None:
    raw = corpus.plain(subject="placeholder").replace(
        b"Subject: placeholder", b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@example.com?="
    )
    mail = parse(raw)
    assert mail.subject == "hi  Bcc: x@example.com"
    assert "\r" not in mail.subject and "\n" not in mail.subject


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    corpus.rfc2047_subjects(),
    ids=["utf-8", "iso-8859-1", "shift_jis", "mixed", "split-utf-8"],
)
def test_rfc2047_subjects_decode(raw: bytes, expected: str) -> None:
    assert parse(raw).subject == expected


def test_raw_8bit_utf8_headers_and_body_decode() -> None:
    mail = parse(corpus.raw_8bit_utf8())
    assert mail.subject == "Vorfall beim Café-Treffen – Grüße aus Zürich"
    assert mail.from_name == "Zoë Müller"
    assert mail.from_address == "zoe@example.net"
    assert mail.body_text == "Beim Treffen in Zürich wurde ich belästigt.\n日本語のメモも添えます。"
    assert mail.defects == []


def test_addresses_are_lowercased_addr_specs() -> None:
    raw = corpus.plain(
        from_addr="Alex Example <Alex@Example.NET>",
        to="Conduct <Conduct@Example.org>, other@Example.org",
        extra_headers={"Cc": '"Doe, Jane" <Jane@Example.com>'},
    )
    mail = parse(raw)
    assert mail.from_address == "alex@example.net"
    assert mail.from_name == "Alex Example"
    assert mail.to == ["conduct@example.org", "other@example.org"]
    assert mail.cc == ["jane@example.com"]


def test_message_ids_keep_angle_brackets_and_order() -> None:
    raw = corpus.plain(
        message_id="<abc@example.net>",
        in_reply_to="<parent@example.org>",
        references=["<root@example.org>", "<middle@example.org>", "<parent@example.org>"],
    )
    mail = parse(raw)
    assert mail.message_id == "<abc@example.net>"
    assert mail.in_reply_to == ["<parent@example.org>"]
    assert mail.references == ["<root@example.org>", "<middle@example.org>", "<parent@example.org>"]


def test_folded_references_and_whitespace_inside_ids() -> None:
    raw = (
        b"From: a@example.net\r\nMessage-ID:  < spaced@example.net >\r\n"
        b"References: <one@example.org>\r\n <two@example.org>\r\n\t<three@example.org>\r\n"
        b"\r\nbody\r\n"
    )
    mail = parse(raw)
    assert mail.message_id == "<spaced@example.net>"
    assert mail.references == ["<one@example.org>", "<two@example.org>", "<three@example.org>"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"bare@example.net", "<bare@example.net>"), (b"   ", None)],
)
def test_bare_or_blank_message_id(value: bytes, expected: str | None) -> None:
    raw = b"From: a@example.net\r\nMessage-ID: " + value + b"\r\n\r\nbody\r\n"
    assert parse(raw).message_id == expected


def test_missing_message_id_is_none() -> None:
    mail = parse(corpus.no_message_id())
    assert mail.message_id is None
    assert mail.body_text == "Sent by a very old client."


def test_date_is_timezone_aware() -> None:
    mail = parse(corpus.plain())
    assert mail.date == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert mail.date is not None and mail.date.utcoffset() == timedelta(0)


def test_headers_are_listed_top_to_bottom_and_decoded() -> None:
    raw = (
        b"Received: from a by b; Mon, 03 Mar 2025 10:00:00 +0000\r\n"
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nX-Folded: one\r\n two\r\n\r\nbody\r\n"
    )
    assert parse(raw).headers == [
        ("Received", "from a by b; Mon, 03 Mar 2025 10:00:00 +0000"),
        ("Subject", "Grüße"),
        ("X-Folded", "one two"),
    ]


# --------------------------------------------------------------------------- bodies


def test_plain_body_and_reply_text() -> None:
    mail = parse(corpus.plain(body="He kept following me.\n"))
    assert mail.body_text == "He kept following me."
    assert mail.reply_text == "He kept following me."
    assert mail.body_html is None


def test_html_only_mail_becomes_readable_text() -> None:
    mail = parse(corpus.html_only())
    assert mail.body_html is not None and "<script>" in mail.body_html
    assert mail.body_text == (
        "Hello conduct team,\n\n"
        'At the meetup someone kept "joking" about me.\nIt happened twice.\n\n'
        "- First at the bar\n- Then during the talk\n\n"
        "Screenshot: here (https://example.net/s/1)\n\n"
        "> Earlier message that was quoted"
    )
    assert "alert" not in mail.body_text and "color" not in mail.body_text
    assert "ignored title" not in mail.body_text
    assert mail.reply_text.endswith("here (https://example.net/s/1)")


def test_html_to_text_keeps_preformatted_lines() -> None:
    assert parsing.html_to_text("<pre>a\n  b</pre><p>x&nbsp;&amp;&lt;y</p>") == "a\n  b\n\nx &<y"


def test_nested_multipart_picks_the_plain_part_and_keeps_files() -> None:
    mail = parse(corpus.nested_multipart())
    assert mail.body_text == corpus.NESTED_PLAIN.strip()
    assert mail.body_html is not None and "<b>HTML</b>" in mail.body_html
    assert [(a.filename, a.original_filename, a.content_type) for a in mail.attachments] == [
        ("attachment-1.png", None, "image/png"),
        ("evidence.pdf", "evidence.pdf", "application/pdf"),
    ]
    assert mail.attachments[0].content == corpus.PNG_BYTES
    assert mail.attachments[1].content == corpus.PDF_BYTES


def test_attached_message_is_a_file_and_is_shown_as_forwarded_after_the_note() -> None:
    inner = corpus.plain(subject="forwarded evidence", body="INNER TEXT\n")
    outer = corpus.plain(body="See the attached mail.\n")
    message = message_from_bytes(outer, policy=policy.SMTP)
    message.add_attachment(message_from_bytes(inner, policy=policy.SMTP))  # type: ignore[attr-defined]
    mail = parse(message.as_bytes())
    forwarded = (
        "---------- Forwarded message ----------\n"
        f"From: {corpus.DEFAULT_FROM}\nDate: {corpus.DATE}\nSubject: forwarded evidence\n"
        f"To: {corpus.DEFAULT_TO}\n\nINNER TEXT"
    )
    assert mail.body_text == f"See the attached mail.\n\n{forwarded}"
    assert mail.reply_text == mail.body_text
    [attached] = mail.attachments
    assert attached.content_type == "message/rfc822" and attached.filename == "attachment-1.eml"
    assert b"INNER TEXT" in attached.content


def test_undeclared_or_unknown_charsets_fall_back_to_utf8() -> None:
    raw = (
        "From: a@example.net\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nnaïve\r\n"
    ).encode()
    mail = parse(raw)
    assert mail.body_text == "naïve"
    assert "CharsetDecodeDefect" in mail.defects


def test_latin1_body_decodes_with_its_declared_charset() -> None:
    raw = (
        b"From: a@example.net\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        b"Gr\xfc\xdfe\r\n"
    )
    assert parse(raw).body_text == "Grüße"


# --------------------------------------------------------------------------- attachments


def test_non_ascii_attachment_names_survive() -> None:
    mail = parse(corpus.attachment_non_ascii())
    assert [a.filename for a in mail.attachments] == list(corpus.ATTACHMENT_NAMES)
    assert [a.original_filename for a in mail.attachments] == list(corpus.ATTACHMENT_NAMES)
    assert mail.attachments[1].content == corpus.REPORT_TXT
    assert mail.body_text == "Please see the two attached files."


def test_attachment_limits_refuse_with_reasons() -> None:
    mail = parse(corpus.attachment_non_ascii(), max_attachments=1)
    assert [a.filename for a in mail.attachments] == ["Übersicht März.pdf"]
    assert [(r.original_filename, r.reason) for r in mail.refused] == [("報告.txt", "too_many")]

    mail = parse(corpus.attachment_non_ascii(), max_attachment_bytes=50)
    assert [a.filename for a in mail.attachments] == ["報告.txt"]
    [refused] = mail.refused
    assert (refused.reason, refused.size, refused.content_type) == (
        "too_large",
        len(corpus.PDF_BYTES),
        "application/pdf",
    )


def test_oversized_message_is_parsed() -> None:
    raw = corpus.oversized(300_000)
    assert len(raw) >= 300_000
    mail = parse(raw)
    assert mail.body_text.startswith(corpus.OVERSIZED_LINE.strip())
    assert mail.reply_text == mail.body_text


# --------------------------------------------------------------------------- robustness


def test_malformed_mime_records_defects_and_keeps_text() -> None:
    mail = parse(corpus.malformed_mime())
    assert "StartBoundaryNotFoundDefect" in mail.defects
    assert corpus.MALFORMED_TEXT in mail.body_text
    assert mail.subject == "Broken MIME"


def test_multipart_without_boundary_parameter() -> None:
    raw = (
        b"From: a@example.net\r\nSubject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\nstill here\r\n--x--\r\n"
    )
    mail = parse(raw)
    assert "NoBoundaryInMultipartDefect" in mail.defects
    assert "still here" in mail.body_text


def test_absurd_nesting_falls_back_to_headers() -> None:
    mail = parse(corpus.deeply_nested())
    assert mail.subject == "Deeply nested"
    assert "ParserFailureDefect" in mail.defects
    assert mail.from_address == "alex@example.net"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"\x00\xff\xfe garbage without headers",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b"Subject: =?bogus-charset?q?x?= =?utf-8?b?####?=\r\n\r\n",
        b'Content-Type: text/plain; charset="\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n',
        b'From: "unterminated <a@\r\nTo: ,,,,@@\r\nDate: 99 Foo 20251 99:99\r\n\r\nx',
    ],
)
def test_garbage_never_raises(raw: bytes) -> None:
    mail = parse(raw)
    assert isinstance(mail.body_text, str)
    assert isinstance(mail.defects, list)


def test_an_internal_error_still_returns_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_message: object) -> None:
        raise ValueError("simulated bug")

    monkeypatch.setattr(parsing, "_walk", broken)
    mail = parse(corpus.plain())
    assert "InternalParserErrorDefect" in mail.defects
    assert mail.raw.startswith(b"From: alex@example.net\r\n")  # the evidence is kept


def test_no_message_content_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Sekret-Zeuge-4711"
    raw = corpus.attachment_non_ascii().replace(b"Files attached", secret.encode())
    broken = b"From: <" + secret.encode() + b"\r\nSubject: =?x?q?" + secret.encode() + b"?=\r\n\r\n"
    bounce = corpus.automatic_in_the_wild()["qmail plain-text bounce"].replace(
        b"gone@example.com", secret.encode() + b"@example.com"
    )
    with caplog.at_level(logging.DEBUG):
        parse(raw)
        parse(broken)
        parse(corpus.deeply_nested())
        assert parse(bounce).automatic == "bounce"  # the bounce detectors ran on it
    text = " ".join(record.getMessage() for record in caplog.records)
    assert secret not in text
    assert "Übersicht" not in text and "報告" not in text and "alex@" not in text


# --------------------------------------------------------------------------- classification, auth


@pytest.mark.parametrize(
    ("builder", "envelope_from", "expected"),
    [
        (corpus.plain, "alex@example.net", None),
        (corpus.vacation_autoreply, "sam@example.com", "auto-submitted"),
        (corpus.dsn_bounce, "", "bounce"),
        (corpus.mailing_list, "bounces@lists.example.com", "mailing-list"),
        (corpus.ooo_german, "jonas@example.de", "out-of-office"),
        (corpus.ooo_french, "camille@example.fr", "out-of-office"),
        (corpus.plain, "", "empty-return-path"),
    ],
)
def test_automatic_reason(builder, envelope_from: str, expected: str | None) -> None:  # noqa: ANN001
    assert parse(builder(), envelope_from=envelope_from).automatic == expected


def test_trusted_authentication_results_verify_the_sender() -> None:
    header = "mx.example.org; dkim=pass header.d=example.net; spf=pass; dmarc=pass"
    mail = parse(corpus.plain(extra_headers={"Authentication-Results": header}))
    assert mail.auth.verified is True
    assert mail.auth.results == {"dkim": "pass", "spf": "pass", "dmarc": "pass"}


def test_upstream_authentication_results_are_ignored() -> None:
    forged = (
        b"Received: from relay.example.net by mx.example.org; Mon, 3 Mar 2025 10:00:00 +0000\r\n"
        b"Authentication-Results: mx.example.org; dkim=pass; dmarc=pass\r\n"
    )
    mail = parse(forged + corpus.plain())
    assert mail.auth.verified is None and mail.auth.results == {}


def test_without_authserv_id_nothing_is_verified() -> None:
    header = "mx.example.org; dkim=pass; dmarc=pass"
    mail = parse(corpus.plain(extra_headers={"Authentication-Results": header}), authserv_id=None)
    assert mail.auth.verified is None
