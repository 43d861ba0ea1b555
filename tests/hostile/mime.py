"""Hypothesis strategies for hostile mail: MIME trees, headers, charsets, encodings.

Messages are built as bytes by hand, not with the email package, so that they
can be wrong in every way real senders and attackers are wrong: broken
base64, unknown charsets, invalid or missing boundaries, NUL bytes, bare CR
and LF, lines far over 1,000 octets, 8-bit bytes in headers, encoded-words
that lie about their charset. The only rule kept is the one SMTP imposes: the
message ends with CRLF.
"""

from __future__ import annotations

import base64
import quopri
import uuid

from hypothesis import strategies as st

CRLF = b"\r\n"

CONTENT_TYPES = [
    "text/plain",
    "text/html",
    "text/calendar",
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "image/png",
    "message/delivery-status",
    "text",
    "",
    'foo/bar; x="unterminated',
    "text/plain; format=flowed; delsp=yes",
]
CHARSETS = [
    "utf-8",
    "us-ascii",
    "iso-8859-1",
    "windows-1252",
    "shift_jis",
    "iso-2022-jp",
    "koi8-r",
    "gb18030",
    "utf-16",
    "utf-7",
    "x-unknown-charset",
    "",
    'utf-8"; evil="',
]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "garbage", ""]

# Header values that have broken mail software before.
NASTY_HEADER_VALUES = [
    b"=?utf-8?B?not base64 at all?=",
    b"=?x-evil-charset?Q?=E9t=E9?=",
    b"=?utf-8?Q?" + b"=C3" * 40 + b"?=",  # a truncated multi-byte sequence
    b"=?utf-8?B?" + base64.b64encode("\u202e\u0000hidden".encode()) + b"?=",
    b" ".join([b"=?utf-8?B?YQ==?="] * 500),  # encoded-word abuse: hundreds of words
    b"=?=?utf-8?Q?nested?=?Q?x?=",
    b"=?utf-8*en?Q?with_language?=",
    b"caf\xe9 \xff\xfe not utf-8",
    b"nul\x00byte",
    b"bare\rcarriage",
    b"x" * 20_000,  # a huge header line
    b"folded\r\n\tover\r\n  many\r\n lines",
    b"\xf0\x9f\x92\xa9 raw utf-8 emoji",
    b"",
]


def _ascii_token(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
        min_size=min_size,
        max_size=max_size,
    )


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.sampled_from(NASTY_HEADER_VALUES))
    if choice == 1:
        return draw(st.binary(max_size=300)).replace(b"\r\n", b" ")
    if choice == 2:
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass").replace(b"\r\n", b" ")
    charset = draw(st.sampled_from(["utf-8", "iso-8859-1", "x-unknown", "shift_jis"]))
    kind = draw(st.sampled_from(["B", "Q", "b", "q", "Z"]))
    payload = draw(st.binary(max_size=80))
    encoded = base64.b64encode(payload) if kind in "Bb" else quopri.encodestring(payload)
    return b"=?" + charset.encode() + b"?" + kind.encode() + b"?" + encoded.strip() + b"?="


@st.composite
def body_bytes(draw: st.DrawFn) -> bytes:
    """A part's payload: text, binary, or long lines, before its transfer encoding."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        text = draw(st.text(max_size=400))
        charset = draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "shift_jis"]))
        return text.encode(charset, "replace")
    if kind == 1:
        return draw(st.binary(max_size=600))
    if kind == 2:  # lines over the 1,000-octet limit of RFC 5321
        length = draw(st.integers(900, 6000))
        return (b"long line " * (length // 10 + 1))[:length]
    return b""  # zero-length part


@st.composite
def encode(draw: st.DrawFn, payload: bytes, cte: str) -> bytes:
    if cte == "base64":
        encoded = base64.encodebytes(payload)
        if draw(st.booleans()):  # broken base64: junk, missing padding, truncation
            encoded = encoded[: draw(st.integers(0, len(encoded)))] + draw(
                st.sampled_from([b"", b"!!!!", b"=", b"\x00\xff", b"A"])
            )
        return encoded
    if cte == "quoted-printable":
        encoded = quopri.encodestring(payload)
        if draw(st.booleans()):
            encoded += draw(st.sampled_from([b"=ZZ", b"=", b"=\r\n=", b"=E9=C3"]))
        return encoded
    return payload


@st.composite
def leaf(draw: st.DrawFn) -> tuple[list[bytes], bytes]:
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(ENCODINGS))
    headers = [b"Content-Type: " + ctype.encode() + (b"; charset=" + charset.encode())]
    if cte:
        headers.append(b"Content-Transfer-Encoding: " + cte.encode())
    if draw(st.booleans()):
        name = draw(header_value())
        headers.append(b'Content-Disposition: attachment; filename="' + name + b'"')
    if draw(st.integers(0, 5)) == 0:  # RFC 2231 parameters, right or wrong
        headers.append(b"Content-Disposition: attachment; filename*=utf-8''%E9%ZZ%00.txt")
    return headers, draw(encode(draw(body_bytes()), cte))


def boundary_line(boundary: bytes, final: bool = False) -> bytes:
    return b"--" + boundary + (b"--" if final else b"")


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> tuple[list[bytes], bytes]:
    """(headers, body) of a node: a leaf, a multipart, or an attached message."""
    kind = draw(st.integers(0, 5)) if depth < 4 else 0
    if kind <= 2:
        return draw(leaf())
    if kind == 5:  # message/rfc822 wrapping a whole message
        inner_headers, inner_body = draw(mime_tree(depth + 1))
        inner = b"".join(h + CRLF for h in [b"Subject: inner", *inner_headers]) + CRLF + inner_body
        return [b"Content-Type: message/rfc822"], inner
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed", "x"]))
    boundary = draw(
        st.one_of(
            st.just(uuid.uuid4().hex.encode()),
            _ascii_token(1, 100).map(str.encode),  # over RFC 2046's 70 characters at times
            st.sampled_from([b"", b" ", b'"', b"--", b"a b c", b"\xff\xfe"]),
        )
    )
    children = draw(st.lists(mime_tree(depth + 1), min_size=0, max_size=4))
    parts = []
    for child_headers, child_body in children:
        parts.append(boundary_line(boundary) + CRLF + b"".join(h + CRLF for h in child_headers))
        parts.append(CRLF + child_body + CRLF)
    if draw(st.integers(0, 3)):  # the final boundary is sometimes missing
        parts.append(boundary_line(boundary, final=True) + CRLF)
    quote = draw(st.sampled_from([b'"', b""]))
    header = b"Content-Type: multipart/" + subtype.encode() + b"; boundary=" + quote
    return [header + boundary + quote], draw(st.sampled_from([b"", b"preamble\r\n"])) + b"".join(
        parts
    )


@st.composite
def hostile_message(draw: st.DrawFn, fuzz_id: str) -> bytes:
    """A whole message: top-level headers (some nasty) around a random MIME tree."""
    headers = [
        b"From: " + draw(st.sampled_from([b"alex@example.net", b"", b"<>", b"\xff@\xfe"])),
        b"To: conduct@example.org",
        b"Subject: " + draw(header_value()),
        b"X-Fuzz-Id: " + fuzz_id.encode(),
    ]
    if draw(st.booleans()):
        headers.append(b"Message-ID: <" + fuzz_id.encode() + b"@fuzz.example>")
    for _ in range(draw(st.integers(0, 4))):
        name = draw(
            st.sampled_from(
                [b"Reply-To", b"In-Reply-To", b"References", b"Auto-Submitted", b"Date", b"X-Junk"]
            )
        )
        headers.append(name + b": " + draw(header_value()))
    if draw(st.booleans()):
        headers.append(b"MIME-Version: 1.0")
    tree_headers, body = draw(mime_tree())
    message = b"".join(h + CRLF for h in headers + tree_headers) + CRLF + body
    if draw(st.integers(0, 4)) == 0:  # bare CR and LF and NULs sprinkled through the body
        message = message + b"bare\nlf\rcr\x00nul"
    return message if message.endswith(CRLF) else message + CRLF


def deeply_nested_rfc822(depth: int) -> bytes:
    """A message/rfc822 inside a message/rfc822, `depth` times."""
    message = b"Subject: the innermost\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    for level in range(depth):
        message = (
            b"Subject: level "
            + str(level).encode()
            + CRLF
            + b"Content-Type: message/rfc822"
            + CRLF
            + CRLF
            + message
        )
    return b"From: alex@example.net\r\nTo: conduct@example.org\r\n" + message
