"""`steward doctor`: checks a deployment before the first report arrives.

Each check says what it looked at, and each failure says how to fix it, on the
same line. Nothing here prints a secret: tokens and passwords are named, never
shown. The checks talk to the real things (the database, Slack's Web API, the
relay), so a pass means a report would get through.
"""

from __future__ import annotations

import errno
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.infra.db import Database, alembic_config
from core.infra.ports import TransientDeliveryError
from core.infra.settings import Settings
from core.infra.settings_check import ADDRESS, settings_problems
from mailgateway.outbound import SMTPTransport
from slackapp.delivery import channel_is_private

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
# Domains reserved for examples and tests (RFC 2606, RFC 6761): mail to them never arrives.
RESERVED_DOMAINS = ("example.org", "example.com", "example.net")
RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost")
INVITE = "invite the bot with `/invite @Steward` in that channel"
NEW_PRIVATE = "create a private channel, invite the bot, and set {setting} to its ID"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(settings: Settings, db: Database | None = None) -> list[Check]:
    return [
        *_settings(settings),
        _database(settings, db),
        _listen_address(settings),
        _outbound(settings),
        _conduct_address(settings),
        *_slack(settings),
    ]


def report(checks: list[Check], out: Callable[[str], None] = print) -> bool:
    """One line a check; a failure's line ends with its fix. True when all passed."""
    for check in checks:
        line = f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}"
        if not check.ok and check.fix:
            line += f" -> fix: {check.fix}"
        out(line)
    return all(check.ok for check in checks)


def _settings(settings: Settings) -> list[Check]:
    # The Slack credentials have checks of their own, which ask Slack.
    problems = settings_problems(settings, credentials=False)
    if not problems:
        return [Check("settings", True, "no contradictions found")]
    # Each problem already names the setting and what to put there.
    return [Check("settings", False, problem) for problem in problems]


def _database(settings: Settings, db: Database | None) -> Check:
    name = "database"
    try:
        database = db or Database(settings.database_url)
        with database.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it does not crash
        return Check(
            name,
            False,
            f"cannot connect ({type(exc).__name__})",
            "check STEWARD_DATABASE_URL and that the database server is running",
        )
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    upgrade = "run `steward db upgrade`"
    if current is None:
        return Check(name, False, "reachable, but it has no Steward schema yet", upgrade)
    if current != head:
        return Check(
            name, False, f"schema at migration {current}, this release needs {head}", upgrade
        )
    return Check(name, True, f"{database.dialect} reachable, migrations current ({head})")


def _listen_address(settings: Settings) -> Check:
    """`steward mail` must be able to listen: the address is free, or our gateway has it."""
    name, host, port = "mail listen address", settings.smtp_host, settings.smtp_port
    where = f"smtp://{host}:{port}"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return Check(name, True, f"{where} is free for `steward mail`")
        except PermissionError:
            return Check(
                name,
                False,
                f"{where}: this user may not listen on port {port}",
                "let your MTA listen on 25 and relay to a port above 1023 (STEWARD_SMTP_PORT)",
            )
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return Check(
                    name,
                    False,
                    f"{where}: cannot listen there ({errno.errorcode.get(exc.errno or 0, '?')})",
                    "set STEWARD_SMTP_HOST to an address of this machine",
                )
    if "Steward" in _banner(host, port):
        return Check(name, True, f"{where}: a Steward gateway is already listening there")
    return Check(
        name,
        False,
        f"{where} is taken by another program",
        "stop that program, or set STEWARD_SMTP_PORT to a free port",
    )


def _banner(host: str, port: int) -> str:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        with smtplib.SMTP(timeout=5) as client:
            _code, text = client.connect(target, port)
            return text.decode(errors="replace")
    except (OSError, smtplib.SMTPException):
        return ""


def _outbound(settings: Settings) -> Check:
    name, url = "outbound mail", settings.outbound_smtp_url
    if not url:
        return Check(name, True, f"written to {settings.mail_out_dir}/ as .eml files")
    try:
        transport = SMTPTransport(url)
    except ValueError as exc:
        return Check(name, False, str(exc))
    where = f"{transport.host}:{transport.port}"
    try:
        encrypted = transport.probe()
    except TransientDeliveryError as exc:  # no STARTTLS away from loopback
        return Check(
            name,
            False,
            f"{where}: {exc}",
            "use a relay that offers STARTTLS, or smtps:// for TLS from the start",
        )
    except smtplib.SMTPAuthenticationError as exc:
        return Check(
            name,
            False,
            f"{where} refused the login ({exc.smtp_code})",
            "check the user and password in STEWARD_OUTBOUND_SMTP_URL",
        )
    except ssl.SSLError as exc:
        return Check(
            name,
            False,
            f"{where}: TLS failed ({type(exc).__name__})",
            f"the relay's certificate must be valid for {transport.host}",
        )
    except (OSError, smtplib.SMTPException) as exc:
        return Check(
            name,
            False,
            f"{where} unreachable ({type(exc).__name__})",
            "check the host and port in STEWARD_OUTBOUND_SMTP_URL, and any firewall between",
        )
    security = "TLS" if encrypted else "no TLS (allowed only because the relay is on loopback)"
    login = ", login accepted" if transport.username else ""
    return Check(name, True, f"{where} answers; {security}{login}")


def _conduct_address(settings: Settings) -> Check:
    name, address = "conduct address", settings.conduct_address
    fix = "set STEWARD_CONDUCT_ADDRESS to your community's conduct address"
    if not ADDRESS.match(address):
        return Check(name, False, f"{address!r} is not an email address", fix)
    domain = settings.conduct_domain
    reserved = domain in RESERVED_DOMAINS or domain.endswith(RESERVED_SUFFIXES)
    if reserved and not settings.uses_emulator:
        return Check(name, False, f"{address}: mail to {domain} can never arrive", fix)
    return Check(
        name,
        True,
        f"{address} (and {settings.conduct_local}+…@{domain}); its MX or your MTA "
        f"must relay it to smtp://{settings.smtp_host}:{settings.smtp_port}",
    )


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
            Check(
                "token",
                False,
                f"Slack refused the token ({exc.response.get('error')})",
                "copy the Bot User OAuth Token (xoxb-) from OAuth & Permissions into "
                "SLACK_BOT_TOKEN; reinstall the app if it was revoked",
            ),
        ]
    except OSError as exc:
        return [
            *checks,
            Check(
                "token",
                False,
                f"cannot reach {settings.slack_api_url} ({type(exc).__name__})",
                "check SLACK_API_URL and this machine's access to slack.com",
            ),
        ]
    bot = identity.get("user_id", "")
    return [
        *checks,
        Check("token", True, f"bot user {bot} in {identity.get('team')}"),
        _scopes(identity.headers),
        _channel(client, "staff channel", "STEWARD_STAFF_CHANNEL", settings.staff_channel, bot),
        _channel(
            client,
            "escalation channel",
            "STEWARD_ESCALATION_CHANNEL",
            settings.escalation_channel,
            bot,
        ),
    ]


def _signing_secret(settings: Settings) -> Check:
    """Over HTTP Slack signs every request; over Socket Mode the app token stands in."""
    if settings.slack_signing_secret:
        return Check("signing secret", True, "set")
    if settings.slack_app_token:
        return Check("signing secret", True, "not set: `steward web --socket-mode` needs none")
    return Check(
        "signing secret",
        False,
        "SLACK_SIGNING_SECRET is missing",
        "copy the Signing Secret from the app's Basic Information page into "
        "SLACK_SIGNING_SECRET, or use Socket Mode with SLACK_APP_TOKEN",
    )


def _app_token(settings: Settings) -> Check:
    """Asks Slack for a Socket Mode URL, as `steward web --socket-mode` will (it is not used)."""
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    try:
        client.apps_connections_open(app_token=settings.slack_app_token)
    except SlackApiError as exc:
        return Check(
            "app token",
            False,
            f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')})",
            "create an app-level token with connections:write under Basic Information, "
            "and turn Socket Mode on",
        )
    return Check("app token", True, "Slack opens Socket Mode connections for it")


def required_scopes(manifest: Path = MANIFEST) -> set[str]:
    """The bot scopes manifest.yml asks for: what the installed token must hold."""
    data = yaml.safe_load(manifest.read_text())
    return set(data["oauth_config"]["scopes"]["bot"])


def _scopes(headers: dict[str, str]) -> Check:
    name = "token scopes"
    if not MANIFEST.is_file():
        return Check(name, True, "manifest.yml not found next to Steward: not compared")
    granted_header = next(
        (value for key, value in headers.items() if key.lower() == "x-oauth-scopes"), None
    )
    if granted_header is None:
        return Check(name, True, "Slack did not list the token's scopes: not compared")
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    missing = sorted(required_scopes() - granted)
    if missing:
        return Check(
            name,
            False,
            f"missing {', '.join(missing)}",
            "add them under OAuth & Permissions (or update the app from manifest.yml) "
            "and reinstall the app to the workspace",
        )
    return Check(name, True, "every scope manifest.yml asks for is granted")


def _channel(client: WebClient, name: str, setting: str, channel: str | None, bot: str) -> Check:
    new_private = NEW_PRIVATE.format(setting=setting)
    if not channel:
        if setting == "STEWARD_STAFF_CHANNEL":
            return Check(name, False, "not set", new_private)
        return Check(name, True, "not set: cases that name a steward go to the staff channel")
    try:
        private = channel_is_private(client, channel)
    except SlackApiError as exc:
        error = exc.response.get("error")
        return Check(name, False, f"{channel}: Slack answers {error}", INVITE)
    if not private:
        return Check(
            name, False, f"{channel} is PUBLIC: Steward refuses to post cases there", new_private
        )
    members = _members(client, channel)
    if bot not in members:
        return Check(name, False, f"{channel}: the bot is not a member", INVITE)
    return Check(
        name, True, f"{channel} is private; the bot and {len(members) - 1} others are in it"
    )


def _members(client: WebClient, channel: str) -> set[str]:
    try:
        return set(client.conversations_members(channel=channel).get("members", []))
    except SlackApiError:
        return set()
