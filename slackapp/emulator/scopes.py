"""OAuth scopes: which scope each Web API method needs, and which ones the app holds.

Slack answers ``missing_scope`` with ``needed`` and ``provided`` when a token
calls a method its app was not granted. For the ``conversations.*`` methods the
scope depends on the kind of conversation: ``channels:read`` for a public
channel, ``groups:read`` for a private one, ``im:read`` and ``mpim:read`` for
direct messages. The app's scopes come from an app manifest
(``oauth_config.scopes.bot``), so the emulator grants exactly what the app asks
its installers for. Sources: each method's page under
https://docs.slack.dev/reference/methods (see docs/slack-emulator.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

# The project's manifest, when the emulator runs from Steward's source tree.
PROJECT_MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

# Methods whose scope does not depend on the conversation.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "reactions.add": "reactions:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
}

# What a url_private download needs, like files.info.
DOWNLOAD_SCOPE = "files:read"

# Methods whose scope is chosen by the conversation's kind.
CONVERSATION_SCOPES: dict[str, dict[str, str]] = {
    "conversations.info": {
        "public": "channels:read",
        "private": "groups:read",
        "im": "im:read",
        "mpim": "mpim:read",
    },
    "conversations.members": {
        "public": "channels:read",
        "private": "groups:read",
        "im": "im:read",
        "mpim": "mpim:read",
    },
    "conversations.history": {
        "public": "channels:history",
        "private": "groups:history",
        "im": "im:history",
        "mpim": "mpim:history",
    },
    "conversations.replies": {
        "public": "channels:history",
        "private": "groups:history",
        "im": "im:history",
        "mpim": "mpim:history",
    },
    "conversations.open": {
        "public": "channels:manage",
        "private": "groups:write",
        "im": "im:write",
        "mpim": "mpim:write",
    },
    "conversations.invite": {
        "public": "channels:manage",
        "private": "groups:write",
        "im": "im:write",
        "mpim": "mpim:write",
    },
    "conversations.kick": {
        "public": "channels:manage",
        "private": "groups:write",
        "im": "im:write",
        "mpim": "mpim:write",
    },
}

# conversations.create: the scope follows the `is_private` argument.
CREATE_SCOPES = {"public": "channels:manage", "private": "groups:write"}

# conversations.list: one scope for each conversation type asked for.
LIST_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}

EVERY_SCOPE = frozenset(
    [s for s in METHOD_SCOPES.values() if s]
    + [s for kinds in CONVERSATION_SCOPES.values() for s in kinds.values()]
    + list(CREATE_SCOPES.values())
    + list(LIST_SCOPES.values())
)


def conversation_kind(channel: dict[str, Any]) -> str:
    """public, private, im or mpim: the four kinds Slack's scopes tell apart."""
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private" if channel.get("is_private") else "public"


def manifest_scopes(path: str | Path) -> frozenset[str]:
    """The bot scopes an app manifest (YAML or JSON) asks for."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    bot = (((data or {}).get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return frozenset(str(scope) for scope in bot)


def resolve_scopes(scopes: Iterable[str] | str | Path | None) -> frozenset[str] | None:
    """The app's scopes: a list, a manifest path, or None for the project's manifest.

    None when there is no manifest to read: the emulator then grants every method.
    """
    if scopes is None:
        return manifest_scopes(PROJECT_MANIFEST) if PROJECT_MANIFEST.exists() else None
    if isinstance(scopes, str | Path):
        return manifest_scopes(scopes)
    return frozenset(scopes)
