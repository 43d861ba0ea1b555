"""From raw bytes to the case record, in one transaction.

This is where the gateway keeps invariant 1: the caller answers 250 only after
`ingest` returns, and `ingest` returns only after the raw message, its entry and
any acknowledgement are committed together.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import actions, appeals
from core import cases as case_service
from core.cases import EntryKind, ReportDraft, Source
from core.clock import human, utcnow
from core.correspondence import new_message_id, queue_email
from core.db import Database
from core.deadlines import DeadlineKind, next_pending
from core.models import Attachment, Case, Entry, InboundMessage, OutboxItem
from core.people import Contact
from core.settings import Settings
from mailgateway.correlate import Correlation, correlate
from mailgateway.parsing import ParsedMail, normalise_line_endings, parse_message

log = logging.getLogger(__name__)

ACK_KIND = "acknowledgement"


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]


@dataclass(frozen=True)
class IngestResult:
    case_ref: str
    new_case: bool
    duplicate: bool
    acknowledged: bool
    automatic: str | None


class MailIngest:
    """Turns one delivered message into case record changes."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def ingest(self, raw: bytes, envelope: Envelope) -> IngestResult:
        normalised = normalise_line_endings(raw)
        parsed = parse_message(
            normalised,
            envelope_from=envelope.mail_from,
            authserv_id=self.settings.authserv_id,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            max_attachments=self.settings.max_attachments,
        )
        key = dedupe_key(parsed)
        try:
            with self.db.session() as session:
                earlier = self._already_received(session, key)
                if earlier is not None:
                    return earlier
                return self._record(session, parsed, envelope, key)
        except IntegrityError:
            # A concurrent delivery of the same message won the race: one entry, as promised.
            with self.db.session() as session:
                earlier = self._already_received(session, key)
            if earlier is None:
                raise
            return earlier

    def _already_received(self, session: Session, key: str) -> IngestResult | None:
        case_id = session.scalar(
            select(InboundMessage.case_id).where(InboundMessage.dedupe_key == key)
        )
        if case_id is None:
            return None
        log.info("duplicate delivery for COC-%s ignored", case_id)
        return IngestResult(f"COC-{case_id}", False, True, False, None)

    def _record(
        self, session: Session, parsed: ParsedMail, envelope: Envelope, key: str
    ) -> IngestResult:
        found = correlate(
            session,
            self.settings,
            recipients=envelope.rcpt_tos,
            sender=parsed.from_address,
            message_ids=[*parsed.in_reply_to, *parsed.references],
            subject=parsed.subject,
        )
        if found.case is None:
            case, entry = self._open_case(session, parsed, envelope, found)
            acknowledged = self._acknowledge(session, case, parsed, envelope)
            new_case = True
        else:
            case, entry = found.case, self._add_to_case(session, found, parsed)
            acknowledged, new_case = False, False
        self._keep_evidence(session, case, entry, parsed, envelope, key)
        log.info(
            "mail recorded on %s (new case: %s, automatic: %s)",
            case.ref,
            new_case,
            parsed.automatic or "no",
        )
        return IngestResult(case.ref, new_case, False, acknowledged, parsed.automatic)

    def _open_case(
        self, session: Session, parsed: ParsedMail, envelope: Envelope, found: Correlation
    ) -> tuple[Case, Entry]:
        draft = ReportDraft(
            source=Source.EMAIL,
            text=parsed.reply_text,
            full_text=parsed.body_text,
            reporter=Contact(email=parsed.from_address, display_name=parsed.from_name),
            reporter_reply_address=_usable_return_path(envelope.mail_from),
            contact_preference="email",
            data=mail_entry_data(parsed, via=None),
            root_message_id=parsed.message_id or new_message_id(self.settings.conduct_domain),
        )
        opened = case_service.open_case(session, draft, self.settings)
        case, entry = opened.case, opened.report
        if parsed.automatic:
            case_service.flag(session, case, "automatic", parsed.automatic)
        if parsed.auth.verified is False:
            case_service.flag(session, case, "unverified_sender", True)
        if found.stranger_tag:
            case_service.flag(session, case, "stranger_case_tag", found.stranger_tag)
            case_service.system_entry(
                session,
                case,
                f"The subject named {found.stranger_tag}, but the sender is not on that case, "
                "so this message opened a new case instead.",
                claimed_case=found.stranger_tag,
            )
        return case, entry

    def _add_to_case(self, session: Session, found: Correlation, parsed: ParsedMail) -> Entry:
        case = found.case
        assert case is not None
        kind = EntryKind.AUTOMATIC_MAIL if parsed.automatic else EntryKind.INBOUND_MAIL
        data = mail_entry_data(parsed, via=found.via)
        party = found.party
        if (
            party is not None
            and parsed.from_address
            and not case_service.reachable_at(party, parsed.from_address)
        ):
            data["sender_differs_from_party"] = True
        if not parsed.automatic and appeals.is_appeal(session, case, party):
            # A reply to the decision, or a tagged mail from its reporter or reported person.
            assert party is not None
            appeal = appeals.receive_appeal(
                session,
                self.settings,
                case,
                party,
                parsed.reply_text,
                source=Source.EMAIL,
                full_text=parsed.body_text,
                data=data,
            )
            assert appeal.entry is not None
            return appeal.entry
        return actions.receive_message(
            session,
            case,
            party,
            parsed.reply_text,
            source=Source.EMAIL,
            kind=kind,
            full_text=parsed.body_text,
            data=data,
        )

    def _acknowledge(
        self, session: Session, case: Case, parsed: ParsedMail, envelope: Envelope
    ) -> bool:
        """RFC 3834: answer people, never machines, and never flood one sender."""
        return_path = _usable_return_path(envelope.mail_from)
        if parsed.automatic or return_path is None:
            return False
        if self._recent_acks(session, return_path) >= self.settings.ack_rate_per_hour:
            case_service.system_entry(
                session,
                case,
                "No acknowledgement was sent: this sender has had several in the last hour.",
                reason="ack-rate-limit",
            )
            return False
        reporter = case_service.reporter_of(case)
        if reporter is None:
            return False
        due = next_pending(session, case.id)
        ack_due = human(due.due_at) if due and due.kind == DeadlineKind.ACKNOWLEDGEMENT else "soon"
        queue_email(
            session,
            self.settings,
            case,
            reporter,
            "acknowledgement",
            kind=ACK_KIND,
            to=return_path,
            in_reply_to=parsed.message_id,
            references=parsed.references,
            automatic=True,
            context={"ack_due": ack_due},
        )
        return True

    def _recent_acks(self, session: Session, address: str) -> int:
        since = utcnow() - timedelta(hours=1)
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(
                    OutboxItem.kind == ACK_KIND,
                    OutboxItem.recipient == address,
                    OutboxItem.created_at >= since,
                )
            )
            or 0
        )

    def _keep_evidence(
        self,
        session: Session,
        case: Case,
        entry: Entry,
        parsed: ParsedMail,
        envelope: Envelope,
        key: str,
    ) -> None:
        session.add(
            InboundMessage(
                case_id=case.id,
                entry=entry,
                dedupe_key=key,
                message_id=parsed.message_id,
                sha256=hashlib.sha256(parsed.raw).hexdigest(),
                size=len(parsed.raw),
                raw=parsed.raw,
                envelope_from=envelope.mail_from or "",
                envelope_to={"rcpt_tos": list(envelope.rcpt_tos)},
                automatic=parsed.automatic,
                sender_verified=parsed.auth.verified,
            )
        )
        for attachment in parsed.attachments:
            session.add(
                Attachment(
                    case_id=case.id,
                    entry=entry,
                    filename=attachment.filename,
                    original_filename=attachment.original_filename,
                    content_type=attachment.content_type,
                    size=len(attachment.content),
                    sha256=hashlib.sha256(attachment.content).hexdigest(),
                    content=attachment.content,
                )
            )
        if parsed.refused:
            lines = [
                f"- {r.original_filename or 'unnamed'} ({r.content_type}, "
                f"{r.size} bytes): {r.reason}"
                for r in parsed.refused
            ]
            case_service.system_entry(
                session,
                case,
                "Some attachments were not stored:\n" + "\n".join(lines),
                refused=[r.reason for r in parsed.refused],
            )
        session.flush()


def dedupe_key(parsed: ParsedMail) -> str:
    """The Message-ID when there is one, else a hash of the bytes: the same mail twice is one."""
    if parsed.message_id:
        return "mid:" + parsed.message_id[:250]
    return "sha256:" + hashlib.sha256(parsed.raw).hexdigest()


def mail_entry_data(parsed: ParsedMail, via: str | None) -> dict[str, object]:
    return {
        "subject": parsed.subject,
        "from": parsed.from_address,
        "message_id": parsed.message_id,
        "via": via,
        "automatic": parsed.automatic,
        "defects": list(parsed.defects),
        "sender_verified": parsed.auth.verified,
        "auth_results": dict(parsed.auth.results),
        "attachments": [a.filename for a in parsed.attachments],
    }


def _usable_return_path(mail_from: str | None) -> str | None:
    value = (mail_from or "").strip().strip("<>").strip().lower()
    return value or None
