"""The case record as database tables (SQLAlchemy 2 declarative models).

The schema itself is made by the Alembic migrations in `core/migrations`; these
classes must stay in step with them (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from core.infra.clock import as_utc, utcnow
from core.infra.sealed import (
    LookupHash,
    SealedBytes,
    SealedJSON,
    SealedText,
    hash_default,
    hashed_lookups,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always handed back timezone-aware.

    SQLite has no time zones; without this, a value read back would be naive and
    compare wrongly against `utcnow()`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Case(Base):
    __tablename__ = "cases"
    # Lists of open cases (App Home) read short ranges of this index, oldest first.
    __table_args__ = (Index("ix_cases_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_name: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str | None] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    immediate_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    root_message_id: Mapped[str | None] = mapped_column(SealedText("cases.root_message_id"))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_thread_ts: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    # The version of the code of conduct the case is handled under (`conduct_codes`).
    conduct_version: Mapped[str | None] = mapped_column(String(64))

    parties: Mapped[list[Party]] = relationship(back_populates="case", order_by="Party.id")
    entries: Mapped[list[Entry]] = relationship(back_populates="case", order_by="Entry.id")
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="case", order_by="Deadline.due_at"
    )

    @property
    def ref(self) -> str:
        return case_ref(self.id)


def case_ref(number: int) -> str:
    """The reference people quote: `COC-<n>`, sequential by opening order."""
    return f"COC-{number}"


class Person(Base):
    """Someone who appears in cases; the same person may be in many."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(SealedText("people.display_name"))
    email: Mapped[str | None] = mapped_column(SealedText("people.email"))
    email_hash: Mapped[str | None] = mapped_column(
        LookupHash("email"), index=True, default=hash_default("email")
    )
    slack_user_id: Mapped[str | None] = mapped_column(SealedText("people.slack_user_id"))
    slack_user_id_hash: Mapped[str | None] = mapped_column(
        LookupHash("slack_user_id"), index=True, default=hash_default("slack_user_id")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How the person is spoken of without being named, the same in every case.
    code_name: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)


class Party(Base):
    """A person in a role on one case, with the reply token that routes their mail."""

    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    reply_token: Mapped[str] = mapped_column(SealedText("parties.reply_token"))
    reply_token_hash: Mapped[str] = mapped_column(
        LookupHash("reply_token"), unique=True, default=hash_default("reply_token")
    )
    contact_email: Mapped[str | None] = mapped_column(SealedText("parties.contact_email"))
    contact_preference: Mapped[str | None] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="parties")
    person: Mapped[Person] = relationship(lazy="joined")


class Entry(Base):
    """One item on a case's timeline. `text` is for display; `full_text` keeps the original."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    author: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(SealedText("entries.text"), default="")
    full_text: Mapped[str | None] = mapped_column(SealedText("entries.full_text"))
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON("entries.data"), default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(SealedText("entries.dedupe_key"))
    dedupe_key_hash: Mapped[str | None] = mapped_column(
        LookupHash("dedupe_key"), unique=True, default=hash_default("dedupe_key")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="entries")
    party: Mapped[Party | None] = relationship()


class InboundMessage(Base):
    """A received email exactly as it arrived: the evidence behind an entry."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    dedupe_key: Mapped[str] = mapped_column(SealedText("inbound_messages.dedupe_key"))
    dedupe_key_hash: Mapped[str] = mapped_column(
        LookupHash("dedupe_key"), unique=True, default=hash_default("dedupe_key")
    )
    message_id: Mapped[str | None] = mapped_column(SealedText("inbound_messages.message_id"))
    sha256: Mapped[str] = mapped_column(SealedText("inbound_messages.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(SealedBytes("inbound_messages.raw"))
    envelope_from: Mapped[str | None] = mapped_column(SealedText("inbound_messages.envelope_from"))
    envelope_to: Mapped[dict[str, Any]] = mapped_column(
        SealedJSON("inbound_messages.envelope_to"), default=dict
    )
    automatic: Mapped[str | None] = mapped_column(String(64))
    sender_verified: Mapped[bool | None] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship()


class MailReference(Base):
    """A Message-ID that Steward itself sent, so replies to it thread into the case."""

    __tablename__ = "mail_references"

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFile:
    """What every kept file has: a safe name, the sender's own name for it, its type,
    size and SHA-256 (so that it can be shown unchanged), and its bytes.

    The sealed columns are declared per table, so each table's ciphertexts are bound
    to their own table and cannot be swapped between attachments and snapshot files."""

    @declared_attr
    def filename(cls) -> Mapped[str]:
        return mapped_column(SealedText(f"{cls.__tablename__}.filename"))

    @declared_attr
    def original_filename(cls) -> Mapped[str | None]:
        return mapped_column(SealedText(f"{cls.__tablename__}.original_filename"))

    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)

    @declared_attr
    def sha256(cls) -> Mapped[str]:
        return mapped_column(SealedText(f"{cls.__tablename__}.sha256"))

    @declared_attr
    def content(cls) -> Mapped[bytes]:
        return mapped_column(SealedBytes(f"{cls.__tablename__}.content"))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The columns a held snapshot file hands on to the attachment made from it.
STORED_FILE_COLUMNS = (
    "filename",
    "original_filename",
    "content_type",
    "size",
    "sha256",
    "content",
    "created_at",
)


class Attachment(StoredFile, Base):
    """A file kept as evidence on a case, tied to the entry it came with."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))

    entry: Mapped[Entry] = relationship()


class Deadline(Base):
    """A promise with a due time. Firing sets `fired_at` once, conditionally."""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_pending", "fired_at", "due_at"),
        # One case's pending deadlines, soonest first; without it SQLite reads every
        # pending deadline of every case through ix_deadlines_pending.
        Index("ix_deadlines_case_pending", "case_id", "fired_at", "cancelled_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    fired_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="deadlines")


class AuditEvent(Base):
    """Append-only: who changed or read what, and when. Never updated or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(SealedJSON("audit_events.detail"), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The hash chain of the case's trail (see core.infra.auditchain).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    # Relationships let one flush insert a whole new case and its trail together.
    case: Mapped[Case | None] = relationship()
    entry: Mapped[Entry | None] = relationship()


class OutboxItem(Base):
    """A side effect waiting to happen (an email, a Slack post), delivered with retries."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(SealedText("outbox.recipient"))
    recipient_hash: Mapped[str | None] = mapped_column(
        LookupHash("recipient"), index=True, default=hash_default("recipient")
    )
    ordering_key: Mapped[str | None] = mapped_column(String(128), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("outbox.payload"), default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    result_ref: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class AppendOnlyError(RuntimeError):
    """Raised when code tries to rewrite history in the audit trail."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_rewrite(*_: object) -> None:
    raise AppendOnlyError("the audit trail is append-only")


class MessageSnapshot(Base):
    """A chat message as it was when someone reported it; kept because messages get
    edited or deleted. Taken when the report form opens, linked when it is submitted."""

    __tablename__ = "message_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    reporter: Mapped[str] = mapped_column(SealedText("message_snapshots.reporter"))
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON("message_snapshots.data"), default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SnapshotFile(StoredFile, Base):
    """A file of a reported message, fetched when the report form opened (files get
    deleted too). It becomes an attachment of the case when the report is filed."""

    __tablename__ = "snapshot_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("message_snapshots.id"), index=True)


class Decision(Base):
    """A decision on the enforcement ladder, or (stage `appeal`) the final word on an appeal.

    The terms are columns, not just words in a notice, because deadlines (a ban's
    end, a no-contact term's end) and the appeal window are computed from them.
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    other_description: Mapped[str | None] = mapped_column(SealedText("decisions.other_description"))
    ban_until: Mapped[datetime | None] = mapped_column()
    no_contact_until: Mapped[datetime | None] = mapped_column()
    remove_roles: Mapped[str | None] = mapped_column(SealedText("decisions.remove_roles"))
    public_statement: Mapped[str | None] = mapped_column(SealedText("decisions.public_statement"))
    rationale: Mapped[str] = mapped_column(SealedText("decisions.rationale"), default="")
    message_to_reported: Mapped[str] = mapped_column(
        SealedText("decisions.message_to_reported"), default=""
    )
    message_to_reporter: Mapped[str] = mapped_column(
        SealedText("decisions.message_to_reporter"), default=""
    )
    appeal_result: Mapped[str | None] = mapped_column(String(16))
    appeal_deadline: Mapped[datetime | None] = mapped_column()
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    entry: Mapped[Entry | None] = relationship()


class Appeal(Base):
    """An appeal against a decision, however it arrived; `late` ones wait for a steward."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    source: Mapped[str] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column()
    accept_reason: Mapped[str | None] = mapped_column(SealedText("appeals.accept_reason"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    decision: Mapped[Decision] = relationship()
    party: Mapped[Party | None] = relationship()
    entry: Mapped[Entry | None] = relationship()


class Submission(Base):
    """A report form exactly as submitted, committed before the submitter is answered.

    Opening the case from it happens just after the answer; a submission still
    unprocessed after a crash is picked up when the service starts again.
    """

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("submissions.payload"), default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))


class ConductCode(Base):
    """A code of conduct exactly as a case was handled under it, stored once per version.

    The version is a hash of the content, so a changed file is a new row and the
    cases opened before the change keep reading the old one.
    """

    __tablename__ = "conduct_codes"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


hashed_lookups(Person, email_hash="email", slack_user_id_hash="slack_user_id")
hashed_lookups(Party, reply_token_hash="reply_token")
hashed_lookups(Entry, dedupe_key_hash="dedupe_key")
hashed_lookups(InboundMessage, dedupe_key_hash="dedupe_key")
hashed_lookups(OutboxItem, recipient_hash="recipient")
