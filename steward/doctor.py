"""`steward doctor`: checks a deployment's settings before the first report arrives.

Each check says what it looked at and what to do when it fails. Nothing here
prints a secret: tokens are named, never shown.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.db import Database
from core.settings import Settings
from slackapp.delivery import channel_is_private


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings, db: Database | None = None) -> list[Check]:
    checks: list[Check] = [_database(settings, db), _outbound(settings)]
    checks += _slack(settings)
    return checks


def _database(settings: Settings, db: Database | None) -> Check:
    try:
        database = db or Database(settings.database_url)
        if not database.has_schema():
            return Check("database", False, "no schema yet: run `steward db upgrade`")
        return Check("database", True, f"{database.dialect} reachable, schema present")
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it does not crash
        return Check("database", False, f"cannot connect ({type(exc).__name__})")


def _outbound(settings: Settings) -> Check:
    if not settings.outbound_smtp_url:
        return Check("outbound mail", True, f"written to {settings.mail_out_dir}/ as .eml files")
    parts = urlsplit(settings.outbound_smtp_url)
    try:
        with smtplib.SMTP(parts.hostname or "localhost", parts.port or 587, timeout=10) as client:
            client.ehlo()
            tls = client.has_extn("starttls")
        return Check(
            "outbound mail", True, f"relay answers; STARTTLS {'offered' if tls else 'not offered'}"
        )
    except OSError as exc:
        return Check("outbound mail", False, f"relay unreachable ({type(exc).__name__})")


def _slack(settings: Settings) -> list[Check]:
    if not settings.slack_bot_token:
        return [
            Check("slack", True, "no SLACK_BOT_TOKEN: `steward run` uses the built-in emulator")
        ]
    checks = [_signing_secret(settings)]
    if settings.slack_app_token:
        checks.append(_app_token(settings))
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    try:
        identity = client.auth_test()
    except SlackApiError as exc:
        return [
            *checks,
            Check("token", False, f"Slack refused the token ({exc.response.get('error')})"),
        ]
    checks.append(
        Check("token", True, f"bot user {identity.get('user_id')} in {identity.get('team')}")
    )
    for name, channel in (
        ("staff channel", settings.staff_channel),
        ("escalation channel", settings.escalation_channel),
    ):
        checks.append(_channel(client, name, channel, identity.get("user_id", "")))
    return checks


def _signing_secret(settings: Settings) -> Check:
    """Over HTTP Slack signs every request; over Socket Mode the app token stands in."""
    if settings.slack_signing_secret:
        return Check("signing secret", True, "set")
    if settings.slack_app_token:
        return Check("signing secret", True, "not set: `steward web --socket-mode` needs none")
    return Check(
        "signing secret", False, "SLACK_SIGNING_SECRET is missing (or set SLACK_APP_TOKEN)"
    )


def _app_token(settings: Settings) -> Check:
    """Asks Slack for a Socket Mode URL, as `steward web --socket-mode` will (it is not used)."""
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    try:
        client.apps_connections_open(app_token=settings.slack_app_token)
    except SlackApiError as exc:
        error = exc.response.get("error")
        hint = "an app-level token with connections:write, and Socket Mode on"
        return Check("app token", False, f"Slack refused SLACK_APP_TOKEN ({error}): use {hint}")
    return Check("app token", True, "Slack opens Socket Mode connections for it")


def _channel(client: WebClient, name: str, channel: str | None, bot: str) -> Check:
    if not channel:
        required = name == "staff channel"
        hint = (
            "set STEWARD_STAFF_CHANNEL"
            if required
            else "optional; escalations use the staff channel"
        )
        return Check(name, not required, hint)
    try:
        private = channel_is_private(client, channel)
    except SlackApiError as exc:
        error = exc.response.get("error")
        return Check(name, False, f"{channel}: {error} (is the bot invited? is it private?)")
    if not private:
        return Check(name, False, f"{channel} is PUBLIC: Steward refuses to post cases there")
    members = _members(client, channel)
    if bot not in members:
        return Check(name, False, f"{channel}: the bot is not a member; invite it")
    return Check(
        name, True, f"{channel} is private; the bot and {len(members) - 1} others are in it"
    )


def _members(client: WebClient, channel: str) -> set[str]:
    try:
        return set(client.conversations_members(channel=channel).get("members", []))
    except SlackApiError:
        return set()


def report(checks: list[Check], out: Callable[[str], None] = print) -> bool:
    for check in checks:
        out(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return all(check.ok for check in checks)
