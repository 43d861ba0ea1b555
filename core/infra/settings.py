"""Steward's settings, read once from the environment (and `.env`).

Every knob an operator may turn lives here, so that the rest of the code takes
a `Settings` value instead of reaching into `os.environ` on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number") from exc


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number") from exc


def _optional_int(name: str) -> int | None:
    return _int(name, 0) if _env(name) is not None else None


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None or not value.strip():
        return default
    if value.strip().lower() in ("1", "true", "yes"):
        return True
    if value.strip().lower() in ("0", "false", "no"):
        return False
    raise SettingsError(f"{name} must be true or false")


def _csv(name: str) -> tuple[str, ...]:
    raw = _env(name, "") or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


class SettingsError(ValueError):
    """A setting has a value Steward cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """The operator's choices. Durations accept fractions so tests can use short windows."""

    database_url: str = "sqlite:///steward.db"
    web_host: str = "127.0.0.1"
    web_port: int = 3000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    conduct_address: str = "conduct@example.org"
    outbound_smtp_url: str | None = None
    mail_out_dir: Path = Path("mail-out")
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    staff_channel: str | None = None
    escalation_channel: str | None = None
    stewards: tuple[str, ...] = ()
    full_disclosure: bool = False
    appeal_days: float = 30.0
    ack_hours: float = 24.0
    stale_days: float = 7.0
    checkin_days: float = 14.0
    ack_escalate_hours: float = 48.0
    scheduler_resync_seconds: float = 5.0
    authserv_id: str | None = None
    mail_storage_process: bool = True
    max_message_bytes: int = 10 * 1024 * 1024
    max_attachment_bytes: int = 5 * 1024 * 1024
    max_attachments: int = 10
    ack_rate_per_hour: int = 5
    community_name: str = "the community"
    emulator_port: int = 3001
    mail_health_port: int = 8026
    worker_health_port: int | None = None
    ready_max_outbox_age_seconds: float = 3600.0
    code_of_conduct: str = "contributor-covenant-2.1"
    # Retention after a case closes (core/records/retention.py); six months is 182.5 days.
    retention_dismissed_days: float = 182.5
    retention_warning_days: float = 365.0
    retention_after_ban_days: float = 365.0
    expunge_notice_days: float = 14.0
    # Base64url master keys, newest first (core.infra.crypto); never shown in a repr.
    encryption_key: str | None = field(default=None, repr=False)

    @property
    def conduct_domain(self) -> str:
        return self.conduct_address.rsplit("@", 1)[-1].lower()

    @property
    def conduct_local(self) -> str:
        return self.conduct_address.rsplit("@", 1)[0].lower()

    @property
    def uses_emulator(self) -> bool:
        """No bot token means the embedded Slack emulator stands in for Slack."""
        return not self.slack_bot_token

    def with_overrides(self, **changes: object) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read settings from the environment, after loading `.env` if there is one.

    Variables already set in the environment win over `.env`, so an operator can
    override one value without editing the file.
    """
    if env_file and Path(env_file).is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    port = _env("STEWARD_WEB_PORT") or _env("PORT") or "3000"
    try:
        web_port = int(port)
    except ValueError as exc:
        raise SettingsError("STEWARD_WEB_PORT must be a whole number") from exc
    return Settings(
        database_url=_env("STEWARD_DATABASE_URL", "sqlite:///steward.db") or "",
        web_host=_env("STEWARD_WEB_HOST", "127.0.0.1") or "",
        web_port=web_port,
        smtp_host=_env("STEWARD_SMTP_HOST", "127.0.0.1") or "",
        smtp_port=_int("STEWARD_SMTP_PORT", 8025),
        conduct_address=(_env("STEWARD_CONDUCT_ADDRESS", "conduct@example.org") or "").lower(),
        outbound_smtp_url=_env("STEWARD_OUTBOUND_SMTP_URL"),
        mail_out_dir=Path(_env("STEWARD_MAIL_OUT_DIR", "mail-out") or "mail-out"),
        slack_bot_token=_env("SLACK_BOT_TOKEN"),
        slack_signing_secret=_env("SLACK_SIGNING_SECRET"),
        slack_app_token=_env("SLACK_APP_TOKEN"),
        slack_api_url=_env("SLACK_API_URL", "https://slack.com/api/") or "",
        staff_channel=_env("STEWARD_STAFF_CHANNEL"),
        escalation_channel=_env("STEWARD_ESCALATION_CHANNEL"),
        stewards=_csv("STEWARD_STEWARDS"),
        full_disclosure=_bool("STEWARD_FULL_DISCLOSURE", False),
        appeal_days=_float("STEWARD_APPEAL_DAYS", 30.0),
        ack_hours=_float("STEWARD_ACK_HOURS", 24.0),
        stale_days=_float("STEWARD_STALE_DAYS", 7.0),
        checkin_days=_float("STEWARD_CHECKIN_DAYS", 14.0),
        ack_escalate_hours=_float("STEWARD_ACK_ESCALATE_HOURS", 48.0),
        scheduler_resync_seconds=_float("STEWARD_SCHEDULER_RESYNC_SECONDS", 5.0),
        authserv_id=_env("STEWARD_AUTHSERV_ID"),
        mail_storage_process=_bool("STEWARD_MAIL_STORAGE_PROCESS", True),
        max_message_bytes=_int("STEWARD_MAX_MESSAGE_BYTES", 10 * 1024 * 1024),
        max_attachment_bytes=_int("STEWARD_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024),
        max_attachments=_int("STEWARD_MAX_ATTACHMENTS", 10),
        ack_rate_per_hour=_int("STEWARD_ACK_RATE_PER_HOUR", 5),
        community_name=_env("STEWARD_COMMUNITY_NAME", "the community") or "",
        emulator_port=_int("STEWARD_EMULATOR_PORT", 3001),
        mail_health_port=_int("STEWARD_MAIL_HEALTH_PORT", 8026),
        worker_health_port=_optional_int("STEWARD_WORKER_HEALTH_PORT"),
        ready_max_outbox_age_seconds=_float("STEWARD_READY_MAX_OUTBOX_AGE_SECONDS", 3600.0),
        code_of_conduct=_env("STEWARD_CODE_OF_CONDUCT", "contributor-covenant-2.1") or "",
        retention_dismissed_days=_float("STEWARD_RETENTION_DISMISSED_DAYS", 182.5),
        retention_warning_days=_float("STEWARD_RETENTION_WARNING_DAYS", 365.0),
        retention_after_ban_days=_float("STEWARD_RETENTION_AFTER_BAN_DAYS", 365.0),
        expunge_notice_days=_float("STEWARD_EXPUNGE_NOTICE_DAYS", 14.0),
        encryption_key=_env("STEWARD_ENCRYPTION_KEY"),
    )
