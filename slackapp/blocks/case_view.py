"""The *View report* modal: the full report, the people, the evidence and the timeline.

Long content is split across blocks and, past what one modal holds (100 blocks,
250 KB), across pages with *Previous page* and *Next page* buttons: nothing is
cut without saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from slackapp.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    group_blocks,
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


def report_pages(report: CaseReport) -> list[list[Block]]:
    """Every block the report needs, cut into modal-sized pages."""
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
    for entry in report.entries:
        blocks.append(divider())
        title = ENTRY_LABELS.get(entry.kind, entry.kind).format(who=entry.who)
        blocks.append(context(f"*{title}* · {entry.when}"))
        blocks += text_sections(entry.text)
        if entry.extra:
            blocks.append(context(clip(" · ".join(entry.extra), 2000)))
    if report.attachments:
        blocks.append(divider())
        blocks.append(section(f"*Attachments* ({len(report.attachments)})"))
        blocks += text_sections("\n".join(report.attachments))
    return group_blocks(blocks, json_size, PAGE_BYTES, PAGE_BLOCKS)


def report_modal(report: CaseReport, page: int = 0) -> Block:
    pages = report_pages(report)
    page = max(0, min(page, len(pages) - 1))
    blocks = list(pages[page])
    if len(pages) > 1:
        blocks.append(context(f"Page {page + 1} of {len(pages)}"))
        buttons = []
        if page > 0:
            buttons.append(button("Previous page", PREVIOUS_PAGE, f"{report.case_id}:{page - 1}"))
        if page + 1 < len(pages):
            buttons.append(button("Next page", NEXT_PAGE, f"{report.case_id}:{page + 1}"))
        blocks.append(actions("case_view_pages", *buttons))
    metadata = json.dumps({"case_id": report.case_id, "page": page})
    return modal(report.ref, blocks, callback_id=CALLBACK_ID, private_metadata=metadata)


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
