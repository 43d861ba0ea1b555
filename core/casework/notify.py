"""Telling people inside the community's chat: the staff thread, and direct messages.

The core decides *that* the stewards or a reporter must hear something, and
queues it in the outbox; the chat adapter decides how it looks. Rows for one
case's staff thread share an ordering key, so the thread reads in order.

Channels:
- `staff`: the case's thread in the private staff channel (`case.root` keeps
  the root message current; `case.notice` posts one line into the thread);
- `chat`: a person's direct messages with the bot (`dm`) and their Home tab
  (`home`).

Expunging a case queues `case.expunge` on its thread's stream: the adapter turns
every root the case had into a tombstone and deletes every other message Steward
posted in its threads (see `clear_thread`).

A case with a conflict is discussed in its own restricted room: the same
ordered stream gains `room.create` (create the private channel once),
`room.members` (invite exactly the stewards who may see the case, remove anyone
who may not) and then the root, which the adapter moves into the room.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.confidentiality import room_of
from core.infra import outbox
from core.infra.crypto import lookup_hash, lookup_hashes
from core.infra.models import Case, Entry, OutboxItem

STAFF = "staff"
CHAT = "chat"


class Notice:
    """The kinds of line posted into a case thread; the chat adapter words them."""

    OPENED = "opened"
    DANGER = "danger"
    REPORTER_MESSAGE = "reporter_message"
    RESPONDENT_MESSAGE = "respondent_message"
    AUTOMATIC_MAIL = "automatic_mail"
    CLAIMED = "claimed"
    ACKNOWLEDGED = "acknowledged"
    RECUSED = "recused"
    REPLY_SENT = "reply_sent"
    RESPONDENT_ASKED = "respondent_asked"
    CLOSED = "closed"
    REOPENED = "reopened"
    SYSTEM = "system"
    REMINDER = "reminder"
    DECISION = "decision"
    APPEAL = "appeal"
    SNOOZED = "snoozed"


def thread_key(case: Case) -> str:
    return _thread_key(case.id)


def _thread_key(case_id: int) -> str:
    return f"staff:{case_id}"


def case_root_row(case_id: int) -> dict[str, Any]:
    """The outbox row that asks for a case's thread root (posted, or brought up to date)."""
    return outbox.row(STAFF, "case.root", {}, case_id=case_id, ordering_key=_thread_key(case_id))


def refresh_case(session: Session, case: Case) -> OutboxItem | None:
    """Ask for the thread root to be brought up to date; it is rendered from the record
    at delivery, so one pending refresh covers any number of changes."""
    if _already_waiting(
        session,
        OutboxItem.case_id == case.id,
        OutboxItem.channel == STAFF,
        OutboxItem.kind == "case.root",
        OutboxItem.attempts == 0,
    ):
        return None
    item = OutboxItem(**case_root_row(case.id))
    session.add(item)
    return item


def move_to_restricted_room(session: Session, case: Case) -> None:
    """Queue the move of a case's discussion to its restricted room, ahead of anything
    not yet sent for its thread.

    Lines and root updates still waiting (unclaimed) are queued again behind the
    room's rows, in their order, so nothing more about the case reaches the shared
    channel once a conflict is on the record, and a new case never appears there.
    """
    session.flush()
    key = thread_key(case)
    waiting = list(
        session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.ordering_key == key,
                OutboxItem.status == outbox.PENDING,
                OutboxItem.claimed_until.is_(None),
            )
            .order_by(OutboxItem.id)
        )
    )
    held = [_columns(item) for item in waiting]
    for item in waiting:
        session.delete(item)
    session.flush()
    if room_of(case) is None:
        outbox.enqueue(session, STAFF, "room.create", {}, case_id=case.id, ordering_key=key)
    outbox.enqueue(session, STAFF, "room.members", {}, case_id=case.id, ordering_key=key)
    for columns in held:
        session.add(OutboxItem(**columns))
    if not any(c["kind"] == "case.root" for c in held):
        session.add(OutboxItem(**case_root_row(case.id)))


def _columns(item: OutboxItem) -> dict[str, Any]:
    """A waiting row's request, to queue it again unchanged."""
    columns = outbox.row(
        item.channel,
        item.kind,
        dict(item.payload or {}),
        case_id=item.case_id,
        recipient=item.recipient,
        ordering_key=item.ordering_key,
        dedupe_key=item.dedupe_key,
    )
    columns["attempts"] = item.attempts
    return columns


def _already_waiting(session: Session, *criteria: Any) -> bool:
    """A matching row that nobody has started delivering yet: it will render the latest
    state anyway, so a second one would only repeat it."""
    session.flush()
    waiting = select(OutboxItem.id).where(
        *criteria, OutboxItem.status == outbox.PENDING, OutboxItem.claimed_until.is_(None)
    )
    return session.scalar(waiting.limit(1)) is not None


def clear_thread(session: Session, case: Case, expunged_at: str) -> OutboxItem:
    """Queue the chat clean-up of an expunged case. Call it before the case's outbox rows
    and flags are deleted: it copies from them where Steward posted about the case.

    The payload names the roots (the current one, and the ts of every root posted
    before, such as the shared thread a restricted room replaced) and the room; the
    adapter makes each root a tombstone and deletes Steward's own lines under it.
    Members' direct messages are left alone: they are the member's own copy of what
    they were told, and a reporter may need it.
    """
    session.flush()
    earlier = session.scalars(
        select(OutboxItem.result_ref)
        .where(
            OutboxItem.case_id == case.id,
            OutboxItem.channel == STAFF,
            OutboxItem.kind == "case.root",
            OutboxItem.status == outbox.DELIVERED,
            OutboxItem.result_ref.is_not(None),
        )
        .order_by(OutboxItem.id)
    )
    roots = [ts for ts in dict.fromkeys(earlier) if ts and ts != case.slack_thread_ts]
    payload = {
        "expunged_at": expunged_at,
        "channel": case.slack_channel,
        "thread_ts": case.slack_thread_ts,
        "earlier_roots": roots,
        "room": room_of(case),
    }
    return outbox.enqueue(
        session, STAFF, "case.expunge", payload, case_id=case.id, ordering_key=thread_key(case)
    )


def staff_notice(
    session: Session,
    case: Case,
    notice: str,
    *,
    entry: Entry | None = None,
    actor: str | None = None,
    mention_stewards: bool = False,
    **details: Any,
) -> OutboxItem:
    """Queue one line for the case thread. It names an entry, never quotes it: content is
    shown only in the access-checked report view (unless the operator chose full disclosure)."""
    session.flush()
    payload = {
        "notice": notice,
        "entry_id": entry.id if entry is not None else None,
        "actor": actor,
        "mention_stewards": mention_stewards,
        "details": details,
    }
    return outbox.enqueue(
        session, STAFF, "case.notice", payload, case_id=case.id, ordering_key=thread_key(case)
    )


def direct_message(
    session: Session,
    case: Case | None,
    slack_user_id: str,
    message: str,
    *,
    text: str | None = None,
    **details: Any,
) -> OutboxItem:
    """Queue a direct message from the bot. `message` names the chat adapter's wording;
    `text` carries a steward's own words when they are relayed."""
    payload = {"user": slack_user_id, "message": message, "text": text, "details": details}
    return outbox.enqueue(
        session,
        CHAT,
        "dm",
        payload,
        case_id=case.id if case is not None else None,
        ordering_key=f"dm:{lookup_hash(slack_user_id)}",  # one queue per person, unnamed
    )


def refresh_home(session: Session, slack_user_id: str) -> OutboxItem | None:
    """Ask for a person's Home tab to be republished from the record."""
    if _already_waiting(
        session,
        OutboxItem.channel == CHAT,
        OutboxItem.kind == "home",
        OutboxItem.recipient_hash.in_(lookup_hashes(slack_user_id)),
    ):
        return None
    return outbox.enqueue(session, CHAT, "home", {"user": slack_user_id}, recipient=slack_user_id)


def refresh_views(session: Session, case: Case) -> None:
    """After a change: the thread root, and the Home tab of a reporter who uses Slack,
    both show the case's status and next deadline, so both are brought up to date."""
    refresh_case(session, case)
    for party in case.parties:
        if party.role == "reporter" and party.person.slack_user_id:
            refresh_home(session, party.person.slack_user_id)
