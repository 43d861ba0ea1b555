"""Which envelope recipients the gateway accepts, and the reply tokens inside them."""

from __future__ import annotations

import re

from core.infra.settings import Settings


def split_address(address: str) -> tuple[str, str]:
    address = address.strip().strip("<>").strip().lower()
    local, _, domain = address.rpartition("@")
    return local, domain


def accepts(settings: Settings, address: str) -> bool:
    """Only the conduct address and its plus-addresses: the gateway is not a relay."""
    local, domain = split_address(address)
    if domain != settings.conduct_domain:
        return False
    base = local.split("+", 1)[0]
    return base == settings.conduct_local


TOKEN_PATTERN = re.compile(r"^[0-9a-f]{8,64}$")


def reply_token(settings: Settings, address: str) -> str | None:
    """The token in `conduct+TOKEN@`, if the address has a well-formed one."""
    if not accepts(settings, address):
        return None
    local, _ = split_address(address)
    _, plus, token = local.partition("+")
    if plus and TOKEN_PATTERN.match(token):
        return token
    return None
