"""The steward's buttons on a case thread, and the modals they open.

Every action is checked on the server: the clicker must be a steward, and not
one who declared a conflict on this case. Anyone else is refused with an
ephemeral message and the attempt is audited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from core.casework import actions, checklist, followups
from core.casework.actions import NotAllowed
from core.casework.cases import Role, reporter_of
from core.infra.models import Case
from core.policy.record import case_code
from slackapp.blocks import case_view, steward_forms
from slackapp.context import SlackContext
from slackapp.handlers.access import (
    NOT_A_STEWARD,
    allowed_case,
    case_id_of,
    metadata_case_id,
    refuse,
    row_id,
    safe_message,
)
from slackapp.handlers.modals import open_modal, update_modal
from slackapp.readmodels import case_report

log = logging.getLogger(__name__)


SIMPLE_ACTIONS: dict[str, Callable[[Session, Case, str], None]] = {
    "case_claim": actions.claim,
    "case_acknowledge": actions.acknowledge,
    "case_recuse": actions.recuse,
    "case_close": actions.close,
    "case_investigate": actions.start_investigation,
    "case_reopen": actions.reopen,
}


def register(app: App, ctx: SlackContext) -> None:
    for action_id, action in SIMPLE_ACTIONS.items():
        app.action(action_id)(_simple(ctx, action_id, action))

    @app.action(re.compile(r"^case_step_(done|undo)$"))
    def tick_step(ack: Ack, body: dict[str, Any]) -> None:
        """A response step of the case's code ticked (or unticked) on the thread root."""
        ack()
        action = body["actions"][0]
        step = str(action.get("value") or "").partition(":")[2]
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, case_id_of(body), "checklist")
            if case is None:
                return
            code = case_code(session, ctx.settings, case)
            done = action["action_id"] == "case_step_done"
            try:
                with session.begin_nested():
                    checklist.tick(session, code, case, body["user"]["id"], step, done)
            except NotAllowed as exc:
                refuse(session, body, case, "checklist", safe_message(exc))

    @app.action("case_view_report")
    def view_report(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user, case_id = body["user"]["id"], case_id_of(body)
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, case_id, "view_report")
            if case is None:
                return
            actions.record_read(session, case, user, "report")
            view = case_view.report_modal(case_report(session, case, ctx.settings, user))
        open_modal(client, body.get("trigger_id"), view)

    @app.action(case_view.PREVIOUS_PAGE)
    @app.action(case_view.NEXT_PAGE)
    def view_page(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        case_part, _, page_part = str(body["actions"][0].get("value") or "").partition(":")
        view_id = (body.get("view") or {}).get("id")
        user, page = body["user"]["id"], row_id(page_part)
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, row_id(case_part), "view_report")
            if case is None or not view_id:
                return
            actions.record_read(session, case, user, f"report page {page}")
            report = case_report(session, case, ctx.settings, user, page)
            view = case_view.report_modal(report, page)
        update_modal(client, view_id, view)

    @app.action("case_reply")
    def open_reply(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, case_id_of(body), "reply")
            if case is None:
                return
            reporter = reporter_of(case)
            route = actions.contact_route(reporter) if reporter else None
            if route is None:
                refuse(session, body, case, "reply", "The reporter asked not to be contacted.")
                return
            view = steward_forms.reply_modal(case.id, case.ref, _via(route), case.anonymous)
        open_modal(client, body.get("trigger_id"), view)

    @app.action("case_ask_respondent")
    def open_ask(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, case_id_of(body), "ask_respondent")
            if case is None:
                return
            respondent = _respondent(case)
            route = actions.contact_route(respondent) if respondent else None
            if route is None:
                refuse(session, body, case, "ask", "There is no contact for them on record.")
                return
            view = steward_forms.ask_modal(case.id, case.ref, _via(route))
        open_modal(client, body.get("trigger_id"), view)

    @app.view(steward_forms.REPLY_CALLBACK)
    def send_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _relay_submission(ctx, ack, body, view, to_reporter=True)

    @app.view(steward_forms.ASK_CALLBACK)
    def send_question(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _relay_submission(ctx, ack, body, view, to_reporter=False)


def _simple(
    ctx: SlackContext, action_id: str, action: Callable[[Session, Case, str], None]
) -> Callable[..., None]:
    def handler(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        with ctx.db.session() as session:
            case = allowed_case(ctx, session, body, case_id_of(body), action_id)
            if case is None:
                return
            try:
                with session.begin_nested():
                    action(session, case, body["user"]["id"])
            except (NotAllowed, ValueError) as exc:
                refuse(session, body, case, action_id, safe_message(exc))

    handler.__name__ = f"on_{action_id}"
    return handler


def _relay_submission(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any], to_reporter: bool
) -> None:
    text = steward_forms.read_message(view["state"]["values"]).strip()
    if not text:
        ack(response_action="errors", errors={"message": "Write a message first."})
        return
    if len(text) > steward_forms.MESSAGE_LIMIT:
        ack(
            response_action="errors",
            errors={
                "message": f"This is {len(text)} characters; the limit is "
                f"{steward_forms.MESSAGE_LIMIT}. Please send it in parts."
            },
        )
        return
    user = body["user"]["id"]
    case_id = metadata_case_id(view)
    with ctx.db.session() as session:
        case = session.get(Case, case_id)
        if case is None or not ctx.stewards.is_steward(user):
            ack(response_action="errors", errors={"message": NOT_A_STEWARD})
            return
        party = reporter_of(case) if to_reporter else _respondent(case)
        try:
            if party is None:
                raise NotAllowed("There is nobody to write to on this case.")
            with session.begin_nested():
                if to_reporter:
                    actions.relay(session, ctx.settings, case, user, party, text)
                else:
                    respond_by = steward_forms.read_respond_by(view["state"]["values"])
                    followups.ask_respondent(
                        session, ctx.settings, case, user, text, respond_by, party_id=party.id
                    )
        except (NotAllowed, ValueError) as exc:
            ack(response_action="errors", errors={"message": safe_message(exc)})
            return
    ack()


def _respondent(case: Case) -> Any:
    return next((p for p in case.parties if p.role == Role.REPORTED), None)


def _via(route: str) -> str:
    return "by email" if route == "email" else "as a direct message from the Steward bot"
