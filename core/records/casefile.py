"""A case file to hand over: the whole record as JSON and as a readable Markdown file.

A board hearing an appeal, or a successor committee, needs the case as the
stewards saw it: the timeline, the evidence, the decision, the notices exactly
as sent, and the appeals. The JSON is `core/records/export.py`'s record (the same
contract as `steward cases show --json`) with the notices added; the Markdown
is written from that same data, so the two never disagree.

The file respects the record's limits: an anonymous reporter stays anonymous
(their identity and address are in neither file), a steward with a conflict on
the case or named in it cannot take it out, and every export is audited.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.actions import record_refusal
from core.casework.confidentiality import may_see, named_in
from core.casework.people import Contact, code_name_of, is_contact
from core.infra import audit
from core.infra.clock import iso
from core.infra.models import Attachment, Case, OutboxItem, Party
from core.intake.attachments import safe_filename
from core.records.export import case_detail
from core.records.patterns import EarlierCase, earlier_cases
from core.records.retention import is_expunged

EXPORT_ACTION = "case.exported"


class ExportRefused(PermissionError):
    """The case may not be exported (by this person, or at all). The message is safe to show."""


@dataclass(frozen=True)
class ExportedFiles:
    json: Path
    markdown: Path
    evidence: list[Path]


def check_may_export(case: Case, steward_slack_id: str | None) -> None:
    """Refuse an expunged case, and a steward who must not see this one."""
    if is_expunged(case):
        raise ExportRefused(
            f"{case.ref} has been expunged under the retention rules; only its statistics "
            "are kept, so there is no case file to export."
        )
    if steward_slack_id is None or may_see(case, steward_slack_id, {steward_slack_id}):
        return
    if steward_slack_id in named_in(case):
        raise ExportRefused(
            f"You are named in {case.ref}, so its case file must be exported by another steward."
        )
    raise ExportRefused(f"You have declared a conflict on {case.ref}, so it is closed to you.")


def case_file(session: Session, case: Case, viewer: str | None = None) -> dict[str, Any]:
    """The record for the JSON file: `case_detail`, each person's code name, the notices as
    they were sent, and the earlier cases of the people named (as `viewer` may see them)."""
    data = case_detail(session, case)
    for person, party in zip(data["people"], case.parties, strict=True):
        person["code_name"] = None if party.anonymous else code_name_of(party.person)
    data["notices"] = notices_sent(session, case)
    data["earlier_cases"] = [asdict(e) for e in earlier_cases(session, case, viewer)]
    return data


def notices_sent(session: Session, case: Case) -> list[dict[str, Any]]:
    """Every email and direct message Steward queued to the people on the case.

    The addressee is named by role, never by address, so an anonymous reporter's
    address does not reach the file.
    """
    rows = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.case_id == case.id, OutboxItem.kind != "case.root")
        .where(OutboxItem.channel.in_(("email", "chat")))
        .order_by(OutboxItem.id)
    )
    return [_notice(case, row) for row in rows if row.kind != "home"]


def _notice(case: Case, row: OutboxItem) -> dict[str, Any]:
    payload = row.payload or {}
    return {
        "kind": row.kind,
        "channel": row.channel,
        "to_role": _addressee_role(case, row.recipient or payload.get("user")),
        "subject": payload.get("subject"),
        "message": payload.get("message"),
        "body": payload.get("body") or payload.get("text"),
        "status": row.status,
        "queued_at": iso(row.created_at),
        "delivered_at": iso(row.delivered_at),
    }


def _addressee_role(case: Case, recipient: str | None) -> str | None:
    if not recipient:
        return None
    for party in case.parties:
        if _addressed_to(party, recipient):
            return party.role
    return None


def _addressed_to(party: Party, recipient: str) -> bool:
    if party.contact_email and party.contact_email.lower() == recipient.lower():
        return True
    return is_contact(party.person, Contact(email=recipient, slack_user_id=recipient))


def export_case(
    session: Session,
    case: Case,
    out_dir: Path,
    *,
    actor: str = audit.SYSTEM,
    as_steward: str | None = None,
    with_files: bool = False,
) -> ExportedFiles:
    """Write `REF.json` and `REF.md` (and the evidence, if asked) and audit the export.

    A refused export is audited too, as a refused access, so that attempts show.
    """
    try:
        check_may_export(case, as_steward)
    except ExportRefused:
        record_refusal(session, case, as_steward or actor, EXPORT_ACTION)
        raise
    data = case_file(session, case, as_steward)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{case.ref}.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path = out_dir / f"{case.ref}.md"
    md_path.write_text(render_markdown(data), encoding="utf-8")
    evidence = write_evidence(session, case, out_dir / f"{case.ref}-files") if with_files else []
    audit.record(
        session,
        EXPORT_ACTION,
        actor=audit.steward_actor(as_steward) if as_steward else actor,
        case=case,
        files=len(evidence),
        with_evidence=with_files,
    )
    return ExportedFiles(json_path, md_path, evidence)


def write_evidence(session: Session, case: Case, folder: Path) -> list[Path]:
    """The stored files byte for byte, numbered so two files of one name both survive."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    rows = session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
    )
    for number, attachment in enumerate(rows, start=1):
        name = safe_filename(attachment.filename, attachment.content_type, number)
        path = folder / f"{number:02d}-{name}"
        path.write_bytes(attachment.content)
        written.append(path)
    return written


def render_markdown(data: dict[str, Any]) -> str:
    """The case file a person reads: one section per part of the record."""
    sections = [
        _heading(data),
        _people(data),
        _timeline(data),
        _evidence(data),
        _decision(data),
        _notices(data),
        _appeals(data),
        _earlier(data),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _heading(data: dict[str, Any]) -> str:
    code = data["code_of_conduct"]
    return "\n".join(
        [
            f"# Case file {data['ref']} ({data['code_name']})",
            "",
            f"- Status: {data['status']}",
            f"- Source: {data['source']}",
            f"- Category: {data['category'] or '-'}",
            f"- Opened: {data['created_at']}",
            f"- Code of conduct: {code['title']} (version {str(code['version'] or '-')[:12]})",
            f"- Anonymous report: {'yes' if data['anonymous'] else 'no'}",
        ]
    )


def _people(data: dict[str, Any]) -> str:
    lines = ["## People", ""]
    for person in data["people"]:
        if person["anonymous"]:
            lines.append(f"- {person['role']}: anonymous")
            continue
        known = [v for v in (person["name"], person["email"], person["slack_user"]) if v]
        who = ", ".join(known) or "unknown"
        lines.append(f"- {person['role']} ({person['code_name']}): {who}")
    return "\n".join(lines)


def _timeline(data: dict[str, Any]) -> str:
    lines = ["## Timeline", ""]
    for entry in data["entries"]:
        who = f", {entry['party_role']}" if entry["party_role"] else ""
        lines.append(f"### {entry['created_at']} {entry['kind']} ({entry['source']}{who})")
        lines.append("")
        lines.append(_quoted(entry["text"]))
        lines.append("")
    return "\n".join(lines).rstrip()


def _evidence(data: dict[str, Any]) -> str:
    lines = ["## Evidence", ""]
    if data["snapshot"]:
        snapshot = data["snapshot"]
        lines.append(f"The reported message as it was on {snapshot['taken_at']}:")
        lines.append("")
        lines.append(_quoted(str(snapshot.get("text") or "")))
        lines.append("")
    if not data["attachments"]:
        lines.append("No files are stored with this case.")
    else:
        lines += ["| # | File | Type | Size (bytes) | SHA-256 |", "|---|---|---|---|---|"]
        for number, a in enumerate(data["attachments"], start=1):
            lines.append(
                f"| {number} | {_cell(a['filename'])} | {_cell(a['content_type'])} "
                f"| {a['size']} | `{a['sha256']}` |"
            )
    return "\n".join(lines)


def _decision(data: dict[str, Any]) -> str:
    decision = data["decision"]
    if decision is None:
        return "## Decision\n\nNo decision has been recorded."
    lines = ["## Decision", "", *_terms_lines(decision)]
    if decision["appeal_deadline"]:
        lines.append(f"- Appeals open until: {decision['appeal_deadline']}")
    lines += _rationale(decision)
    final = decision["appeal_decision"]
    if final is not None:
        lines += ["", "### Decision on appeal", "", *_terms_lines(final)]
        lines.append(f"- Appeal result: {final['appeal_result'] or '-'}")
        lines += _rationale(final)
    return "\n".join(lines)


def _terms_lines(decision: dict[str, Any]) -> list[str]:
    lines = [
        f"- Outcome: {decision['outcome_label']} (`{decision['outcome']}`)",
        f"- Decided by {decision['decided_by']} on {decision['decided_at']}",
    ]
    for key, label in (
        ("ban_until", "Ban until"),
        ("no_contact_until", "No contact until"),
        ("remove_roles", "Roles removed"),
        ("other_description", "Described as"),
        ("public_statement", "Public statement"),
    ):
        if decision[key]:
            lines.append(f"- {label}: {decision[key]}")
    return lines


def _rationale(decision: dict[str, Any]) -> list[str]:
    """Last, after the list: a quote would swallow the lines that follow it."""
    return ["", "Rationale:", "", _quoted(decision["rationale"])] if decision["rationale"] else []


def _notices(data: dict[str, Any]) -> str:
    if not data["notices"]:
        return "## Notices as sent\n\nNo notices were sent."
    lines = ["## Notices as sent", ""]
    for notice in data["notices"]:
        when = notice["delivered_at"] or f"queued {notice['queued_at']}, {notice['status']}"
        lines.append(
            f"### To the {notice['to_role'] or 'recipient'} by {notice['channel']}: {when}"
        )
        lines.append("")
        if notice["subject"]:
            lines.append(f"Subject: {notice['subject']}")
            lines.append("")
        if notice["body"]:
            lines.append(_quoted(notice["body"]))
        else:
            lines.append(f"Steward's `{notice['message']}` message (worded by the chat app).")
        lines.append("")
    return "\n".join(lines).rstrip()


def _appeals(data: dict[str, Any]) -> str:
    if not data["appeals"]:
        return "## Appeals\n\nNo appeals."
    lines = ["## Appeals", ""]
    for appeal in data["appeals"]:
        late = " (late)" if appeal["late"] else ""
        lines.append(
            f"- {appeal['received_at']}: from the {appeal['party_role'] or 'unknown party'} "
            f"by {appeal['source']}{late}, {appeal['status']}"
        )
        if appeal["accepted_by"]:
            lines.append(
                f"  - accepted by {appeal['accepted_by']} on {appeal['accepted_at']}: "
                f"{appeal['accept_reason'] or ''}"
            )
    return "\n".join(lines)


def _earlier(data: dict[str, Any]) -> str:
    if not data["earlier_cases"]:
        return "## Earlier cases of the people named\n\nNone."
    lines = ["## Earlier cases of the people named", ""]
    lines += [f"- {EarlierCase(**e).line()}" for e in data["earlier_cases"]]
    return "\n".join(lines)


def _quoted(text: str) -> str:
    """Text from people as a block quote, so nothing in it reads as the file's own headings."""
    return "\n".join(f"> {line}" if line else ">" for line in (text or "").splitlines()) or ">"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")
