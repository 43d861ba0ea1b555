"""safe_filename and select_attachments."""

from __future__ import annotations

import pytest

from core.intake.attachments import AttachmentCandidate, safe_filename, select_attachments


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Übersicht März.pdf", "Übersicht März.pdf"),
        ("報告.txt", "報告.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\sam\\report.docx", "report.docx"),
        (".htaccess", "htaccess"),
        ("..hidden..", "hidden"),
        ("bad\x00na\x1fme\r\n.txt", "badname.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("  spaced   out  name .pdf ", "spaced out name .pdf"),
        ("trailing dots...", "trailing dots"),
        ("Übersicht Ma\u0308rz.pdf", "Übersicht März.pdf"),  # decomposed input is NFC'd
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name, "application/octet-stream", 1) == expected


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        (None, "image/png", "attachment-3.png"),
        ("", "application/pdf", "attachment-3.pdf"),
        ("...", "text/plain", "attachment-3.txt"),
        ("/", "message/rfc822", "attachment-3.eml"),
        (None, "application/x-made-up", "attachment-3.bin"),
        (None, "text/x-made-up", "attachment-3.txt"),
    ],
)
def test_fallback_names(name: str | None, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type, 3) == expected


def test_long_names_are_capped_but_keep_the_extension() -> None:
    result = safe_filename("a" * 300 + ".pdf", "application/pdf", 1)
    assert len(result) == 120 and result.endswith(".pdf")


def test_long_cjk_names_fit_a_filesystem_byte_limit() -> None:
    result = safe_filename("報" * 200 + ".txt", "text/plain", 1)
    assert result.endswith(".txt") and len(result.encode()) <= 240
    assert result.startswith("報報")


def candidate(name: str | None, size: int, ctype: str = "application/pdf") -> AttachmentCandidate:
    return AttachmentCandidate(name, ctype, b"x" * size)


def test_select_applies_size_then_count_limits_in_order() -> None:
    accepted, refused = select_attachments(
        [
            candidate("big.mov", 500, "video/quicktime"),
            candidate("one.pdf", 10),
            candidate("empty.txt", 0, "text/plain"),
            candidate("two.pdf", 10),
            candidate("three.pdf", 10),
        ],
        max_bytes=100,
        max_count=2,
    )
    assert [a.filename for a in accepted] == ["one.pdf", "two.pdf"]
    assert [(r.original_filename, r.reason, r.size) for r in refused] == [
        ("big.mov", "too_large", 500),
        ("empty.txt", "empty", 0),
        ("three.pdf", "too_many", 10),
    ]


def test_select_makes_names_unique_and_uses_position_for_fallbacks() -> None:
    accepted, refused = select_attachments(
        [candidate("scan.pdf", 1), candidate("SCAN.pdf", 1), candidate(None, 1, "image/png")],
        max_bytes=10,
        max_count=10,
    )
    assert refused == []
    assert [a.filename for a in accepted] == ["scan.pdf", "SCAN (2).pdf", "attachment-3.png"]
    assert [a.original_filename for a in accepted] == ["scan.pdf", "SCAN.pdf", None]
