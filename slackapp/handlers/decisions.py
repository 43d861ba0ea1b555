"""Deciding cases from Slack: decisions, appeal decisions, late appeals, snoozes, and the
*Appeal this decision* button that reporters and reported people get in their DM."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from core.casework import followups
from core.casework.actions import NotAllowed, check_may_act
from core.casework.cases import CaseNotFound, Source, get_case
from core.decisions import appeals, decisions
from core.decisions.decisions import DecisionError
from core.infra.models import Case, Deadline
from core.policy import Code
from core.policy.record import case_code
from core.policy.wording import decision_hint
from core.records import retention
from core.records.patterns import earlier_outcomes
from slackapp.blocks import decision_forms as forms
from slackapp.context import SlackContext
from slackapp.handlers.access import (
    CASE_GONE,
    NOT_A_STEWARD,
    allowed_case,
    case_id_of,
    ephemeral,
    metadata_case_id,
    row_id,
    safe_message,
)
from slackapp.handlers.modals import open_modal

log = logging.getLogger(__name__)


def register(app: App, ctx: SlackContext) -> None:
    @app.action("case_decide")
    def open_decision(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _open(
            ctx,
            ack,
            body,
            client,
            "decide",
            lambda s, c: forms.decision_modal(
                c.id,
                c.ref,
                _code(ctx, s, c),
                decision_hint(_code(ctx, s, c), ctx.settings),
                tuple(e.line() for e in earlier_outcomes(s, c, body["user"]["id"])),
            ),
        )

    @app.action("case_decide_appeal")
    def open_appeal_decision(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _open(
            ctx,
            ack,
            body,
            client,
            "decide_appeal",
            lambda s, c: forms.appeal_decision_modal(c.id, c.ref, _code(ctx, s, c)),
        )

    @app.action("case_accept_late_appeal")
    def open_late_appeal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _open(
            ctx,
            ack,
            body,
            client,
            "accept_late_appeal",
            lambda s, c: forms.late_appeal_modal(c.id, c.ref),
        )

    @app.action("case_keep_longer")
    def open_keep_longer(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _open(
            ctx,
            ack,
            body,
            client,
            "keep_longer",
            lambda s, c: forms.keep_longer_modal(c.id, c.ref),
        )

    @app.view(forms.KEEP_LONGER_CALLBACK)
    def keep_longer(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _submit(ctx, ack, body, view, _keep_longer)

    @app.view(forms.DECISION_CALLBACK)
    def record(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _submit(ctx, ack, body, view, _record_decision)

    @app.view(forms.APPEAL_DECISION_CALLBACK)
    def record_appeal(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _submit(ctx, ack, body, view, _record_appeal_decision)

    @app.view(forms.LATE_APPEAL_CALLBACK)
    def accept_late(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _submit(ctx, ack, body, view, _accept_late_appeal)

    @app.action(re.compile(r"^deadline_snooze_(1|3|7)$"))
    def snooze(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        action = body["actions"][0]
        days = float(action["action_id"].rsplit("_", 1)[1])
        user = body["user"]["id"]
        with ctx.db.session() as session:
            deadline = session.get(Deadline, row_id(action.get("value")))
            if deadline is None:
                return
            case = allowed_case(ctx, session, body, deadline.case_id, "snooze")
            if case is None:
                return
            try:
                with session.begin_nested():
                    followups.snooze(session, deadline.id, user, days)
            except (NotAllowed, ValueError) as exc:
                ephemeral(session, body, safe_message(exc))

    @app.action("case_appeal")
    def open_appeal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with ctx.db.session() as session:
            case = session.get(Case, case_id_of(body))
            if case is None:
                return
            view = forms.appeal_modal(case.id, case.ref)
        open_modal(client, body.get("trigger_id"), view)

    @app.view(forms.APPEAL_CALLBACK)
    def send_appeal(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = ((values.get("appeal") or {}).get("appeal") or {}).get("value") or ""
        errors = forms.too_long(values)
        if not text.strip():
            errors["appeal"] = "Write your appeal first."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        case_id = metadata_case_id(view)
        try:
            with ctx.db.session() as session:
                appeals.appeal_from_slack(
                    session,
                    ctx.settings,
                    case_id,
                    body["user"]["id"],
                    text.strip(),
                    dedupe_key=f"slack-view:{view['id']}",
                )
        except (NotAllowed, DecisionError, LookupError) as exc:
            ack(response_action="errors", errors={"appeal": safe_message(exc)})
            return
        ack()


def _open(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient, what: str, build: Any
) -> None:
    ack()
    with ctx.db.session() as session:
        case = allowed_case(ctx, session, body, case_id_of(body), what)
        if case is None:
            return
        view = build(session, case)
    open_modal(client, body.get("trigger_id"), view)


def _submit(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any], apply: Any
) -> None:
    """Validate, apply in one transaction, and answer with inline errors if the core refuses."""
    values = view["state"]["values"]
    errors = forms.too_long(values)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    user = body["user"]["id"]
    if not ctx.stewards.is_steward(user):
        ack(response_action="errors", errors={_error_at(view, None): NOT_A_STEWARD})
        return
    try:
        with ctx.db.session() as session:
            case = get_case(session, metadata_case_id(view))
            apply(ctx, session, case, user, values)
    except CaseNotFound:
        ack(response_action="errors", errors={_error_at(view, None): CASE_GONE})
        return
    except (DecisionError, NotAllowed) as exc:
        block = forms.error_block(str(exc), getattr(exc, "field", None))
        ack(response_action="errors", errors={_error_at(view, block): safe_message(exc)})
        return
    ack()


def _error_at(view: dict[str, Any], block: str | None) -> str:
    """The input an inline error is shown beside: the one it concerns when the modal has
    it, else the outcome, else the first input (Slack refuses errors on anything else)."""
    inputs = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    for candidate in (block, "outcome"):
        if candidate in inputs:
            return candidate
    return inputs[0] if inputs else "outcome"


def _record_decision(ctx: SlackContext, session: Any, case: Case, user: str, values: Any) -> None:
    answers = forms.read_decision(values)
    decisions.record_decision(
        session, ctx.settings, case, user, answers.outcome or "", **_terms(answers)
    )


def _record_appeal_decision(
    ctx: SlackContext, session: Any, case: Case, user: str, values: Any
) -> None:
    answers = forms.read_decision(values)
    decisions.record_appeal_decision(
        session,
        ctx.settings,
        case,
        user,
        answers.result or "",
        outcome=answers.outcome,
        **_terms(answers),
    )


def _terms(answers: forms.DecisionAnswers) -> dict[str, Any]:
    """The terms both kinds of decision take, as the form gave them."""
    return {
        "ban_until": answers.ban_until,
        "no_contact_until": answers.no_contact_until,
        "remove_roles": answers.remove_roles,
        "rationale": answers.rationale,
        "message_to_reported": answers.message_to_reported,
        "message_to_reporter": answers.message_to_reporter,
        "other_description": answers.other_description,
        "public_statement": answers.public_statement,
        "source": Source.SLACK,
    }


def _accept_late_appeal(
    ctx: SlackContext, session: Any, case: Case, user: str, values: Any
) -> None:
    reason = ((values.get("reason") or {}).get("reason") or {}).get("value") or ""
    appeals.accept_late_appeal(session, ctx.settings, case, user, reason.strip())


def _keep_longer(ctx: SlackContext, session: Any, case: Case, user: str, values: Any) -> None:
    reason = ((values.get("reason") or {}).get("reason") or {}).get("value") or ""
    check_may_act(case, user)
    try:
        retention.keep_longer(session, ctx.settings, case, user, reason)
    except retention.KeepLongerRefused as exc:
        raise NotAllowed(str(exc)) from exc


def _code(ctx: SlackContext, session: Any, case: Case) -> Code:
    return case_code(session, ctx.settings, case)
