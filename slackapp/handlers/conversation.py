"""Messages: stewards talking in a case thread, and reporters talking to the bot.

A steward's message in a case thread joins the timeline as a note. A member's
direct message to the bot joins their latest open report (or, for a reported
person, the case that asked for their side), and the thread gets a line saying
so, without the member's name.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from sqlalchemy import insert

from core.casework import actions, notify
from core.casework.cases import EntryKind, Role, Source
from core.infra.crypto import lookup_hashes
from core.infra.logs import about
from core.infra.models import Attachment, Entry
from core.intake.attachments import attachment_rows
from slackapp.context import SlackContext
from slackapp.files import Evidence, fetch_evidence
from slackapp.readmodels import (
    case_by_thread,
    latest_open_case_asking,
    latest_open_case_reported_by,
)
from slackapp.text import from_slack

log = logging.getLogger(__name__)

IGNORED_SUBTYPES = {"message_changed", "message_deleted", "bot_message", "channel_join"}


def register(app: App, ctx: SlackContext) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES:
            return
        user = event.get("user")
        if not user:
            return
        if event.get("channel_type") == "im":
            reporter_message(ctx, event, user)
        elif event.get("thread_ts") and event.get("channel_type") in ("group", "channel"):
            steward_message(ctx, event, user)

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return  # another tab, or an event that names nobody: no Home to draw
        with ctx.db.session() as session:
            notify.refresh_home(session, user)


def _dedupe(event: dict[str, Any]) -> str:
    return f"slack-msg:{event.get('channel')}:{event.get('ts')}"


def steward_message(ctx: SlackContext, event: dict[str, Any], user: str) -> None:
    with ctx.db.session() as session:
        case = case_by_thread(session, event.get("channel", ""), event["thread_ts"])
        if case is None or not ctx.stewards.is_steward(user):
            return
        if _seen(session, event):
            return
        actions.steward_note(session, case, user, from_slack(event.get("text")), _dedupe(event))


def reporter_message(ctx: SlackContext, event: dict[str, Any], user: str) -> None:
    # Shared files (a `file_share` message, often with no text) are fetched first: never
    # inside Slack's 3 s, never under the database's write lock.
    evidence = fetch_evidence(ctx.client, ctx.settings, event.get("files"))
    with ctx.db.session() as session:
        if _seen(session, event):
            return
        role, case = Role.REPORTER, latest_open_case_reported_by(session, user)
        if case is None:
            role, case = Role.REPORTED, latest_open_case_asking(session, user)
        if case is None:
            notify.direct_message(session, None, user, "no_open_case", **_refused_all(evidence))
            return
        party = next(p for p in case.parties if p.role == role and p.person.slack_user_id == user)
        entry = actions.receive_message(
            session,
            case,
            party,
            from_slack(event.get("text")),
            source=Source.SLACK,
            kind=EntryKind.REPORTER_MESSAGE
            if role == Role.REPORTER
            else EntryKind.RESPONDENT_MESSAGE,
            data=evidence.summary() if evidence else None,
            dedupe_key=_dedupe(event),
        )
        if evidence.kept:
            session.execute(insert(Attachment), attachment_rows(case.id, entry.id, evidence.kept))
        told = evidence.summary() if evidence else {}
        notify.direct_message(session, case, user, "message_added", ref=case.ref, **told)
        log.info("a direct message joined %s", case.ref, extra=about(case.ref))


def _refused_all(evidence: Evidence) -> dict[str, Any]:
    """With no open report, nothing is kept: say so for each file that was sent."""
    if not evidence:
        return {}
    names = [a.original_filename or a.filename for a in evidence.kept]
    names += [r.original_filename or "a file" for r in evidence.refused]
    return {"files_kept": [], "files_refused": [{"name": n, "reason": "no_case"} for n in names]}


def _seen(session: Any, event: dict[str, Any]) -> bool:
    """Slack retries events it thinks were lost; the same message makes one entry."""
    from sqlalchemy import select

    wanted = lookup_hashes(_dedupe(event))
    return session.scalar(select(Entry.id).where(Entry.dedupe_key_hash.in_(wanted))) is not None
