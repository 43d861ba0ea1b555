"""The *View report* modal: the full report, the people, the evidence and the timeline.

Long content is split across blocks and, past what one modal holds (100 blocks,
250 KB), across pages with *Previous page* and *Next page* buttons: nothing is
cut without saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from slackapp.blocks.common import (
    SECTION_LIMIT,
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    json_size,
    modal,
    section,
    sections,
    text_sections,
)

CALLBACK_ID = "case_view"
PAGE_BLOCKS = 90
# A page's blocks stay well under Slack's 250 KB per view, leaving room for the
# header, the page buttons, the title and the metadata around them.
PAGE_BYTES = 200_000
PREVIOUS_PAGE = "case_view_page_previous"
NEXT_PAGE = "case_view_page_next"

ENTRY_LABELS = {
    "report": "Report",
    "inbound_mail": "Email from {who}",
    "automatic_mail": "Automatic email",
    "reporter_message": "Message from {who}",
    "respondent_message": "Message from {who} (reported person)",
    "steward_note": "Steward note",
    "relay_out": "Sent to {who}",
    "system": "Steward (system)",
}


@dataclass
class PersonLine:
    role: str
    name: str


@dataclass
class EntryLine:
    kind: str
    who: str
    when: str
    text: str
    extra: list[str] = field(default_factory=list)


@dataclass
class CaseReport:
    case_id: int
    ref: str
    code_name: str
    status: str
    category: str | None
    facts: list[str]
    people: list[PersonLine]
    snapshot: dict[str, Any] | None
    entries: list[EntryLine]
    attachments: list[str]
    category_label: str = "-"
    # The earlier cases of the people named, as lines; only in this modal, never the channel.
    earlier: list[str] = field(default_factory=list)
    # Set by a reader that opens one page's entries only: every entry's size, in order.
    # `entries` then holds just the entries `entries_on_page` named, in that order.
    sizes: list[EntrySize] | None = None
    plan: list[list[Block | Piece]] | None = field(default=None, repr=False, compare=False)


# Paging without opening every entry: each page's entries are chosen from their sizes
# alone (`EntrySize`), with what an entry could cost at worst, so a steward's page n
# opens only the entries page n shows. An entry longer than `PIECE_BYTES` is shown
# in parts, each marked "part i of n", over as many slots (and pages) as it needs.
PIECE_BYTES = 6000
# Where a part may end early so as not to cut a word, a UTF-8 character or a mention.
PIECE_SLACK = PIECE_BYTES // 10 + 64
# What one byte of stored text can grow to on the wire: `&` escapes to `&amp;`, and a
# control character to a six-byte JSON escape. One character, counted as such (titles,
# the extra line), can take twelve: a character outside the BMP is two JSON escapes.
ESCAPED_CHARS_PER_BYTE = 5
JSON_BYTES_PER_BYTE = 6
JSON_BYTES_PER_CHAR = 12
TITLE_LIMIT = 300
EXTRA_LIMIT = 2000
# What the labels of an entry's extra line add to the data they come from (`_entry_extra`).
EXTRA_LABEL_CHARS = 400


class EntrySize(NamedTuple):
    """What paging knows of an entry before it is opened: the bytes of its text, and an
    upper bound on the characters of its extra line (0: it has none). A tuple, as a
    long case has thousands."""

    text_bytes: int
    extra_chars: int = 0

    @classmethod
    def of(cls, entry: EntryLine) -> EntrySize:
        return cls(len(entry.text.encode()), len(" · ".join(entry.extra)))

    @property
    def parts(self) -> int:
        return max(1, -(-self.text_bytes // PIECE_BYTES))


class Piece(NamedTuple):
    """Part `part` (0-based) of entry number `entry` on the report's timeline."""

    entry: int
    part: int
    parts: int


@lru_cache(maxsize=4096)
def _piece_cost(size: EntrySize, part: int) -> tuple[int, int]:
    """The most blocks and wire bytes one part of an entry can take, from its sizes."""
    text_bytes = size.text_bytes if size.parts == 1 else PIECE_BYTES + PIECE_SLACK
    escaped = max(1, text_bytes * ESCAPED_CHARS_PER_BYTE)
    # `split_text` ends a section no earlier than half its limit.
    count = 1 if escaped <= SECTION_LIMIT else escaped // (SECTION_LIMIT // 2) + 1
    blocks = 1 + count
    wire = _TITLE_BYTES + count * _SECTION_BYTES + text_bytes * JSON_BYTES_PER_BYTE
    if part == 0:
        blocks += 1
        wire += _DIVIDER_BYTES
        if size.extra_chars:
            blocks += 1
            # `clip` keeps it to EXTRA_LIMIT characters once escaped.
            extra = min(EXTRA_LIMIT, size.extra_chars)
            wire += _CONTEXT_BYTES + extra * JSON_BYTES_PER_CHAR
    return blocks, wire


_CONTEXT_BYTES = json_size(context(""))
_TITLE_BYTES = _CONTEXT_BYTES + TITLE_LIMIT * JSON_BYTES_PER_CHAR
_SECTION_BYTES = json_size(section("_(empty)_"))
_DIVIDER_BYTES = json_size(divider())


def report_plan(report: CaseReport) -> list[list[Block | Piece]]:
    """The report cut into modal-sized pages: blocks ready to show, and the parts of
    entries to fill in, each page within `PAGE_BLOCKS` and `PAGE_BYTES` at worst.
    A paged report's plan is kept with it: its reader and its builder both ask."""
    if report.sizes is not None and report.plan is not None:
        return report.plan
    sizes = report.sizes if report.sizes is not None else [EntrySize.of(e) for e in report.entries]
    pages: list[list[Block | Piece]] = [[]]
    used = [0, 0]  # blocks, wire bytes

    def place(item: Block | Piece, blocks: int, wire: int) -> None:
        if pages[-1] and (used[0] + blocks > PAGE_BLOCKS or used[1] + wire > PAGE_BYTES):
            pages.append([])
            used[:] = [0, 0]
        pages[-1].append(item)
        used[0] += blocks
        used[1] += wire

    for block in _head(report):
        place(block, 1, json_size(block))
    for number, size in enumerate(sizes):
        parts = size.parts
        for part in range(parts):
            place(Piece(number, part, parts), *_piece_cost(size, min(part, 1)))
    for block in _attachments(report):
        place(block, 1, json_size(block))
    if report.sizes is not None:
        report.plan = pages
    return pages


def entries_on_page(report: CaseReport, page: int) -> tuple[int, list[int]]:
    """The page actually shown (`page` kept in range) and the entries it needs opened,
    by their number on the timeline: all a reader must load to show that page."""
    plan = report_plan(report)
    page = max(0, min(page, len(plan) - 1))
    return page, _entries_of(plan[page])


def _entries_of(items: list[Block | Piece]) -> list[int]:
    return list(dict.fromkeys(i.entry for i in items if isinstance(i, Piece)))


def report_pages(report: CaseReport) -> list[list[Block]]:
    """Every block of a report holding all its entries, cut into modal-sized pages."""
    return [_render(report, items, report.entries) for items in report_plan(report)]


def report_modal(report: CaseReport, page: int = 0) -> Block:
    """One page of the report. A paged report (`sizes` set) holds only that page's
    entries, as `entries_on_page` listed them."""
    plan = report_plan(report)
    page = max(0, min(page, len(plan) - 1))
    if report.sizes is None:
        entries = report.entries
    else:
        entries = dict(zip(_entries_of(plan[page]), report.entries, strict=True))
    blocks = _render(report, plan[page], entries)
    if len(plan) > 1:
        blocks.append(context(f"Page {page + 1} of {len(plan)}"))
        buttons = []
        if page > 0:
            buttons.append(button("Previous page", PREVIOUS_PAGE, f"{report.case_id}:{page - 1}"))
        if page + 1 < len(plan):
            buttons.append(button("Next page", NEXT_PAGE, f"{report.case_id}:{page + 1}"))
        blocks.append(actions("case_view_pages", *buttons))
    metadata = json.dumps({"case_id": report.case_id, "page": page})
    return modal(report.ref, blocks, callback_id=CALLBACK_ID, private_metadata=metadata)


def _head(report: CaseReport) -> list[Block]:
    blocks: list[Block] = [
        header(f"{report.ref} · {report.code_name}"),
        section(f"*Status:* {report.status}   *Category:* {report.category_label}"),
    ]
    if report.facts:
        blocks += sections("\n".join(escape(f) for f in report.facts))
    blocks += sections("*People*\n" + _people(report.people))
    if report.earlier:
        blocks += sections(
            "*Earlier cases of the people named*\n"
            + "\n".join(f"• {escape(line)}" for line in report.earlier)
        )
    if report.snapshot:
        blocks += _snapshot(report.snapshot)
    return blocks


def _attachments(report: CaseReport) -> list[Block]:
    if not report.attachments:
        return []
    return [
        divider(),
        section(f"*Attachments* ({len(report.attachments)})"),
        *text_sections("\n".join(report.attachments)),
    ]


def _render(
    report: CaseReport, items: list[Block | Piece], entries: Mapping[int, EntryLine] | list
) -> list[Block]:
    blocks: list[Block] = []
    for item in items:
        if isinstance(item, Piece):
            blocks += _piece(entries[item.entry], item)
        else:
            blocks.append(item)
    return blocks


def _piece(entry: EntryLine, piece: Piece) -> list[Block]:
    """One part of an entry: its title, which part it is, and that part's text."""
    blocks = [divider()] if piece.part == 0 else []
    blocks.append(context(_title(entry, piece)))
    blocks += text_sections(text_part(entry.text, piece.part, piece.parts))
    if piece.part == 0 and entry.extra:
        blocks.append(context(clip(" · ".join(entry.extra), EXTRA_LIMIT)))
    return blocks


def _title(entry: EntryLine, piece: Piece) -> str:
    """The entry's title line; a very long name is cut so the line keeps its bound."""
    title = ENTRY_LABELS.get(entry.kind, entry.kind).format(who=entry.who)
    if len(title) > TITLE_LIMIT // 2:
        title = title[: TITLE_LIMIT // 2 - 1] + "…"
    line = f"*{title}* · {entry.when}"
    if piece.parts > 1:
        more = "continues below" if piece.part + 1 < piece.parts else "end"
        line += f" · part {piece.part + 1} of {piece.parts} ({more})"
    return line[:TITLE_LIMIT]


def text_part(text: str, part: int, parts: int) -> str:
    """Part `part` of `parts` of an entry's text: about `PIECE_BYTES` of UTF-8 each, ended
    at a line or word break near the cut where there is one, never inside a character
    or a mention. The parts, in order, are the whole text."""
    if parts == 1:
        return text
    raw = text.encode()
    return raw[_cut(raw, part, parts) : _cut(raw, part + 1, parts)].decode()


def _cut(raw: bytes, part: int, parts: int) -> int:
    if part == 0:
        return 0
    if part >= parts:
        return len(raw)
    cut = min(part * PIECE_BYTES, len(raw))
    while 0 < cut < len(raw) and raw[cut] & 0xC0 == 0x80:  # inside a UTF-8 character
        cut -= 1
    floor = max(0, cut - PIECE_BYTES // 10)
    for mark in (b"\n", b" "):
        found = raw.rfind(mark, floor, cut)
        if found >= 0:
            return found + 1
    near = max(0, cut - 40)
    opener = max(raw.rfind(b"<@", near, cut), raw.rfind(b"<#", near, cut))
    if opener > 0 and b">" not in raw[opener:cut]:
        return opener
    return cut


def _people(people: list[PersonLine]) -> str:
    if not people:
        return "_nobody named_"
    return "\n".join(f"• {p.role}: {escape(p.name)}" for p in people)


def _snapshot(snapshot: dict[str, Any]) -> list[Block]:
    author = snapshot.get("user") or snapshot.get("bot_id") or "unknown"
    where = snapshot.get("channel_name") or snapshot.get("channel") or "unknown"
    permalink = snapshot.get("permalink")
    lines = [
        f"*Reported message* by <@{author}> in {escape(str(where))}, ts {snapshot.get('ts')}",
    ]
    if permalink:
        lines.append(f"<{permalink}|Open the message in Slack> (it may have changed since)")
    files = [
        str((f.get("name") if isinstance(f, dict) else f) or "a file")
        for f in snapshot.get("files") or []
    ]
    if files:
        lines.append(f"With files: {escape(', '.join(files))} (those kept are under *Attachments*)")
    blocks = [section("\n".join(lines))]
    blocks += text_sections(snapshot.get("text") or "")
    return blocks
