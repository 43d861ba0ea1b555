"""Extract the new part of a reply: drop quoted history and the signature.

Reporters answer our questions from Gmail, Outlook, Apple Mail and phones, in
several languages; only what they just wrote belongs in the case thread.
Splitting on "On ... wrote:" / "Von: ... Gesendet:" style headers is delegated
to mail-parser-reply, which maintains those patterns for many languages. Around
it we add what a reporting desk needs:

* Signature removal is conservative. The library cuts everything after a line
  starting with e.g. "Thanks," which, in a report, can be the start of the
  account itself. We only accept its cut when it begins at a delimiter ("--",
  underscores) or at a short sign-off line followed by a short block.
* Remaining "> " quoted lines are removed (inline or bottom quoting without a
  recognised header), with an attribution line directly above them.
* Its header patterns are quadratic on long lines starting with "On", "Il"...
  Long lines cannot be reply headers, so they are swapped for placeholders
  before the library runs, and very long texts skip the library entirely.
* If stripping would leave nothing, the original text is returned, so a reply
  is never lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from mailparser_reply.parser import EmailMessage, EmailReply

# Languages whose header/sign-off patterns are precise enough for reports. Left
# out on purpose: pl (one "Data:" line counts as a header), sv ("/word" lines
# count as signatures) and da ("Tak..." at a line start counts as a sign-off).
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "cs", "ja", "zh", "ko")

# Reply headers are short; anything longer is hidden from the library's regexes.
MAX_LIBRARY_LINE = 200
# Above this size only the cheap linear rules run (quoted lines, "-- " cut).
MAX_LIBRARY_CHARS = 65_536
MAX_SIGNOFF_LINE = 40
MAX_SIGNATURE_LINES = 10

_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")
_DELIMITER_LINE = re.compile(r"^[-_]{2,}\s*$")
_SIG_DASHES = re.compile(r"^-- ?$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_ATTRIBUTION = re.compile(
    r"(?:wrote|schrieb|a\s+écrit|escribió|escreveu|ha\s+scritto|schreef|skrev|kirjoitti"
    r"|napsal\(a\)|napisał\(a\)|написал\(а\))\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_DETAIL = re.compile(r"@|\b\d{4}\b|\b\d{1,2}:\d{2}\b")


class LineStartPattern:
    """The library's reply-header pattern, tried only where a match can begin.

    Every alternative of that pattern starts at a line start (``^`` in MULTILINE
    mode) or at a newline character. ``findall`` on the plain pattern tries every
    character position, which made it the single most expensive step of taking
    in a message; trying only line starts and newlines finds the same matches in
    the same order for a fraction of the cost.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def findall(self, text: str) -> list[Any]:
        found: list[Any] = []
        position = 0
        for start in _match_starts(text):
            if start < position:
                continue
            match = self.pattern.match(text, start)
            if match is None:
                continue
            found.append(_findall_item(match))
            position = max(match.end(), start + 1)
        return found


def _match_starts(text: str) -> Iterator[int]:
    """Line starts and newline positions, in increasing order."""
    yield 0
    newline = text.find("\n")
    while newline >= 0:
        yield newline
        yield newline + 1
        newline = text.find("\n", newline + 1)


def _findall_item(match: re.Match[str]) -> Any:
    """What ``re.findall`` yields for one match: the whole match, a group, or all groups."""
    groups = match.groups(default="")
    if not groups:
        return match.group(0)
    return groups[0] if len(groups) == 1 else groups


def _build_reader() -> Callable[[str], EmailReply | None]:
    """Compile the library's regexes once; it would otherwise rebuild them per message."""
    prototype = EmailMessage(text="", languages=list(LANGUAGES), keep_hyphen_lists=True)
    compiled = {
        "_header_regex": LineStartPattern(prototype.HEADER_REGEX),
        "_signature_regex": prototype.SIGNATURE_REGEX,
        "_disclaimers_regex": prototype.DISCLAIMERS_REGEX,
    }

    def read(text: str) -> EmailReply | None:
        message = EmailMessage(
            text=text, languages=list(LANGUAGES), keep_hyphen_lists=True, **compiled
        ).read()
        return message.replies[0] if message.replies else None

    return read


_read_first_reply = _build_reader()


def _acceptable_signature(signature: str) -> bool:
    """Accept the library's signature cut only when it cannot plausibly be report text."""
    lines = [line.lstrip("> ").strip() for line in signature.splitlines() if line.strip()]
    if not lines:
        return False
    if _DELIMITER_LINE.match(lines[0]):
        return True
    return len(lines[0]) <= MAX_SIGNOFF_LINE and len(lines) <= MAX_SIGNATURE_LINES


def _hide_long_lines(text: str) -> tuple[str, list[str]]:
    """Swap overlong lines for placeholders the library's patterns cannot match."""
    hidden: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > MAX_LIBRARY_LINE:
            lines[i] = _PLACEHOLDER.format(len(hidden))
            hidden.append(line.strip())
    return "\n".join(lines), hidden


def _library_reply(text: str) -> str:
    """First reply fragment according to mail-parser-reply, signature cut if plausible."""
    prepared, hidden = _hide_long_lines(text)
    reply = _read_first_reply(prepared)
    if reply is None:
        return text
    content = reply.content
    if reply.headers:
        content = content.replace(reply.headers, "", 1)
    if reply.signatures and _acceptable_signature(reply.signatures):
        cut = content.rfind(reply.signatures)
        if cut >= 0:
            content = content[:cut]
    if hidden:
        content = _PLACEHOLDER_RE.sub(lambda m: hidden[int(m.group(1))], content)
    return content


def _drop_attribution(kept: list[str]) -> None:
    """Remove an "On <date>, <name> wrote:" line (maybe wrapped over two) above a quote.

    This backs up the library, whose Spanish pattern, for one, misses Gmail's
    "El lun, 3 mar 2025 ... escribió:". A date, time or address must be present,
    so a reporter's own "He wrote:" above quoted evidence is left alone.
    """
    last = next((i for i in range(len(kept) - 1, -1, -1) if kept[i].strip()), None)
    if last is None:
        return
    for start in (last, last - 1):
        if start < 0:
            return
        candidate = " ".join(line.strip() for line in kept[start : last + 1])
        if _ATTRIBUTION.search(candidate) and _ATTRIBUTION_DETAIL.search(candidate):
            del kept[start:]
            return


def _drop_quoted_lines(text: str) -> str:
    kept: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            _drop_attribution(kept)
        else:
            kept.append(line)
    return "\n".join(kept)


def _cut_dash_signature(text: str) -> str:
    """RFC 3676 "-- " delimiter: everything below is signature."""
    match = _SIG_DASHES.search(text)
    return text[: match.start()] if match and match.start() > 0 else text


def strip_quotes(text: str) -> str:
    """Return only the newly written part of ``text`` (quotes and signature removed).

    Never returns an empty string for non-blank input: if everything looks like
    quote or signature, the original text is returned unchanged.
    """
    if not text or not text.strip():
        return text
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    small = len(normalised) <= MAX_LIBRARY_CHARS
    reply = _library_reply(normalised) if small else normalised
    reply = _cut_dash_signature(_drop_quoted_lines(reply))
    reply = _BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in reply.split("\n")))
    reply = reply.strip()
    return reply if reply else text
