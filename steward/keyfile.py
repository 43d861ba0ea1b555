"""Where the process's encryption key comes from, and when Steward refuses to start.

Production (a Slack bot token, or a database other than SQLite) must be given
`STEWARD_ENCRYPTION_KEY`. Only the embedded defaults, a machine trying Steward
out, may use a development key file: `steward run` creates `./steward.key`
(mode 0600) the first time, and the other commands use it when it is there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.infra import crypto
from core.infra.settings import Settings

DEV_KEY_FILE = Path("steward.key")


@dataclass(frozen=True)
class LoadedKey:
    settings: Settings
    note: str | None = None  # what the banner says about a development key


def is_embedded(settings: Settings) -> bool:
    """No Slack token and a SQLite file: a development machine, not a deployment."""
    return settings.uses_emulator and settings.database_url.startswith("sqlite")


def load_key(settings: Settings, command: str) -> LoadedKey:
    """Install the keys for this process; raises EncryptionKeyError with one clear line."""
    raw = settings.encryption_key
    note = None
    if not raw and is_embedded(settings) and (command == "run" or DEV_KEY_FILE.is_file()):
        raw, created = _development_key()
        verb = "generated" if created else "using"
        note = (
            f"{verb} a development encryption key in ./{DEV_KEY_FILE} "
            "(set STEWARD_ENCRYPTION_KEY in production)"
        )
    if not raw:
        raise crypto.KeyMissingError(
            "STEWARD_ENCRYPTION_KEY is not set; create one with `steward keys new` "
            "and keep it out of the database's backups"
        )
    crypto.install(crypto.parse_keys(raw))
    return LoadedKey(settings.with_overrides(encryption_key=raw), note)


def _development_key() -> tuple[str, bool]:
    """The key in ./steward.key, created with mode 0600 if there is none yet."""
    try:
        return DEV_KEY_FILE.read_text().strip(), False
    except FileNotFoundError:
        pass
    key = crypto.generate_key()
    fd = os.open(DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key, True
