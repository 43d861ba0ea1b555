"""Keys, AES-GCM sealing and keyed lookup hashes for the record at rest.

The operator gives one or more master keys in `STEWARD_ENCRYPTION_KEY`: each is
32 random bytes written in base64url, comma-separated, the newest first. The
first key seals everything written; every key listed can open what it sealed,
which is what lets `steward keys rotate` re-seal the record while the service
keeps running.

From each master key two unrelated keys are derived (HKDF-SHA256): one for
AES-256-GCM and one for HMAC-SHA256 lookup hashes. Lookup hashes let the record
find a person by address or Slack ID, a party by reply token and a message by
its dedupe key without storing the value in the clear. They are computed with
the newest key; lookups accept the hash under every listed key, and rotation
recomputes them, so lookups keep working before, during and after a rotation.

A sealed value is `VERSION | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag`.
The key id says which master key sealed it (rotation finds the values still to
re-seal by it). The associated data names the table and column, so a sealed
value copied into another column does not open there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_BYTES = 4
VERSION = b"\x01"
HEADER_BYTES = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES
TAG_BYTES = 16  # AES-GCM's authentication tag
# A sealed value is this much longer than its plaintext, whatever the plaintext.
SEAL_OVERHEAD = HEADER_BYTES + TAG_BYTES
KEY_SETTING = "STEWARD_ENCRYPTION_KEY"
KEY_FORMAT = f"{KEY_SETTING} must be base64url keys of {KEY_BYTES} bytes, comma-separated"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, unpadded


class EncryptionKeyError(ValueError):
    """Base for key problems; messages never contain key material."""


class KeyFormatError(EncryptionKeyError):
    """A key in STEWARD_ENCRYPTION_KEY is not 32 bytes of base64url."""


class KeyMissingError(EncryptionKeyError):
    """No key has been installed, so nothing can be sealed or opened."""


class SealError(EncryptionKeyError):
    """A sealed value could not be opened: unknown key, or altered bytes."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class MasterKey:
    """One operator key and the keys derived from it."""

    key_id: bytes
    aead: AESGCM
    lookup: bytes

    @classmethod
    def from_bytes(cls, master: bytes) -> MasterKey:
        if len(master) != KEY_BYTES:
            raise KeyFormatError(KEY_FORMAT)
        key_id = hashlib.sha256(b"steward key id\x00" + master).digest()[:KEY_ID_BYTES]
        return cls(
            key_id=key_id,
            aead=AESGCM(_derive(master, b"steward aes-256-gcm")),
            lookup=_derive(master, b"steward hmac-sha256 lookup"),
        )


class Keyring:
    """The keys in force: the first seals and hashes, all of them open and match."""

    def __init__(self, keys: list[MasterKey]) -> None:
        if not keys:
            raise KeyMissingError(f"{KEY_SETTING} holds no key")
        self.keys = keys
        self.primary = keys[0]
        self._by_id = {k.key_id: k for k in keys}

    @property
    def primary_id(self) -> bytes:
        return self.primary.key_id

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt under the newest key with a fresh random 96-bit nonce."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.primary.aead.encrypt(nonce, plaintext, context.encode())
        return VERSION + self.primary.key_id + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt with whichever listed key sealed it; SealError names no content."""
        if len(blob) < HEADER_BYTES or blob[:1] != VERSION:
            raise SealError(f"a value in {context} is not sealed")
        key = self._by_id.get(key_id_of(blob))
        if key is None:
            raise SealError(f"a value in {context} was sealed with a key that is not configured")
        try:
            return key.aead.decrypt(blob[5:HEADER_BYTES], blob[HEADER_BYTES:], context.encode())
        except InvalidTag:
            raise SealError(f"a value in {context} was altered or sealed elsewhere") from None

    def lookup_hash(self, value: str) -> str:
        """The hash written for an equality lookup (newest key)."""
        return _hmac(self.primary.lookup, value)

    def lookup_hashes(self, value: str) -> list[str]:
        """Every hash the value may be stored under while keys are being rotated."""
        return [_hmac(k.lookup, value) for k in self.keys]


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def key_id_of(blob: bytes) -> bytes:
    return bytes(blob[1 : 1 + KEY_ID_BYTES])


def parse_keys(raw: str | None) -> Keyring:
    """Read `STEWARD_ENCRYPTION_KEY`: base64url keys, comma-separated, newest first."""
    if not raw or not raw.strip():
        raise KeyMissingError(f"{KEY_SETTING} is not set")
    keys = []
    for part in raw.split(","):
        text = part.strip().rstrip("=")
        if not _BASE64URL.fullmatch(text):
            raise KeyFormatError(KEY_FORMAT)
        keys.append(MasterKey.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))))
    return Keyring(keys)


def generate_key() -> str:
    """A new master key in the form STEWARD_ENCRYPTION_KEY takes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


_active: Keyring | None = None


def install(keyring: Keyring | None) -> None:
    """Make these the process's keys (None: none loaded). Column types and lookups read
    them from here, because a bound value carries no session or settings to find them by."""
    global _active
    _active = keyring


def keyring() -> Keyring:
    if _active is None:
        raise KeyMissingError(f"no encryption key is loaded ({KEY_SETTING})")
    return _active


def lookup_hash(value: str | None) -> str | None:
    """The stored lookup hash of a value (None stays None)."""
    return None if value is None else keyring().lookup_hash(value)


def lookup_hashes(value: str) -> list[str]:
    """Hashes to match a value against, one per configured key."""
    return keyring().lookup_hashes(value)


def hash_index(values: Iterable[str]) -> dict[str, str]:
    """Every hash of every value, mapped back to its value: for batch lookups."""
    ring = keyring()
    return {h: v for v in values for h in ring.lookup_hashes(v)}
