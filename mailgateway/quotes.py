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
* Reply history the library misses (attribution lines wrapped over two lines
  or without a verb, Outlook header blocks in any language, "-----Mensaje
  original-----" separators, mobile clients' "Sent from my iPhone") is cut by
  the rules in replyrules.py, one table for all languages.
* A forwarded message is not history: it is usually the evidence. The sender's
  note is stripped as a reply, and the forwarded message follows it whole,
  under a "Forwarded message" heading (see ``split_forward``).
* If stripping would leave nothing, the original text is returned, so a reply
  is never lost. The full text is always kept on the entry as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from mailparser_reply.parser import EmailMessage, EmailReply

from mailgateway import replyrules as rules

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
# Words on one line of a signature block ("Sam Lee, Community team").
MAX_SIGNATURE_WORDS = 6
_POSTSCRIPT = re.compile(r"^(?:p\.?\s?s\.?|n\.?b\.?)[\s:.,]", re.IGNORECASE)

_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")
_DELIMITER_LINE = re.compile(r"^[-_]{2,}\s*$")
_SIG_DASHES = re.compile(r"^-- ?$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
FORWARD_HEADING = "---------- Forwarded message ----------"


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
    """Accept the library's signature cut only when it cannot plausibly be report text.

    A delimiter ("--", underscores) or a mail client's line ("Sent from my iPhone")
    always starts a signature. A sign-off ("Best regards,") does only when what
    follows it is short and reads like a name and a title: a "P.S." or a sentence
    below a sign-off is something the person wrote, and is kept.
    """
    lines = [line.lstrip("> ").strip() for line in signature.splitlines() if line.strip()]
    if not lines:
        return False
    if _DELIMITER_LINE.match(lines[0]) or rules.CLIENT_SIGNATURE.match(lines[0]):
        return True
    rest = lines[1:]
    return (
        len(lines[0]) <= MAX_SIGNOFF_LINE
        and len(lines) <= MAX_SIGNATURE_LINES
        and not any(_POSTSCRIPT.match(line) for line in rest)
        and all(len(line.split()) <= MAX_SIGNATURE_WORDS for line in rest)
    )


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
    return _as_written(text, content)


def _as_written(original: str, cut: str) -> str:
    """The original lines that the library's result keeps, with their indentation.

    The library strips every line it returns, which flattens indented code and
    command lines a person typed. Its result is a prefix of the original, line
    for line once stripped: the same number of non-blank lines is taken from the
    original instead. Anything else (it never should be) keeps the library's text.
    """
    wanted = [line.strip() for line in cut.split("\n") if line.strip()]
    if not wanted:
        return cut
    taken: list[str] = []
    lines = original.split("\n")
    found = 0
    for line in lines:
        taken.append(line)
        if line.strip():
            if line.strip() != wanted[found]:
                return cut
            found += 1
            if found == len(wanted):
                return "\n".join(taken)
    return cut


def _is_attribution(block: str) -> bool:
    """ "On <date>, <name> wrote:" and its kin, joined from up to three lines.

    A verb needs a date, time or address beside it, so a reporter's own "He
    wrote:" above quoted evidence is left alone; an attribution without a verb
    must start with a date or weekday, name an address and give a time.
    """
    if len(block) > rules.MAX_ATTRIBUTION_CHARS:
        return False
    verb = rules.ATTRIBUTION_WITH_VERB.search(block)
    if verb and rules.ATTRIBUTION_WITH_COLON.search(block):
        return bool(rules.ADDRESS.search(block) or rules.DATE_OR_TIME.search(block))
    if verb:
        return bool(rules.ADDRESS.search(block))
    if rules.ATTRIBUTION_VERB_BEFORE_NAME.search(block):
        return bool(rules.DATE_OR_TIME.search(block))
    return bool(
        rules.ATTRIBUTION_WITHOUT_VERB.search(block)
        and rules.TIME.search(block)
        and rules.ADDRESS.search(block)
    )


def _attribution_at(lines: list[str], start: int) -> bool:
    """An attribution begins at ``start`` (on one line, or wrapped over up to three;
    a wrapped address may put its closing ">:" on a line of its own)."""
    if not lines[start].strip() or lines[start].lstrip().startswith(">"):
        return False
    for end in range(start, min(start + rules.MAX_ATTRIBUTION_LINES, len(lines))):
        tail = lines[end].rstrip()
        if not tail:
            return False
        # Cheap first: an attribution ends in a colon or in its verb.
        ends_right = tail.endswith((":", "：")) or rules.ATTRIBUTION_WITH_VERB.search(tail[-24:])
        block = " ".join(line.strip() for line in lines[start : end + 1]) if ends_right else ""
        if block and _is_attribution(block):
            return True
        if lines[end].rstrip().endswith((".", "!", "?")):
            return False  # a finished sentence: what follows is not its wrapped tail
    return False


def _header_block_at(lines: list[str], start: int) -> bool:
    """An Outlook-style "From: / Sent: / To:" block (any language) begins at ``start``."""
    if not rules.FROM_LINE.match(lines[start]):
        return False
    reach = lines[start + 1 : start + 1 + rules.HEADER_BLOCK_REACH]
    return any(rules.HEADER_LINE.match(line) for line in reach)


def _client_signature_at(lines: list[str], index: int) -> bool:
    """A client's line ("Sent from my iPhone") at the start of its own paragraph."""
    return (index == 0 or not lines[index - 1].strip()) and bool(
        rules.CLIENT_SIGNATURE.match(lines[index])
    )


def _history_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    return bool(
        rules.HISTORY_LINE.match(line)
        or _client_signature_at(lines, index)
        or _header_block_at(lines, index)
        or _attribution_at(lines, index)
    )


def history_start(lines: list[str], first: int = 1) -> int | None:
    """Index of the first line of reply history, by the table in replyrules.py.

    The cut is moved up over the separator lines, blank lines and dated header
    lines ("Message du : 12/12/2016") that belong to the same block.
    """
    found = next((i for i in range(first, len(lines)) if _history_at(lines, i)), None)
    if found is None:
        return None
    while found > 0 and _same_block(lines, found - 1):
        found -= 1
    return found


def _same_block(lines: list[str], index: int) -> bool:
    """A blank or separator line, or a dated header line opening its own paragraph."""
    line = lines[index]
    if not line.strip() or rules.SEPARATOR_LINE.match(line):
        return True
    opens_paragraph = index > 0 and not lines[index - 1].strip()
    return opens_paragraph and bool(rules.DATED_HEADER_LINE.match(line))


def _cut_history(text: str) -> str:
    lines = text.split("\n")
    cut = history_start(lines)
    return "\n".join(lines[:cut]) if cut else text


def _drop_attribution(kept: list[str]) -> None:
    """Remove an attribution line (maybe wrapped over two or three) above a quote."""
    last = next((i for i in range(len(kept) - 1, -1, -1) if kept[i].strip()), None)
    if last is None:
        return
    for start in range(last, max(last - rules.MAX_ATTRIBUTION_LINES, -1), -1):
        block = " ".join(line.strip() for line in kept[start : last + 1])
        if _is_attribution(block):
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


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and (not lines[-1].strip() or rules.SEPARATOR_LINE.match(lines[-1])):
        lines.pop()
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _reply_only(text: str) -> str:
    """The newly written part of a reply; "" when nothing is left."""
    text = _cut_history(text)
    reply = _library_reply(text) if len(text) <= MAX_LIBRARY_CHARS else text
    if reply != text:  # the library cut somewhere: the rules look again at what is left
        reply = _cut_history(reply)
    return _tidy(_cut_dash_signature(_drop_quoted_lines(reply)))


def split_forward(text: str, subject: str = "") -> tuple[str, str] | None:
    """(the sender's note, the forwarded message below its marker), or None.

    Inline forwards are found by their marker line (Gmail, Apple Mail,
    Thunderbird and their translations). Outlook writes no marker: under a
    "FW:" subject, its first header block or "Original Message" line starts the
    forwarded message instead. So it does in a message that is not a reply (its
    subject has neither a forward nor a reply prefix): a mail header block
    pasted into a new report is evidence, not reply history.
    """
    lines = text.split("\n")
    marker = next((i for i, line in enumerate(lines) if rules.FORWARD_MARKER.match(line)), None)
    if marker is not None:
        return "\n".join(lines[:marker]), "\n".join(lines[marker + 1 :])
    subject = (subject or "").strip()
    if rules.FORWARD_SUBJECT.match(subject) or (subject and not rules.REPLY_SUBJECT.match(subject)):
        start = next(
            (
                i
                for i in range(len(lines))
                if rules.HISTORY_LINE.match(lines[i]) or _header_block_at(lines, i)
            ),
            None,
        )
        if start is not None:
            skip = 1 if rules.HISTORY_LINE.match(lines[start]) else 0
            return "\n".join(lines[:start]), "\n".join(lines[start + skip :])
    return None


def forwarded_section(forwarded: str) -> str:
    """A forwarded message as the stewards read it: the heading, then all of it."""
    lines = forwarded.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join([FORWARD_HEADING, *lines])


def strip_quotes(text: str, subject: str = "") -> str:
    """Return only the newly written part of ``text`` (quotes and signature removed).

    A forwarded message is kept whole after the sender's own note. Never returns
    an empty string for non-blank input: if everything looks like quote or
    signature, the original text is returned unchanged.
    """
    if not text or not text.strip():
        return text
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    forward = split_forward(normalised, subject)
    if forward is not None:
        note, forwarded = forward
        own = _reply_only(note) if note.strip() else ""
        return "\n\n".join(part for part in (own, forwarded_section(forwarded)) if part)
    reply = _reply_only(normalised)
    return reply if reply else text
