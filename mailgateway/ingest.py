"""From raw bytes to the case record, one transaction per group of messages.

This is where the gateway keeps invariant 1: the caller answers 250 only after
`ingest_many` returns a result for the message, and results are returned only
after the raw message, its entry and any acknowledgement are committed together.
Messages that arrive together share that commit, and messages that open a plain
case are written in bulk (`core.intake.opening`); that is what lets a busy mailbox be
taken in at the pace its senders deliver.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.casework import actions
from core.casework import cases as case_service
from core.casework.cases import EntryKind, ReportDraft, Source
from core.casework.correspondence import (
    EMAIL,
    compose,
    mail_thread_key,
    new_message_id,
    queue_email,
)
from core.casework.deadlines import DeadlineKind, next_pending
from core.casework.people import Contact
from core.decisions import appeals
from core.infra.clock import human, utcnow
from core.infra.crypto import hash_index
from core.infra.db import Database
from core.infra.logs import about
from core.infra.models import Attachment, Case, Entry, InboundMessage, MailReference, OutboxItem
from core.infra.outbox import row as outbox_row
from core.infra.settings import Settings
from core.intake import anonymity
from core.intake.attachments import attachment_rows, refused_note
from core.intake.opening import OpenedRecord, is_plain, open_plain_cases
from mailgateway.correlate import Correlation, correlate
from mailgateway.parsing import ParsedMail, parse_message

log = logging.getLogger(__name__)

ACK_KIND = "acknowledgement"
ACK_TEMPLATE = "acknowledgement"


_RECEIVED = select(InboundMessage.dedupe_key_hash, InboundMessage.case_id).where(
    InboundMessage.dedupe_key_hash.in_(bindparam("keys", expanding=True))
)
_RECENT_ACKS = (
    select(OutboxItem.recipient_hash, func.count())
    .where(
        OutboxItem.kind == ACK_KIND,
        OutboxItem.recipient_hash.in_(bindparam("recipients", expanding=True)),
        OutboxItem.created_at >= bindparam("since"),
    )
    .group_by(OutboxItem.recipient_hash)
)
# Both of a group's lookups in one statement, so one round trip to the server: rows of
# (hash, number, which), `which` 0 for a message already received (number: its case)
# and 1 for acknowledgements sent to an address (number: how many).
_LOOKUPS = union_all(
    _RECEIVED.add_columns(literal_column("0")), _RECENT_ACKS.add_columns(literal_column("1"))
)


_INSERT_REFERENCES = insert(MailReference)
_INSERT_MESSAGES = insert(InboundMessage)
_INSERT_ATTACHMENTS = insert(Attachment)


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


Outcome = IngestResult | Exception


@dataclass
class _Plain:
    """A message that opens a plain case, waiting for the group's bulk insert."""

    index: int
    parsed: ParsedMail
    envelope: Envelope
    key: str
    draft: ReportDraft
    return_path: str


class MailIngest:
    """Turns delivered messages into case record changes."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def ingest(self, raw: bytes, envelope: Envelope) -> IngestResult:
        """One message; raises when it could not be stored (the caller answers 451)."""
        (outcome,) = self.ingest_many([(raw, envelope)])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def ingest_many(self, deliveries: Sequence[tuple[bytes, Envelope]]) -> list[Outcome]:
        """Parse and store a group of messages; one outcome per message, in order."""
        return self.store_many(
            [(self.parse(raw, envelope), envelope) for raw, envelope in deliveries]
        )

    def parse(self, raw: bytes, envelope: Envelope) -> ParsedMail:
        """Everything the record needs from the bytes; never fails on bad input (see defects).

        `parse_message` normalises line endings itself, and notes a bare CR it neutralised
        in the headers as a defect; normalising here first would hide that defect."""
        return parse_message(
            raw,
            envelope_from=envelope.mail_from,
            authserv_id=self.settings.authserv_id,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            max_attachments=self.settings.max_attachments,
        )

    def store_many(self, items: Sequence[tuple[ParsedMail, Envelope]]) -> list[Outcome]:
        """One outcome per parsed message, in order: its result, or the error that kept it out.

        The group is stored in one transaction. If that fails, each message is tried
        alone, so one message that cannot be stored costs only its own 451.
        """
        if not items:
            return []
        try:
            return list(self._store(list(items)))
        except Exception as exc:  # noqa: BLE001 - every message gets its own outcome
            if len(items) == 1:
                return [self._after_failure(items[0][0], exc)]
            return [self._store_alone(parsed, envelope) for parsed, envelope in items]

    def _store(self, items: list[tuple[ParsedMail, Envelope]]) -> list[IngestResult]:
        with self.db.session() as session:
            return self._record_group(session, items)

    def _store_alone(self, parsed: ParsedMail, envelope: Envelope) -> Outcome:
        try:
            return self._store([(parsed, envelope)])[0]
        except Exception as exc:  # noqa: BLE001 - handed back as this message's outcome
            return self._after_failure(parsed, exc)

    def _after_failure(self, parsed: ParsedMail, exc: Exception) -> Outcome:
        """A unique-key clash usually means a concurrent delivery of the same message won
        the race: then it is stored once, as promised, and this one is its duplicate."""
        if isinstance(exc, IntegrityError):
            with self.db.session() as session:
                earlier = self._already_received(session, [dedupe_key(parsed)])
            if earlier:
                return _duplicate_of(next(iter(earlier.values())))
        return exc

    def _already_received(self, session: Session, keys: list[str]) -> dict[str, int]:
        by_hash = hash_index(keys)
        rows = session.connection().execute(_RECEIVED, {"keys": list(by_hash)})
        return {by_hash[key_hash]: case_id for key_hash, case_id in rows}

    def _lookups(
        self, session: Session, keys: list[str], addresses: list[str | None]
    ) -> tuple[dict[str, int], Counter[str]]:
        """Which of a group's messages were received before (with their case), and how many
        acknowledgements each sender had in the last hour (the per-sender limit)."""
        received = hash_index(keys)
        recipients = hash_index(list({a for a in addresses if a}))
        parameters = {
            "keys": list(received),
            "recipients": list(recipients),
            "since": utcnow() - timedelta(hours=1),
        }
        earlier: dict[str, int] = {}
        acks: Counter[str] = Counter()
        for value_hash, number, which in session.connection().execute(_LOOKUPS, parameters):
            if which == 0:
                earlier[received[value_hash]] = number
            else:
                acks[recipients[value_hash]] += number
        return earlier, acks

    def _record_group(
        self, session: Session, items: list[tuple[ParsedMail, Envelope]]
    ) -> list[IngestResult]:
        keys = [dedupe_key(parsed) for parsed, _ in items]
        earlier, acks = self._lookups(
            session, keys, [_usable_return_path(e.mail_from) for _, e in items]
        )
        results: list[IngestResult | None] = [None] * len(items)
        plain: list[_Plain] = []
        first_of: dict[str, int] = {}
        for i, ((parsed, envelope), key) in enumerate(zip(items, keys, strict=True)):
            if key in earlier or key in first_of:
                continue
            first_of[key] = i
            found = self._correlate(session, parsed, envelope)
            candidate = self._plain(i, parsed, envelope, key, found, acks)
            if candidate is not None:
                plain.append(candidate)
            else:
                results[i] = self._record(session, parsed, envelope, key, found, acks)
        for candidate, result in zip(plain, self._open_plain(session, plain), strict=True):
            results[candidate.index] = result
        for i, key in enumerate(keys):
            if results[i] is None:
                first = results[first_of[key]] if key in first_of else None
                results[i] = _duplicate_of(first.case_ref if first else earlier[key])
        return [r for r in results if r is not None]

    def _correlate(self, session: Session, parsed: ParsedMail, envelope: Envelope) -> Correlation:
        return correlate(
            session,
            self.settings,
            recipients=envelope.rcpt_tos,
            sender=parsed.from_address,
            message_ids=[*parsed.in_reply_to, *parsed.references],
            subject=parsed.subject,
        )

    def _plain(
        self,
        index: int,
        parsed: ParsedMail,
        envelope: Envelope,
        key: str,
        found: Correlation,
        acks: Counter[str],
    ) -> _Plain | None:
        """A person's new report that needs nothing but the usual: it can be opened in bulk."""
        return_path = _usable_return_path(envelope.mail_from)
        if (
            found.case is not None
            or found.stranger_tag
            or parsed.automatic
            or parsed.auth.verified is False
            or parsed.refused
            or return_path is None
            or acks[return_path] >= self.settings.ack_rate_per_hour
        ):
            return None
        draft = self._draft(parsed, envelope)
        if not is_plain(draft):
            return None
        acks[return_path] += 1
        return _Plain(index, parsed, envelope, key, draft, return_path)

    def _draft(self, parsed: ParsedMail, envelope: Envelope) -> ReportDraft:
        return ReportDraft(
            source=Source.EMAIL,
            text=parsed.reply_text,
            full_text=parsed.body_text,
            reporter=Contact(email=parsed.from_address, display_name=parsed.from_name),
            anonymous=anonymity.asks_anonymity(parsed.subject),
            reporter_reply_address=_usable_return_path(envelope.mail_from),
            contact_preference="email",
            data=mail_entry_data(parsed, via=None),
            root_message_id=parsed.message_id or new_message_id(self.settings.conduct_domain),
        )

    def _open_plain(self, session: Session, plain: list[_Plain]) -> list[IngestResult]:
        """Open the group's plain cases, acknowledge them and keep their evidence, in bulk."""
        if not plain:
            return []
        session.flush()  # cases opened one by one above must be visible to the bulk insert
        conn = session.connection()
        references: list[dict[str, Any]] = []

        def acknowledgements(opened: list[OpenedRecord]) -> list[dict[str, Any]]:
            mails = [self._acknowledgement(p, r) for p, r in zip(plain, opened, strict=True)]
            references.extend(reference for reference, _ in mails)
            return [item for _, item in mails]

        opened = open_plain_cases(conn, [p.draft for p in plain], self.settings, acknowledgements)
        conn.execute(_INSERT_REFERENCES, references)
        evidence = [
            _evidence_rows(record.id, record.report_entry_id, p.parsed, p.envelope, p.key)
            for p, record in zip(plain, opened, strict=True)
        ]
        conn.execute(_INSERT_MESSAGES, [message for message, _ in evidence])
        attachments = [row for _, rows in evidence for row in rows]
        if attachments:
            conn.execute(_INSERT_ATTACHMENTS, attachments)
        for record in opened:
            log.info(
                "mail recorded on %s (new case: True, automatic: no)",
                record.ref,
                extra=about(record.ref),
            )
        return [IngestResult(record.ref, True, False, True, None) for record in opened]

    def _acknowledgement(
        self, plain: _Plain, record: OpenedRecord
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The acknowledgement of a plain case: its Message-ID reference and outbox row."""
        payload = compose(
            self.settings,
            record,
            record.reply_token,
            plain.return_path,
            ACK_TEMPLATE,
            in_reply_to=plain.parsed.message_id,
            references=plain.parsed.references,
            automatic=True,
            context={
                "ack_due": human(record.ack_due),
                "files_note": "",
                **anonymity.acknowledgement_context(False, record.ref),
            },
        )
        reference = {
            "message_id": payload["message_id"],
            "case_id": record.id,
            "party_id": record.reporter_party_id,
        }
        item = outbox_row(
            EMAIL,
            ACK_KIND,
            payload,
            case_id=record.id,
            recipient=plain.return_path,
            ordering_key=mail_thread_key(record.id, record.reporter_party_id),
        )
        return reference, item

    def _record(
        self,
        session: Session,
        parsed: ParsedMail,
        envelope: Envelope,
        key: str,
        found: Correlation,
        acks: Counter[str],
    ) -> IngestResult:
        if found.case is None:
            case, entry = self._open_case(session, parsed, envelope, found)
            acknowledged = self._acknowledge(session, case, parsed, envelope, acks)
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
            extra=about(case.ref),
        )
        return IngestResult(case.ref, new_case, False, acknowledged, parsed.automatic)

    def _open_case(
        self, session: Session, parsed: ParsedMail, envelope: Envelope, found: Correlation
    ) -> tuple[Case, Entry]:
        opened = case_service.open_case(session, self._draft(parsed, envelope), self.settings)
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
        entry = actions.receive_message(
            session,
            case,
            party,
            parsed.reply_text,
            source=Source.EMAIL,
            kind=kind,
            full_text=parsed.body_text,
            data=data,
        )
        if not parsed.automatic:
            anonymity.follow_request(
                session, self.settings, case, party, parsed.subject, parsed.reply_text, data
            )
        return entry

    def _acknowledge(
        self,
        session: Session,
        case: Case,
        parsed: ParsedMail,
        envelope: Envelope,
        acks: Counter[str],
    ) -> bool:
        """RFC 3834: answer people, never machines, and never flood one sender."""
        return_path = _usable_return_path(envelope.mail_from)
        if parsed.automatic or return_path is None:
            return False
        if acks[return_path] >= self.settings.ack_rate_per_hour:
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
            ACK_TEMPLATE,
            kind=ACK_KIND,
            to=return_path,
            in_reply_to=parsed.message_id,
            references=parsed.references,
            automatic=True,
            context={
                "ack_due": ack_due,
                "files_note": self._files_note(parsed),
                **anonymity.acknowledgement_context(reporter.anonymous, case.ref),
            },
        )
        acks[return_path] += 1
        return True

    def _files_note(self, parsed: ParsedMail) -> str:
        """The acknowledgement's word on attachments that were not kept, and why."""
        if not parsed.refused:
            return ""
        settings = self.settings
        note = refused_note(parsed.refused, settings.max_attachment_bytes, settings.max_attachments)
        return "\n\nSome of the files you attached were not kept:\n" + note

    def _keep_evidence(
        self,
        session: Session,
        case: Case,
        entry: Entry,
        parsed: ParsedMail,
        envelope: Envelope,
        key: str,
    ) -> None:
        session.flush()
        message, attachments = _evidence_rows(case.id, entry.id, parsed, envelope, key)
        session.execute(_INSERT_MESSAGES, [message])
        if attachments:
            session.execute(_INSERT_ATTACHMENTS, attachments)
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


def _evidence_rows(
    case_id: int, entry_id: int, parsed: ParsedMail, envelope: Envelope, key: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The raw message as received and its stored attachments, tied to their entry."""
    message = {
        "case_id": case_id,
        "entry_id": entry_id,
        "dedupe_key": key,
        "message_id": parsed.message_id,
        "sha256": hashlib.sha256(parsed.raw).hexdigest(),
        "size": len(parsed.raw),
        "raw": parsed.raw,
        "envelope_from": envelope.mail_from or "",
        "envelope_to": {"rcpt_tos": list(envelope.rcpt_tos)},
        "automatic": parsed.automatic,
        "sender_verified": parsed.auth.verified,
        "received_at": utcnow(),
    }
    attachments = attachment_rows(case_id, entry_id, parsed.attachments)
    return message, attachments


def _duplicate_of(case: str | int) -> IngestResult:
    ref = case if isinstance(case, str) else f"COC-{case}"
    log.info("duplicate delivery for %s ignored", ref, extra=about(ref))
    return IngestResult(ref, False, True, False, None)


def _usable_return_path(mail_from: str | None) -> str | None:
    value = (mail_from or "").strip().strip("<>").strip().lower()
    return value or None
