"""Evidence files from Slack: fetched with the bot token, kept under email's rules.

A file arrives three ways: added to the report form (`file_input`), shared in a
direct message to the bot (`file_share`), or attached to a reported message.
Each time Slack hands us file objects; we ask `files.info` (scope `files:read`)
for the current metadata and fetch `url_private` with the bot token in an
`Authorization: Bearer` header. Nothing here runs inside the 3-second ack or
under the database's write lock: callers fetch first, then open a session.

The limits are the same as for mail (`core/intake/attachments.py`): a file over
`STEWARD_MAX_ATTACHMENT_BYTES` is refused from its declared size without being
downloaded, and a download is cut off one byte past the limit.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.infra.settings import Settings
from core.intake.attachments import (
    AttachmentCandidate,
    ParsedAttachment,
    RefusedAttachment,
    select_attachments,
    size_text,
)

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 30.0


@dataclass
class Evidence:
    """What was kept and what was refused, in the order the files came."""

    kept: list[ParsedAttachment] = field(default_factory=list)
    refused: list[RefusedAttachment] = field(default_factory=list)
    max_bytes: int = 0
    max_count: int = 0

    def summary(self) -> dict[str, Any]:
        """Names, reasons and the limits for the person who sent them (never the bytes)."""
        summary: dict[str, Any] = {
            "files_kept": [a.filename for a in self.kept],
            "files_refused": [
                {"name": r.original_filename or "a file", "reason": r.reason, "size": r.size}
                for r in self.refused
            ],
        }
        if self.refused:
            summary.update(limit=size_text(self.max_bytes), count=self.max_count)
        return summary

    @classmethod
    def unavailable(cls, files: Any) -> Evidence:
        """Every file refused as unreadable: what a failed fetch still owes the reporter."""
        return cls(
            refused=[
                RefusedAttachment(
                    r["name"],
                    r["mimetype"] or "application/octet-stream",
                    r["size"] or 0,
                    "unavailable",
                )
                for r in file_refs(files)
            ]
        )

    def __bool__(self) -> bool:
        return bool(self.kept or self.refused)


def file_refs(files: Any) -> list[dict[str, Any]]:
    """The identifying part of Slack file objects, small enough to keep in a form's row."""
    refs = []
    for item in files or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            refs.append(
                {
                    "id": item["id"],
                    "name": item.get("name") or item.get("title"),
                    "mimetype": item.get("mimetype"),
                    "size": item.get("size"),
                }
            )
    return refs


def fetch_evidence(client: WebClient, settings: Settings, files: Any) -> Evidence:
    """Fetch every file that fits the limits; the rest are refused with their reason."""
    refs = file_refs(files)
    if not refs:
        return Evidence()
    candidates: list[AttachmentCandidate] = []
    early: list[RefusedAttachment] = []
    for ref in refs:
        fetched = _fetch(client, settings.max_attachment_bytes, ref)
        if isinstance(fetched, RefusedAttachment):
            early.append(fetched)
        else:
            candidates.append(fetched)
    kept, refused = select_attachments(
        candidates, settings.max_attachment_bytes, settings.max_attachments
    )
    log.info("slack files: %d kept, %d refused", len(kept), len(early) + len(refused))
    return Evidence(kept, early + refused, settings.max_attachment_bytes, settings.max_attachments)


def _fetch(
    client: WebClient, max_bytes: int, ref: dict[str, Any]
) -> AttachmentCandidate | RefusedAttachment:
    info = _info(client, ref)
    name = info.get("name") or ref.get("name")
    content_type = info.get("mimetype") or ref.get("mimetype") or "application/octet-stream"

    def refuse(reason: str, size: int) -> RefusedAttachment:
        return RefusedAttachment(name, content_type, size, reason)

    declared = info.get("size") if isinstance(info.get("size"), int) else 0
    url = info.get("url_private_download") or info.get("url_private")
    if declared > max_bytes:
        return refuse("too_large", declared)
    if not url:
        return refuse("unavailable", declared)
    content = _download(url, client.token or "", max_bytes, content_type)
    if content is None:
        return refuse("unavailable", declared)
    if len(content) > max_bytes:
        return refuse("too_large", len(content))
    return AttachmentCandidate(name, content_type, content)


def _info(client: WebClient, ref: dict[str, Any]) -> dict[str, Any]:
    """The file as Slack knows it now; events may carry only its id."""
    try:
        answer = client.files_info(file=ref["id"])
    except SlackApiError as exc:
        log.warning("files.info failed (%s)", exc.response.get("error"))
        return {}
    except (OSError, ValueError) as exc:
        log.warning("files.info could not be reached (%s)", type(exc).__name__)
        return {}
    file = answer.get("file")
    return file if isinstance(file, dict) else {}


def _download(url: str, token: str, max_bytes: int, content_type: str) -> bytes | None:
    """The file's bytes, or None. Slack answers a request it does not accept with its
    sign-in page (HTML) rather than an error, so an HTML answer for a file that is not
    HTML counts as a failure too."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
            served = response.headers.get_content_type()
            if served == "text/html" and not content_type.startswith("text/html"):
                log.warning("a Slack file download was answered with a web page")
                return None
            return response.read(max_bytes + 1)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        log.warning("a Slack file could not be downloaded (%s)", type(exc).__name__)
        return None
