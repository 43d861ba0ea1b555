"""The outbound mail folder (``.eml`` files), read for showing beside the workspace.

With no outbound relay, the demo writes every email it sends into a folder. A
newcomer wants to see the acknowledgement that the reporter received next to
the staff thread, so the viewer lists the newest files there, parsed with the
standard library. A file that does not parse is listed by name, not skipped.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SHOWN = 50


@dataclass(frozen=True)
class Letter:
    name: str
    sent: datetime
    sender: str
    to: str
    subject: str
    body: str


class Mailbox:
    """Reads the folder each time it is asked, so new files show up at the next poll."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else None

    def count(self) -> int:
        return len(self._files())

    def letters(self, limit: int = SHOWN) -> list[Letter]:
        """The newest first."""
        return [self._read(path) for path in self._files()[:limit]]

    def _files(self) -> list[Path]:
        if self.folder is None or not self.folder.is_dir():
            return []
        files = [p for p in self.folder.glob("*.eml") if p.is_file()]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)

    @staticmethod
    def _read(path: Path) -> Letter:
        sent = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        try:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            part = message.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
            return Letter(
                name=path.name,
                sent=sent,
                sender=str(message.get("From", "")),
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                body=body,
            )
        except (OSError, ValueError, LookupError) as err:
            return Letter(path.name, sent, "", "", "(this file could not be read)", repr(err))
