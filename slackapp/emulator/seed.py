"""Loading a workspace seed from YAML, JSON, a dict, or the packaged default.

The seed is plain data so that tests can write a small workspace inline, and so
that ``GET /_emulator/state`` can be fed back in (the state document is a
superset of the seed format).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SEED: Path = Path(__file__).with_name("default_seed.yml")

DEFAULT_TEAM = {"id": "T_STEWARD", "name": "Steward Demo", "domain": "steward-demo"}
DEFAULT_BOT = {
    "user_id": "U_STEWARDBOT",
    "bot_id": "B_STEWARD",
    "app_id": "A_STEWARD",
    "name": "steward",
    "real_name": "Steward",
    "token": "xoxb-steward-emulator",
    "app_token": "xapp-1-A_STEWARD-emulator",
}


class SeedError(ValueError):
    """A seed that cannot describe a workspace (raised at load time, not later)."""


def load_seed(seed: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """Return a normalised seed dict; ``None`` means the packaged default seed."""
    if seed is None:
        seed = DEFAULT_SEED
    if isinstance(seed, dict):
        data = copy.deepcopy(seed)
    else:
        path = Path(seed)
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SeedError("a seed must be a mapping with team, bot, users and channels")
    return normalise(data)


def _as_list(value: Any) -> list[Any]:
    """Accept both seed lists and the id-keyed mappings that the state document uses."""
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    raise SeedError(f"expected a list or mapping, got {type(value).__name__}")


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and check references, so a broken seed fails loudly at start."""
    team = {**DEFAULT_TEAM, **(data.get("team") or {})}
    bot = {**DEFAULT_BOT, **(data.get("bot") or {})}
    users = []
    for user in _as_list(data.get("users")):
        if not isinstance(user, dict) or not user.get("id"):
            raise SeedError(f"every user needs an id: {user!r}")
        users.append(dict(user))
    user_ids = {u["id"] for u in users} | {bot["user_id"]}
    channels = []
    for channel in _as_list(data.get("channels")):
        if not isinstance(channel, dict) or not channel.get("id"):
            raise SeedError(f"every channel needs an id: {channel!r}")
        channel = dict(channel)
        unknown = [m for m in channel.get("members") or [] if m not in user_ids]
        if unknown:
            raise SeedError(f"channel {channel['id']} has unknown members {unknown}")
        channels.append(channel)
    return {"team": team, "bot": bot, "users": users, "channels": channels}
