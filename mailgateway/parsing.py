"""Turn raw inbound message bytes into a ParsedMail the gateway can act on.

Pure functions over bytes: no I/O, no database, no logging of content. Mail is
attacker-controlled input, so nothing here may raise on malformed MIME: we
return whatever could be recovered and record what went wrong in ``defects``.

mail-parser builds the message tree and supplies its defect categories, the
address and the date parsing (all hardened against hostile headers). Bodies and
attachments are picked by our own walk, because mail-parser puts the text of an
attached message/rfc822 into the body and gives unnamed parts random names,
neither of which suits a reporting desk.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.header
import email.parser
import email.utils
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser

import mailparser
from mailparser.exceptions import MailParserRecursionError

from core.intake.attachments import (
    AttachmentCandidate,
    ParsedAttachment,
    RefusedAttachment,
    select_attachments,
)
from mailgateway.authresults import AuthVerdict, evaluate
from mailgateway.automatic import classify
from mailgateway.quotes import forwarded_section, strip_quotes

__all__ = [
    "AuthVerdict",
    "ParsedAttachment",
    "ParsedMail",
    "RefusedAttachment",
    "html_to_text",
    "normalise_line_endings",
    "parse_message",
]

log = logging.getLogger(__name__)

# mail-parser logs header values and attachment filenames (at DEBUG, and at
# ERROR when a header fails to decode). Our logs must never carry message
# content, so its logger is silenced unless an operator configured it on purpose.
_mailparser_log = logging.getLogger("mailparser")
if _mailparser_log.level == logging.NOTSET:
    _mailparser_log.setLevel(logging.CRITICAL)

BARE_CR_DEFECT = "BareCRInHeaderDefect"
PARSER_FAILURE_DEFECT = "ParserFailureDefect"
HEADERS_ONLY_DEFECT = "HeadersOnlyFallbackDefect"
CHARSET_DEFECT = "CharsetDecodeDefect"
INTERNAL_ERROR_DEFECT = "InternalParserErrorDefect"


# --------------------------------------------------------------------------- line endings

# The empty line that ends the header block; `eol` is the previous line's end (absent
# when the message begins with the empty line, i.e. has no headers at all).
_HEADER_END = re.compile(rb"(?:^|(?P<eol>\n))\r*\n")
_LINE_SPLIT = re.compile(rb"\r?\n")
_ANY_EOL = re.compile(rb"\r\n|\r|\n")


def _normalise_header_block(block: bytes) -> tuple[bytes, int]:
    """CRLF-terminate header lines; a bare CR *inside* a line becomes a space.

    Python's parser treats a lone CR as a line break, so ``Subject: hi\\rBcc: x``
    would grow a Bcc header. Turning the CR into a space keeps the injected text
    inside the Subject value, where it is harmless. Bare LF stays a line break:
    LF-only mail from local tools is common and legitimate.
    """
    lines = _LINE_SPLIT.split(block)
    if lines and lines[-1] == b"":
        lines.pop()
    bare_crs = sum(line.count(b"\r") for line in lines)
    if bare_crs:
        lines = [line.replace(b"\r", b" ") for line in lines]
    return b"".join(line + b"\r\n" for line in lines), bare_crs


def _normalise_body(body: bytes) -> bytes:
    """Every CR, LF and CRLF in the body becomes CRLF (fast path when already clean)."""
    crlf = body.count(b"\r\n")
    if body.count(b"\r") == crlf and body.count(b"\n") == crlf:
        return body
    return _ANY_EOL.sub(b"\r\n", body)


def _normalise(raw: bytes) -> tuple[bytes, int]:
    """Normalised bytes plus the number of bare CRs neutralised in the header block."""
    match = _HEADER_END.search(raw)
    if match is None:
        headers, bare_crs = _normalise_header_block(raw)
        if raw and not raw.endswith((b"\n", b"\r")):
            headers = headers[:-2]
        return headers, bare_crs
    if match.group("eol") is None:
        return b"\r\n" + _normalise_body(raw[match.end() :]), 0
    headers, bare_crs = _normalise_header_block(raw[: match.start() + 1])
    return headers + b"\r\n" + _normalise_body(raw[match.end() :]), bare_crs


def normalise_line_endings(raw: bytes) -> bytes:
    """Make every line end in CRLF without letting a bare CR start a new header.

    The header block ends at the first empty line (a line holding nothing but
    CRs also counts). In the header block, CRLF and bare LF end a line and any
    other CR is replaced by a space; in the body every CR, LF and CRLF becomes
    CRLF. A message using only bare CRs as line ends (classic Mac OS) therefore
    collapses into one long header: unusual, but safe.
    """
    return _normalise(raw)[0]


# --------------------------------------------------------------------------- data model


@dataclass
class ParsedMail:
    """Everything the gateway needs from one inbound message. See parse_message."""

    raw: bytes
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str | None = None
    from_name: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_text: str = ""
    body_html: str | None = None
    reply_text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    refused: list[RefusedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    automatic: str | None = None
    auth: AuthVerdict = field(default_factory=AuthVerdict)


# --------------------------------------------------------------------------- header decoding

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MSG_ID = re.compile(r"<[^<>]+>")


def _octets_to_text(octets: bytes) -> str:
    """Raw 8-bit header bytes: UTF-8 per RFC 6532, else Windows-1252 as legacy clients do."""
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError:
        return octets.decode("cp1252", errors="replace")


def _charset_decode(data: bytes, charset: str) -> str:
    try:
        codecs.lookup(charset)
        return data.decode(charset)
    except (LookupError, ValueError):  # unknown or malformed charset name, undecodable bytes
        return data.decode("utf-8", errors="replace")


def decode_rfc2047(value: str) -> str:
    """Decode RFC 2047 encoded words with the stdlib's ``email.header.decode_header``.

    It joins adjacent words in one charset before decoding (some encoders split a
    multi-byte character across two words) and drops the whitespace between
    encoded words, as the RFC requires. Its results are decoded leniently here:
    an unknown charset or bad bytes must not cost the rest of the header.
    """
    if "=?" not in value:
        return value
    try:
        parts = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError):  # e.g. broken base64: keep as is
        return value
    return "".join(_decoded_part(data, charset) for data, charset in parts)


def _decoded_part(data: bytes | str, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    if charset is None:  # text between encoded words, as decode_header hands it back
        return data.decode("raw-unicode-escape")
    return _charset_decode(data, charset)


def decode_header_value(raw: object) -> str:
    """Header value as clean text: 8-bit bytes decoded, unfolded, encoded words decoded.

    CR, LF and other control characters that survive decoding (``=0D=0A`` in an
    encoded word) become spaces, so a decoded subject can never inject headers
    into mail we send later.
    """
    text = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = _octets_to_text(text.encode("utf-8", errors="surrogateescape"))
    text = decode_rfc2047(_FOLD.sub("", text))
    return _CONTROL.sub(" ", text).strip()


def _message_headers(message: Message) -> list[tuple[str, str]]:
    return [
        (decode_header_value(name), decode_header_value(value))
        for name, value in message.raw_items()
    ]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _message_id(value: str | None) -> str | None:
    """First ``<id>`` token; bare ids are wrapped so threading keys have one form."""
    if value is None:
        return None
    compact = "".join(value.split())
    match = _MSG_ID.search(compact)
    if match:
        return match.group(0)
    compact = compact.strip("<>")
    return f"<{compact}>" if compact else None


def _msg_id_list(headers: list[tuple[str, str]], name: str) -> list[str]:
    """All ``<id>`` tokens of every occurrence, in order, without duplicates."""
    wanted = name.lower()
    tokens: list[str] = []
    for key, value in headers:
        if key.lower() == wanted:
            tokens.extend(_MSG_ID.findall("".join(value.split())))
    return list(dict.fromkeys(tokens))


# --------------------------------------------------------------------------- addresses, date


def _addresses_from_mailparser(parsed: object, attribute: str) -> list[tuple[str, str]]:
    try:
        value = getattr(parsed, attribute)
    except Exception:  # hostile headers must not abort the parse
        return []
    if not isinstance(value, list):
        return []
    return [(str(n), str(a)) for n, a in value if a]


def _addresses_from_stdlib(message: Message, name: str) -> list[tuple[str, str]]:
    values = [_FOLD.sub("", str(v)) for v in message.get_all(name, [])]
    return [
        (decode_header_value(n), a) for n, a in email.utils.getaddresses(values) if a and "@" in a
    ]


def _lower_addresses(pairs: list[tuple[str, str]]) -> list[str]:
    return [decode_header_value(addr).strip().lower() for _, addr in pairs]


def _date_from_header(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- HTML to text


class _HTMLText(HTMLParser):
    """Readable text from HTML: scripts/styles dropped, blocks become line breaks.

    Kept instead of a library because the maintained converters fail our tests
    on mail-shaped HTML: html2text turns <pre> into an indented Markdown block
    and links into "[text](url)" (tests/mail/test_parsing.py::
    test_html_to_text_keeps_preformatted_lines and
    test_html_only_mail_becomes_readable_text); inscriptis drops link targets,
    a report's evidence, and renders blockquotes without "> ", so the quoted
    history of HTML-only replies could not be stripped (same tests).

    Blockquotes are rendered as "> " lines so that strip_quotes can remove the
    quoted history of HTML-only replies just like plain-text ones. Link targets
    are kept next to their text because a report's evidence is often a URL.
    """

    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
    PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "blockquote"}
    )
    BLOCK = PARAGRAPH | frozenset(
        {"div", "tr", "li", "hr", "section", "article", "header", "footer", "address", "dt"}
        | {"dd", "form", "center", "main", "nav", "aside", "figure", "figcaption", "dl"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, bool, str]] = []
        self.current: list[str] = []
        self.skip = 0
        self.pre = 0
        self.quote = 0
        self.anchor: tuple[str, list[str]] | None = None

    def _push(self, text: str) -> None:
        self.lines.append((self.quote, bool(self.pre), text))

    def _break(self, blank: bool = False) -> None:
        """End the current line if it has text; a paragraph also leaves one blank line."""
        text = "".join(self.current)
        self.current = []
        if text.strip() or (self.pre and text):
            self._push(text)
        if blank and self.lines and self.lines[-1][2].strip():
            self._push("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif self.skip:
            return
        elif tag == "br":
            self._push("".join(self.current))  # kept even when empty: <br><br> is a gap
            self.current = []
        elif tag in self.BLOCK:
            self._break(blank=tag in self.PARAGRAPH)
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
            if tag == "li":
                self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag == "a":
            self.anchor = (dict(attrs).get("href") or "", [])
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif self.skip:
            return
        elif tag in self.BLOCK:
            self._break(blank=tag in self.PARAGRAPH)
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.anchor is not None:
            href, words = self.anchor
            self.anchor = None
            shown = "".join(words).strip()
            if href.startswith(("http://", "https://")) and href.rstrip("/") != shown.rstrip("/"):
                self.current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            first, *rest = data.split("\n")
            self.current.append(first)
            for line in rest:
                self._break()
                self.current.append(line)
        else:
            data = re.sub(r"\s+", " ", data)
            self.current.append(data)
        if self.anchor is not None:
            self.anchor[1].append(data)

    def text(self) -> str:
        self._break()
        rendered = []
        for depth, preformatted, line in self.lines:
            line = line.rstrip() if preformatted else line.strip()
            rendered.append("> " * depth + line if depth and line else line)
        return re.sub(r"\n{3,}", "\n\n", "\n".join(rendered)).strip()


_TAGS = re.compile(r"<[^>]*>")


def html_to_text(html: str) -> str:
    """Readable plain text for an HTML body (used when a message has no text/plain)."""
    converter = _HTMLText()
    try:
        converter.feed(html)
        converter.close()
        return converter.text()
    except Exception:  # HTMLParser is lenient, but hostile markup must not abort parsing
        return re.sub(r"[ \t]+", " ", _TAGS.sub(" ", html)).strip()


# --------------------------------------------------------------------------- MIME walk


@dataclass
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    candidates: list[AttachmentCandidate] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    forwarded: list[Message] = field(default_factory=list)


def _part_filename(part: Message) -> str | None:
    """Filename from Content-Disposition or Content-Type; RFC 2231 and (non-standard) 2047."""
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # malformed parameters
        return None
    if isinstance(name, tuple):  # RFC 2231 triple that get_param did not collapse
        name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return None
    decoded = decode_header_value(name)
    return decoded or None


def _decode_text_part(part: Message, walk: _Walk) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").strip()
    try:
        codecs.lookup(charset)
        return payload.decode(charset)
    except (LookupError, ValueError):  # unknown or malformed charset name, undecodable bytes
        pass
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("cp1252", errors="replace")
        walk.defects.append(CHARSET_DEFECT)
    else:
        # Undeclared UTF-8 (8BITMIME mail labelled us-ascii) is normal, not a defect.
        if charset.lower() not in ("us-ascii", "ascii"):
            walk.defects.append(CHARSET_DEFECT)
    return text


def _attached_message_bytes(part: Message) -> bytes:
    """Bytes of an attached message (or of all blocks of e.g. message/delivery-status)."""
    blocks = [b for b in part.get_payload() if isinstance(b, Message)]
    chunks = []
    for block in blocks:
        try:
            chunks.append(block.as_bytes())
        except Exception:  # regenerating a broken message can fail; keep what we can
            chunks.append(str(block).encode("utf-8", errors="surrogateescape"))
    return b"".join(chunks)


def _leaf(part: Message, walk: _Walk) -> None:
    ctype = part.get_content_type()
    disposition = part.get_content_disposition()
    filename = _part_filename(part)
    if part.get_content_maintype() == "multipart":
        # A multipart whose boundary could not be found arrives as one text blob.
        walk.broken.append(_decode_text_part(part, walk))
    elif ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = _decode_text_part(part, walk)
        (walk.plain if ctype == "text/plain" else walk.html).append(text)
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        walk.candidates.append(AttachmentCandidate(filename, ctype, content))


def _walk(message: Message) -> _Walk:
    """Split the MIME tree into body texts and attachment candidates, in message order.

    Attached messages (message/rfc822) become one .eml attachment, kept as
    evidence; they are also listed in ``forwarded``, to be shown after the
    sender's own words (see _forwarded_sections).
    """
    walk = _Walk()
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        ctype = part.get_content_type()
        if ctype.startswith("message/") and part is not message and part.is_multipart():
            walk.candidates.append(
                AttachmentCandidate(_part_filename(part), ctype, _attached_message_bytes(part))
            )
            if ctype in FORWARDED_TYPES:
                walk.forwarded.extend(p for p in part.get_payload() if isinstance(p, Message))
        elif part.is_multipart():
            children = part.get_payload()
            stack.extend(reversed([c for c in children if isinstance(c, Message)]))
        else:
            _leaf(part, walk)
    return walk


FORWARDED_TYPES = frozenset({"message/rfc822", "message/global"})
FORWARDED_HEADERS = ("From", "Date", "Subject", "To")
# A forward of a forward of a forward is shown; deeper ones stay attachments only.
MAX_FORWARD_DEPTH = 3


def _forwarded_sections(walk: _Walk, depth: int = 1) -> list[str]:
    """Each attached message as the stewards read it: marked as forwarded, with its
    From, Date, Subject and To, then its whole text (nothing stripped: it is evidence)."""
    sections = []
    for inner in walk.forwarded:
        headers = _message_headers(inner)
        lines = [f"{name}: {_first(headers, name)}" for name in FORWARDED_HEADERS]
        lines = [line for line in lines if not line.endswith(": None")]
        inner_walk = _walk(inner)
        text, _ = _choose_bodies(inner_walk)
        nested = _forwarded_sections(inner_walk, depth + 1) if depth < MAX_FORWARD_DEPTH else []
        sections.append(forwarded_section("\n".join([*lines, "", text, *nested])))
    return sections


def _part_types(message: Message) -> list[str]:
    """Content types of the top-level parts (where a report's status part may sit)."""
    if not message.is_multipart():
        return []
    return [p.get_content_type() for p in message.get_payload() if isinstance(p, Message)]


def _stdlib_defects(message: Message) -> list[str]:
    names: list[str] = []
    for part in message.walk():
        names.extend(type(defect).__name__ for defect in part.defects)
    return names


# --------------------------------------------------------------------------- parse


def _clean_body(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _choose_bodies(walk: _Walk) -> tuple[str, str | None]:
    """text/plain wins; HTML-only mail is converted; broken multiparts are a last resort."""
    html = "\n".join(_clean_body(h) for h in walk.html if h.strip()) or None
    plain = [_clean_body(p).strip("\n") for p in walk.plain if p.strip()]
    if plain:
        return "\n\n".join(plain), html
    if html:
        return html_to_text(html), html
    broken = [_clean_body(b).strip("\n") for b in walk.broken if b.strip()]
    return "\n\n".join(broken), html


def _load(raw: bytes, defects: list[str]) -> tuple[object | None, Message]:
    """mail-parser first; the bare stdlib parser, then a headers-only parse, as fallbacks."""
    too_deep = False
    try:
        parsed = mailparser.parse_from_bytes(raw)
        if parsed.message is not None:
            return parsed, parsed.message
    except Exception as exc:  # includes MailParserRecursionError on absurd nesting
        log.warning("mail-parser failed (%s); using a fallback parser", type(exc).__name__)
        too_deep = isinstance(exc, MailParserRecursionError | RecursionError)
    defects.append(PARSER_FAILURE_DEFECT)
    if not too_deep:  # the stdlib would recurse just as deep, so skip straight to headers
        try:
            return None, email.message_from_bytes(raw)
        except Exception as exc:
            log.warning("stdlib parser failed (%s); parsing headers only", type(exc).__name__)
    defects.append(HEADERS_ONLY_DEFECT)
    return None, email.parser.BytesHeaderParser().parsebytes(raw)


def _parse(
    raw: bytes,
    *,
    envelope_from: str | None,
    authserv_id: str | None,
    max_attachment_bytes: int,
    max_attachments: int,
    defects: list[str],
) -> ParsedMail:
    parsed, message = _load(raw, defects)
    headers = _message_headers(message)
    if parsed is not None:
        defects.extend(sorted(parsed.defects_categories))
        senders = _addresses_from_mailparser(parsed, "from_")
        to = _addresses_from_mailparser(parsed, "to")
        cc = _addresses_from_mailparser(parsed, "cc")
        date = parsed.date if isinstance(parsed.date, datetime) else None
    else:
        defects.extend(_stdlib_defects(message))
        senders = _addresses_from_stdlib(message, "from")
        to = _addresses_from_stdlib(message, "to")
        cc = _addresses_from_stdlib(message, "cc")
        date = None
    if date is None:
        date = _date_from_header(_first(headers, "date"))
    elif date.tzinfo is None:
        date = date.replace(tzinfo=UTC)

    walk = _walk(message)
    defects.extend(walk.defects)
    own_text, body_html = _choose_bodies(walk)
    subject = _first(headers, "subject") or ""
    forwarded = _forwarded_sections(walk)
    body_text = "\n\n".join(part for part in (own_text, *forwarded) if part)
    reply_text = "\n\n".join(
        part for part in (strip_quotes(own_text, subject) if own_text else "", *forwarded) if part
    )
    attachments, refused = select_attachments(
        walk.candidates, max_attachment_bytes, max_attachments
    )
    from_address = _lower_addresses(senders[:1])[0] if senders else None
    from_name = decode_header_value(senders[0][0]) if senders and senders[0][0] else None
    content_type = _first(headers, "content-type") or message.get_content_type()
    return ParsedMail(
        raw=raw,
        message_id=_message_id(_first(headers, "message-id")),
        in_reply_to=_msg_id_list(headers, "in-reply-to"),
        references=_msg_id_list(headers, "references"),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=_lower_addresses(to),
        cc=_lower_addresses(cc),
        date=date,
        headers=headers,
        body_text=body_text,
        body_html=body_html,
        reply_text=reply_text,
        attachments=attachments,
        refused=refused,
        automatic=classify(
            headers,
            subject,
            from_address,
            envelope_from,
            content_type,
            part_types=_part_types(message),
            message=message,
            text=body_text,
        ),
        auth=evaluate(headers, authserv_id),
    )


def parse_message(
    raw: bytes,
    *,
    envelope_from: str | None,
    authserv_id: str | None,
    max_attachment_bytes: int,
    max_attachments: int,
) -> ParsedMail:
    """Parse one inbound message. Never raises on bad input; see ``defects`` instead.

    ``envelope_from`` is the SMTP MAIL FROM ("" or "<>" for bounces, None if
    unknown); ``authserv_id`` names our border MTA in Authentication-Results.
    """
    normalised, bare_crs = _normalise(raw)
    defects: list[str] = [BARE_CR_DEFECT] if bare_crs else []
    try:
        mail = _parse(
            normalised,
            envelope_from=envelope_from,
            authserv_id=authserv_id,
            max_attachment_bytes=max_attachment_bytes,
            max_attachments=max_attachments,
            defects=defects,
        )
    except Exception as exc:  # last line of defence: a bug must not drop a report
        log.warning("message parse failed (%s); returning raw only", type(exc).__name__)
        defects.append(INTERNAL_ERROR_DEFECT)
        mail = ParsedMail(raw=normalised)
    mail.defects = list(dict.fromkeys(defects))
    log.debug(
        "parsed message: %d bytes, %d attachments, %d refused, %d defects",
        len(normalised),
        len(mail.attachments),
        len(mail.refused),
        len(mail.defects),
    )
    return mail
