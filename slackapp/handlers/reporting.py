"""Reporting: the two shortcuts, the App Home button, and filing the submitted form.

The form's submission is committed before Slack is answered, so a closed modal
always means a stored report. The same view submitted twice files one case.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import actions, notify
from core.cases import ReportDraft, Role, Source, open_case
from core.clock import human
from core.codenames import new_token
from core.deadlines import DeadlineKind, next_pending
from core.logs import about
from core.models import MessageSnapshot
from core.people import Contact
from core.policy import Code
from core.policy.record import case_code, code_in_force
from core.policy.wording import appeal_promise
from slackapp.blocks import report_form
from slackapp.context import SlackContext
from slackapp.intake import record_submission

log = logging.getLogger(__name__)

GLOBAL_SHORTCUT = "report_concern"
MESSAGE_SHORTCUT = "report_message"


def register(app: App, ctx: SlackContext) -> None:
    @app.shortcut(GLOBAL_SHORTCUT)
    def report_concern(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=report_form.report_modal(_code(ctx)))

    @app.action("home_report")
    def report_from_home(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=report_form.report_modal(_code(ctx)))

    @app.shortcut(MESSAGE_SHORTCUT)
    def report_message(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        snapshot = message_snapshot(body)
        token = new_token()
        with ctx.db.session() as session:
            session.add(MessageSnapshot(token=token, reporter=body["user"]["id"], data=snapshot))
        client.views_open(
            trigger_id=body["trigger_id"],
            view=report_form.report_modal(_code(ctx), snapshot, snapshot_token=token),
        )
        add_permalink(ctx, client, token, snapshot)

    @app.view(report_form.CALLBACK_ID)
    def file_report(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        answers = report_form.read_answers(view["state"]["values"])
        errors = report_form.validate(answers, _code(ctx))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        user = body["user"]["id"]
        metadata = _metadata(view.get("private_metadata"))
        key = f"slack-view:{view['id']}"
        if not record_submission(ctx, key, user, answers, metadata.get("snapshot")):
            log.info("a repeated report submission was ignored")
        ack()
        ctx.submitted()


def message_snapshot(body: dict[str, Any]) -> dict[str, Any]:
    """The reported message as Slack showed it at the moment of the shortcut."""
    message = body.get("message") or {}
    channel = body.get("channel") or {}
    return {
        "text": message.get("text") or "",
        "user": message.get("user"),
        "bot_id": message.get("bot_id"),
        "username": message.get("username"),
        "ts": message.get("ts") or body.get("message_ts"),
        "thread_ts": message.get("thread_ts"),
        "channel": channel.get("id"),
        "channel_name": channel.get("name"),
        "is_dm": str(channel.get("id", "")).startswith("D"),
        "files": [f.get("name") for f in message.get("files") or [] if isinstance(f, dict)],
        "permalink": None,
    }


def add_permalink(ctx: SlackContext, client: WebClient, token: str, snapshot: dict) -> None:
    """After the modal is open (the trigger is spent), fetch the permalink for the record."""
    if not snapshot.get("channel") or not snapshot.get("ts"):
        return
    try:
        link = client.chat_getPermalink(channel=snapshot["channel"], message_ts=snapshot["ts"])
    except SlackApiError as exc:
        log.warning("no permalink for a reported message (%s)", exc.response.get("error"))
        return
    with ctx.db.session() as session:
        row = session.scalars(select(MessageSnapshot).where(MessageSnapshot.token == token)).first()
        if row is not None:
            row.data = {**row.data, "permalink": link.get("permalink")}


def file_case(
    ctx: SlackContext,
    session: Session,
    user: str,
    answers: report_form.ReportAnswers,
    dedupe_key: str,
    snapshot_token: str | None,
) -> int:
    """Open the case for a stored submission and queue what the reporter and stewards hear."""
    settings = ctx.settings
    stewards_named = [u for u in answers.reported_users if ctx.stewards.is_steward(u)]
    code = code_in_force(settings)
    draft = build_draft(answers, user, dedupe_key, escalate=bool(stewards_named), code=code)
    case = open_case(session, draft, settings).case
    actions.exclude_stewards(session, case, stewards_named, "named in the report")
    if snapshot_token:
        snapshot = session.scalars(
            select(MessageSnapshot).where(
                MessageSnapshot.token == snapshot_token, MessageSnapshot.reporter == user
            )
        ).first()
        if snapshot is not None:
            snapshot.case_id = case.id
    due = next_pending(session, case.id)
    notify.direct_message(
        session,
        case,
        user,
        "report_received",
        ref=case.ref,
        code_name=case.code_name,
        danger=answers.danger,
        anonymous=answers.anonymous,
        appeal_promise=appeal_promise(case_code(session, settings, case), settings),
        ack_due=human(due.due_at) if due and due.kind == DeadlineKind.ACKNOWLEDGEMENT else None,
    )
    log.info("report filed from Slack as %s", case.ref, extra=about(case.ref))
    return case.id


def build_draft(
    answers: report_form.ReportAnswers, user: str, dedupe_key: str, escalate: bool, code: Code
) -> ReportDraft:
    involved: list[tuple[Role, Contact]] = []
    for role, users in (
        (Role.REPORTED, answers.reported_users),
        (Role.AFFECTED, answers.affected_users),
        (Role.WITNESS, answers.witness_users),
    ):
        involved += [(role, Contact(slack_user_id=u)) for u in users if u != user]
    data: dict[str, Any] = {}
    if answers.people_text:
        data["people_text"] = answers.people_text
    if answers.answers:
        data["questions"] = _answered(code, answers.answers)
    return ReportDraft(
        source=Source.SLACK,
        text=answers.what,
        reporter=Contact(slack_user_id=user, email=answers.email),
        anonymous=answers.anonymous,
        reporter_reply_address=answers.email if answers.contact == "email" else None,
        contact_preference=answers.contact,
        category=answers.category,
        when=answers.when,
        where=answers.where,
        ongoing=answers.ongoing,
        immediate_danger=answers.danger,
        involved=involved,
        data=data,
        dedupe_key=dedupe_key,
        escalate=escalate,
    )


def _code(ctx: SlackContext) -> Code:
    return code_in_force(ctx.settings)


def _answered(code: Code, answers: dict[str, str]) -> list[dict[str, str]]:
    """The extra questions' answers with their wording, so the report reads on its own."""
    return [
        {"id": q.id, "label": q.label, "answer": answers[q.id]}
        for q in code.questions
        if answers.get(q.id)
    ]


def _metadata(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
