"""Settings that parse but cannot work together, found before a process starts.

`load_settings` refuses a value of the wrong type; this module refuses a
deployment that would start and then fail later, at the first report (a staff
channel given by name, a conduct address without a domain), or that quietly
breaks a promise (an escalation before the acknowledgement it escalates).
Each problem is one line naming the setting and what to put there. A secret is
never quoted: a problem with a URL names only its scheme.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.infra.settings import Settings

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9_]{2,}$")
ADDRESS = re.compile(r"^[^@\s+]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
OUTBOUND_SCHEMES = ("smtp", "smtps")

# Durations that must be positive, by the variable an operator sets.
DURATIONS = {
    "appeal_days": "STEWARD_APPEAL_DAYS",
    "ack_hours": "STEWARD_ACK_HOURS",
    "ack_escalate_hours": "STEWARD_ACK_ESCALATE_HOURS",
    "stale_days": "STEWARD_STALE_DAYS",
    "checkin_days": "STEWARD_CHECKIN_DAYS",
    "scheduler_resync_seconds": "STEWARD_SCHEDULER_RESYNC_SECONDS",
}
PORTS = {
    "web_port": "STEWARD_WEB_PORT",
    "smtp_port": "STEWARD_SMTP_PORT",
    "mail_health_port": "STEWARD_MAIL_HEALTH_PORT",
    "worker_health_port": "STEWARD_WORKER_HEALTH_PORT",
    "emulator_port": "STEWARD_EMULATOR_PORT",
}


def settings_problems(
    settings: Settings,
    *,
    serves_http: bool = False,
    socket_mode: bool = False,
    credentials: bool = True,
) -> list[str]:
    """Every problem with these settings, one line each; empty when they can run.

    `serves_http` is true for a process that receives Slack's signed requests
    (`steward web`, `steward run`); `socket_mode` for `steward web --socket-mode`,
    which connects out with an app token and needs no signing secret (that
    command itself asks for a missing app token, and Slack judges a wrong one).
    `credentials=False` leaves the Slack tokens to a caller that asks Slack
    about them (`steward doctor`).
    """
    slack = _slack_problems(settings, serves_http, socket_mode) if credentials else []
    return [
        *slack,
        *_channel_problems(settings),
        *_mail_problems(settings),
        *_deadline_problems(settings),
        *_port_problems(settings),
    ]


def _slack_problems(settings: Settings, serves_http: bool, socket_mode: bool) -> list[str]:
    problems: list[str] = []
    app_token = settings.slack_app_token
    if not settings.slack_bot_token:
        return problems
    if not settings.slack_bot_token.startswith("xoxb-"):
        problems.append(
            "SLACK_BOT_TOKEN must be a bot token starting with xoxb- "
            "(OAuth & Permissions, Bot User OAuth Token)"
        )
    needs_secret = not socket_mode and (serves_http or not app_token)
    if needs_secret and not settings.slack_signing_secret:
        problems.append(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: copy the Signing Secret "
            "from the app's Basic Information page (or use Socket Mode with SLACK_APP_TOKEN)"
        )
    return problems


def _channel_problems(settings: Settings) -> list[str]:
    problems = []
    for name, value in (
        ("STEWARD_STAFF_CHANNEL", settings.staff_channel),
        ("STEWARD_ESCALATION_CHANNEL", settings.escalation_channel),
    ):
        if value and not CHANNEL_ID.match(value):
            problems.append(
                f"{name} must be a channel ID such as G0123ABCD (at the bottom of the "
                f"channel's details), not {value!r}"
            )
    return problems


def _mail_problems(settings: Settings) -> list[str]:
    problems = []
    if not ADDRESS.match(settings.conduct_address):
        problems.append(
            "STEWARD_CONDUCT_ADDRESS must be a plain email address such as "
            f"conduct@example.org, without '+', not {settings.conduct_address!r}"
        )
    if settings.outbound_smtp_url:
        parts = urlsplit(settings.outbound_smtp_url)
        if parts.scheme not in OUTBOUND_SCHEMES:
            problems.append(
                "STEWARD_OUTBOUND_SMTP_URL must start with smtp:// or smtps://, "
                f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}"
            )
        elif not parts.hostname:
            problems.append(
                "STEWARD_OUTBOUND_SMTP_URL has no host: write smtp://user:password@host:587"
            )
    return problems


def _deadline_problems(settings: Settings) -> list[str]:
    problems = [
        f"{name} must be more than 0, not {getattr(settings, field):g}"
        for field, name in DURATIONS.items()
        if getattr(settings, field) <= 0
    ]
    if 0 < settings.ack_escalate_hours <= settings.ack_hours:
        problems.append(
            f"STEWARD_ACK_ESCALATE_HOURS ({settings.ack_escalate_hours:g}) must be more than "
            f"STEWARD_ACK_HOURS ({settings.ack_hours:g}): the stewards are all mentioned "
            "only after the acknowledgement is overdue"
        )
    if settings.ready_max_outbox_age_seconds < 0:
        problems.append("STEWARD_READY_MAX_OUTBOX_AGE_SECONDS must be 0 (no limit) or more")
    return problems


def _port_problems(settings: Settings) -> list[str]:
    return [
        f"{name} must be a port number from 0 to 65535, not {getattr(settings, field)}"
        for field, name in PORTS.items()
        if getattr(settings, field) is not None and not 0 <= getattr(settings, field) <= 65535
    ]
