"""Reporting: the two shortcuts, the App Home button, and filing the submitted form.

The form's submission is committed before Slack is answered, so a closed modal
always means a stored report. The same view submitted twice files one case.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.casework import actions, notify
from core.casework.cases import ReportDraft, Role, Source, open_case
from core.casework.codenames import new_token
from core.casework.confidentiality import ConflictSource
from core.casework.deadlines import DeadlineKind, next_pending
from core.casework.people import Contact
from core.infra.clock import human
from core.infra.logs import about
from core.infra.models import STORED_FILE_COLUMNS, Attachment, MessageSnapshot, SnapshotFile
from core.intake.attachments import attachment_rows
from core.policy import Code
from core.policy.record import case_code, code_in_force
from core.policy.wording import appeal_promise
from slackapp.blocks import report_form
from slackapp.context import SlackContext
from slackapp.files import Evidence, fetch_evidence, file_refs, size_text
from slackapp.handlers.modals import open_modal
from slackapp.intake import record_submission
from slackapp.text import from_slack

log = logging.getLogger(__name__)

# A reported message's files: being fetched while the reporter fills in the form, or kept.
FETCHING, KEPT = "fetching", "kept"

GLOBAL_SHORTCUT = "report_concern"
MESSAGE_SHORTCUT = "report_message"


def register(app: App, ctx: SlackContext) -> None:
    def form(snapshot: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        return report_form.report_modal(
            _code(ctx),
            snapshot,
            snapshot_token=token,
            max_files=ctx.settings.max_attachments,
            max_bytes=ctx.settings.max_attachment_bytes,
        )

    @app.shortcut(GLOBAL_SHORTCUT)
    def report_concern(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_modal(client, body.get("trigger_id"), form())

    @app.action("home_report")
    def report_from_home(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_modal(client, body.get("trigger_id"), form())

    @app.shortcut(MESSAGE_SHORTCUT)
    def report_message(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        snapshot = message_snapshot(body)
        token = new_token()
        stored = {**snapshot, "files_state": FETCHING} if snapshot["files"] else snapshot
        with ctx.db.interactive(), ctx.db.session() as session:  # inside the trigger's 3 s
            session.add(MessageSnapshot(token=token, reporter=body["user"]["id"], data=stored))
        open_modal(client, body.get("trigger_id"), form(snapshot, token))
        add_permalink(ctx, client, token, snapshot)
        keep_snapshot_files(ctx, client, token, snapshot)

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
        try:
            stored = record_submission(ctx, key, user, answers, metadata.get("snapshot"))
        except Exception as exc:  # noqa: BLE001 - the record is unreachable: keep the form open
            log.warning("a report submission could not be stored (%s)", type(exc).__name__)
            ack(response_action="errors", errors=report_form.not_stored())
            return
        if not stored:
            log.info("a repeated report submission was ignored")
        ack()
        ctx.submitted()


def message_snapshot(body: dict[str, Any]) -> dict[str, Any]:
    """The reported message as Slack showed it at the moment of the shortcut."""
    message = body.get("message") or {}
    channel = body.get("channel") or {}
    return {
        "text": from_slack(message.get("text")),
        "user": message.get("user"),
        "bot_id": message.get("bot_id"),
        "username": message.get("username"),
        "ts": message.get("ts") or body.get("message_ts"),
        "thread_ts": message.get("thread_ts"),
        "channel": channel.get("id"),
        "channel_name": channel.get("name"),
        "is_dm": str(channel.get("id", "")).startswith("D"),
        "files": file_refs(message.get("files")),
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


def keep_snapshot_files(
    ctx: SlackContext, client: WebClient, token: str, snapshot: dict[str, Any]
) -> None:
    """Fetch the reported message's files now (files get deleted too), after the modal is
    open, and hold them with the snapshot until the report is filed."""
    if not snapshot.get("files"):
        return
    try:
        evidence = fetch_evidence(client, ctx.settings, snapshot["files"])
    except Exception as exc:  # noqa: BLE001 - the report must not wait for files that never come
        # The kind only: a traceback could carry a file's URL, and so its name.
        log.warning("a reported message's files could not be fetched (%s)", type(exc).__name__)
        evidence = Evidence.unavailable(snapshot["files"])
    with ctx.db.session() as session:
        row = session.scalars(select(MessageSnapshot).where(MessageSnapshot.token == token)).first()
        if row is None:
            return
        for kept in attachment_rows(0, 0, evidence.kept):
            columns = {c: kept[c] for c in STORED_FILE_COLUMNS}
            session.add(SnapshotFile(snapshot_id=row.id, **columns))
        row.data = {**row.data, "files_state": KEPT, **evidence.summary()}


def wait_for_snapshot_files(ctx: SlackContext, token: str | None, timeout: float = 30.0) -> None:
    """A reporter may send the form before the reported message's files are fetched; the
    case waits for them (a fetch abandoned by a crash is given up after `timeout`)."""
    deadline = time.monotonic() + timeout
    while token and time.monotonic() < deadline:
        with ctx.db.session() as session:
            data = session.scalars(
                select(MessageSnapshot.data).where(MessageSnapshot.token == token)
            ).first()
        if not data or data.get("files_state") != FETCHING:
            return
        time.sleep(0.05)


def file_case(
    ctx: SlackContext,
    session: Session,
    user: str,
    answers: report_form.ReportAnswers,
    dedupe_key: str,
    snapshot_token: str | None,
    evidence: Evidence | None = None,
) -> int:
    """Open the case for a stored submission and queue what the reporter and stewards hear.

    `evidence` holds the form's files, fetched before this transaction began."""
    settings = ctx.settings
    evidence = evidence or Evidence()
    named = [*answers.reported_users, *answers.affected_users, *answers.witness_users]
    stewards_named = [u for u in named if u != user and ctx.stewards.is_steward(u)]
    code = code_in_force(settings)
    draft = build_draft(answers, user, dedupe_key, code=code)
    opened = open_case(session, draft, settings)
    case = opened.case
    # A case naming a steward, or filed by one, is discussed in a restricted room.
    actions.exclude_stewards(session, case, stewards_named, "named in the report")
    if ctx.stewards.is_steward(user):
        actions.declare_conflicts(session, case, [user], ConflictSource.REPORTER)
    rows = attachment_rows(case.id, opened.report.id, evidence.kept)
    told = evidence.summary()
    snapshot = _claim_snapshot(session, snapshot_token, user, case.id)
    if snapshot is not None:
        rows += _snapshot_attachments(session, snapshot, case.id, opened.report.id)
        told["files_kept"] += list(snapshot.data.get("files_kept") or [])
        told["files_refused"] += list(snapshot.data.get("files_refused") or [])
    if rows:
        session.execute(insert(Attachment), rows)
    if told["files_kept"] or told["files_refused"]:
        opened.report.data = {**(opened.report.data or {}), **told}
    if told["files_refused"]:
        told.update(limit=size_text(settings.max_attachment_bytes), count=settings.max_attachments)
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
        **told,
    )
    log.info("report filed from Slack as %s", case.ref, extra=about(case.ref))
    return case.id


def _claim_snapshot(
    session: Session, token: str | None, user: str, case_id: int
) -> MessageSnapshot | None:
    """The snapshot this reporter took for this form, now tied to its case."""
    if not token:
        return None
    snapshot = session.scalars(
        select(MessageSnapshot).where(MessageSnapshot.token == token)
    ).first()
    if snapshot is None or snapshot.reporter != user:  # sealed: compared once opened
        return None
    snapshot.case_id = case_id
    return snapshot


def _snapshot_attachments(
    session: Session, snapshot: MessageSnapshot, case_id: int, entry_id: int
) -> list[dict[str, Any]]:
    """The reported message's files, held since the form opened, as the case's attachments."""
    held = session.scalars(
        select(SnapshotFile)
        .where(SnapshotFile.snapshot_id == snapshot.id)
        .order_by(SnapshotFile.id)
    )
    return [
        {
            "case_id": case_id,
            "entry_id": entry_id,
            **{c: getattr(f, c) for c in STORED_FILE_COLUMNS},
        }
        for f in held
    ]


def build_draft(
    answers: report_form.ReportAnswers, user: str, dedupe_key: str, code: Code
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
