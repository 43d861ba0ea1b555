"""Attachment naming and admission, the same for every way evidence arrives.

Mail attachments and files shared in Slack go through the same rules: the
size and count limits (`STEWARD_MAX_ATTACHMENT_BYTES`, `STEWARD_MAX_ATTACHMENTS`)
and safe names. Filenames arrive from the sender and end up in storage keys and
download dialogs, so they are treated as hostile: path parts, control and
bidi-override characters, Windows-reserved names and absurd lengths are removed,
while letters from any script are kept so that reporters recognise their files.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.infra.clock import utcnow

MAX_NAME_CHARS = 120
# ext4 and most other filesystems cap a name at 255 *bytes*; CJK names hit a
# byte limit long before a character limit, so both are enforced.
MAX_NAME_BYTES = 240
MAX_EXTENSION_CHARS = 16

# Windows refuses these as file stems regardless of extension; a reporter who
# downloads "CON.txt" would get an error or, worse, a device handle.
_RESERVED_STEMS = frozenset(
    {"con", "prn", "aux", "nul", "clock$"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)
_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')
_WHITESPACE = re.compile(r"\s+")
_EXTENSION = re.compile(rf"\.[0-9A-Za-z]{{1,{MAX_EXTENSION_CHARS}}}$")

# Explicit table first: mimetypes depends on the host's /etc/mime.types, and the
# fallback name should not change between a laptop and the server.
_KNOWN_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "text/rtf": ".rtf",
    "application/rtf": ".rtf",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/json": ".json",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/octet-stream": ".bin",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/svg+xml": ".svg",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
}


@dataclass
class AttachmentCandidate:
    """A file offered as evidence (a MIME part, a Slack file), before any policy is applied."""

    original_filename: str | None
    content_type: str
    content: bytes


@dataclass
class ParsedAttachment:
    """An accepted attachment; ``filename`` is safe to use as a storage or download name."""

    filename: str
    original_filename: str | None
    content_type: str
    content: bytes


@dataclass
class RefusedAttachment:
    """An attachment we did not keep; content is dropped, only metadata survives.

    ``reason`` is one of ``REFUSALS``.
    """

    original_filename: str | None
    content_type: str
    size: int
    reason: str


# Why a file was not kept: it was empty, over the size limit, over the count limit,
# or (Slack) it could not be fetched.
REFUSALS = ("empty", "too_large", "too_many", "unavailable")

# The refusals every channel shares, in the sender's terms ({limit}: a size_text).
REFUSED_BECAUSE = {
    "empty": "it is empty",
    "too_large": "it is larger than the limit of {limit}",
    "too_many": "only {count} files can be kept from one message",
}


def size_text(size: int) -> str:
    """A size as people read it: "5 MB", "200 KB"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def refused_note(refused: Iterable[RefusedAttachment], max_bytes: int, max_count: int) -> str:
    """Plain-text lines telling a sender which files were not kept, and why."""
    lines = []
    for item in refused:
        reason = REFUSED_BECAUSE.get(item.reason, "it could not be kept")
        reason = reason.format(limit=size_text(max_bytes), count=max_count)
        lines.append(f"- {item.original_filename or 'a file'}: not kept, because {reason}.")
    return "\n".join(lines)


def extension_for(content_type: str) -> str:
    """Best file extension for a MIME type, ``.bin`` when nothing sensible is known."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _KNOWN_EXTENSIONS:
        return _KNOWN_EXTENSIONS[ctype]
    guessed = mimetypes.guess_extension(ctype) if ctype else None
    if guessed:
        return guessed
    return ".txt" if ctype.startswith("text/") else ".bin"


def _clean_component(name: str) -> str:
    """Last path component with control/format characters and shell-hostile chars removed."""
    name = unicodedata.normalize("NFC", name)
    # Remove every "C*" category: controls, but also format characters such as
    # U+202E RIGHT-TO-LEFT OVERRIDE, which makes "gpj.exe" display as "exe.jpg".
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    parts = [p for p in re.split(r"[/\\]", name) if p.strip()]
    name = parts[-1] if parts else ""
    name = _UNSAFE_CHARS.sub("_", name)
    name = _WHITESPACE.sub(" ", name)
    # Leading dots hide files (and "..", "."); trailing dots/spaces are dropped
    # silently by Windows, changing the name after we validated it.
    return name.strip(" .")


def _truncate(name: str) -> str:
    """Cap the name in characters and UTF-8 bytes while keeping a short extension."""
    match = _EXTENSION.search(name)
    ext = match.group(0) if match and match.start() > 0 else ""
    stem = name[: len(name) - len(ext)] if ext else name

    def fits(candidate: str) -> bool:
        return len(candidate) <= MAX_NAME_CHARS and len(candidate.encode()) <= MAX_NAME_BYTES

    if fits(stem + ext):
        return stem + ext
    stem = stem[: MAX_NAME_CHARS - len(ext)]
    while stem and not fits(stem + ext):
        stem = stem[:-1]
    return stem.rstrip(" .") + ext


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """Return a name that is safe on disk and in download headers, readable in any script.

    ``index`` only feeds the fallback ``attachment-{index}{ext}`` used when the
    sender gave no usable name.
    """
    cleaned = _clean_component(name or "")
    if not cleaned or not any(ch.isalnum() for ch in cleaned):
        return f"attachment-{index}{extension_for(content_type)}"
    if cleaned.split(".", 1)[0].strip().lower() in _RESERVED_STEMS:
        cleaned = "_" + cleaned
    return _truncate(cleaned)


def _deduplicate(name: str, taken: set[str]) -> str:
    """Make names unique case-insensitively, so two "scan.pdf" files cannot overwrite."""
    if name.lower() not in taken:
        return name
    match = _EXTENSION.search(name)
    ext = match.group(0) if match and match.start() > 0 else ""
    stem = name[: len(name) - len(ext)] if ext else name
    counter = 2
    while True:
        candidate = _truncate(f"{stem} ({counter}){ext}")
        if candidate.lower() not in taken:
            return candidate
        counter += 1


def select_attachments(
    candidates: Iterable[AttachmentCandidate], max_bytes: int, max_count: int
) -> tuple[list[ParsedAttachment], list[RefusedAttachment]]:
    """Apply size and count limits in message order.

    Oversized and empty parts are refused first so they do not use up the count:
    a sender's giant video should not push the screenshot after it out.
    """
    accepted: list[ParsedAttachment] = []
    refused: list[RefusedAttachment] = []
    taken: set[str] = set()
    for index, candidate in enumerate(candidates, start=1):
        size = len(candidate.content)
        reason = None
        if size == 0:
            reason = "empty"
        elif size > max_bytes:
            reason = "too_large"
        elif len(accepted) >= max_count:
            reason = "too_many"
        if reason is not None:
            refused.append(
                RefusedAttachment(
                    original_filename=candidate.original_filename,
                    content_type=candidate.content_type,
                    size=size,
                    reason=reason,
                )
            )
            continue
        name = _deduplicate(
            safe_filename(candidate.original_filename, candidate.content_type, index), taken
        )
        taken.add(name.lower())
        accepted.append(
            ParsedAttachment(
                filename=name,
                original_filename=candidate.original_filename,
                content_type=candidate.content_type,
                content=candidate.content,
            )
        )
    return accepted, refused


def attachment_rows(
    case_id: int, entry_id: int, accepted: Iterable[ParsedAttachment]
) -> list[dict[str, Any]]:
    """Accepted files as `attachments` rows tied to the entry they came with, each with the
    SHA-256 that shows later that the evidence was not changed."""
    return [
        {
            "case_id": case_id,
            "entry_id": entry_id,
            "filename": a.filename,
            "original_filename": a.original_filename,
            "content_type": a.content_type,
            "size": len(a.content),
            "sha256": hashlib.sha256(a.content).hexdigest(),
            "content": a.content,
            "created_at": utcnow(),
        }
        for a in accepted
    ]
