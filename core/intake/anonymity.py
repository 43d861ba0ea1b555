"""Anonymous reporters by email: asking for it, and later revealing themselves.

Slack reporters choose anonymity on the report form; email reporters ask in
words. The same flag (`Party.anonymous`, mirrored on `Case.anonymous`) hides
them from stewards either way: every steward surface names them "the anonymous
reporter" and never shows their address, while the record keeps the address so
that relayed replies still reach them through their `conduct+TOKEN@` route.

The rules, for mail from a case's reporter:
- A new report asks for anonymity when its subject contains the word
  "anonymous" (any case, as a word: "[Anonymous] ...", "anonymously", and the
  cheap forms of other languages: anonym, anonyme, anonimo/a, anónimo/a,
  anônimo/a).
- A later message asks for it the same way, in its subject or in the first
  line of what it says (quotes and signature removed).
- A later message reveals the reporter when its first line, or its subject
  without "Re:"-style prefixes and the case tag, is the single word REVEAL (any
  case, punctuation ignored). It must come from the reporter's address on
  record and not have failed DKIM/DMARC; otherwise it is noted and refused.
  Revealing is recorded as an entry and an audit event, and is final: later
  requests for anonymity are noted and refused.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from core.casework import notify
from core.casework.cases import REF_PATTERN, Role, flag, system_entry
from core.casework.correspondence import queue_email
from core.casework.notify import Notice
from core.infra import audit
from core.infra.models import Case, Party
from core.infra.settings import Settings
from core.infra.templates import fragment

ANONYMOUS = re.compile(
    r"\b(anonymous(ly)?|anonym|anonyme|an[oóô]nim[oa])\b", re.IGNORECASE | re.UNICODE
)
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr|rv)\s*:\s*)+", re.IGNORECASE)
REVEAL_WORD = "reveal"
REVEALED = "reporter_revealed"

ASK, REVEAL = "anonymous", "reveal"


def asks_anonymity(subject: str | None) -> bool:
    """Whether a new report's subject asks that its reporter stay anonymous."""
    return bool(ANONYMOUS.search(subject or ""))


def acknowledgement_context(anonymous: bool, ref: str) -> dict[str, str]:
    """The acknowledgement's anonymity passage: confirmation and how to reveal, or nothing."""
    if not anonymous:
        return {"anonymity": ""}
    return {"anonymity": "\n\n" + fragment("anonymity", ref=ref)}


def request_in(subject: str | None, text: str | None) -> str | None:
    """What a later message from the reporter asks: `reveal`, `anonymous`, or nothing."""
    first = _first_line(text)
    bare_subject = REF_PATTERN.sub("", REPLY_PREFIX.sub("", subject or "")).strip(" []")
    if _is_reveal(first) or _is_reveal(bare_subject):
        return REVEAL
    if ANONYMOUS.search(subject or "") or ANONYMOUS.search(first):
        return ASK
    return None


def follow_request(
    session: Session,
    settings: Settings,
    case: Case,
    party: Party | None,
    subject: str | None,
    text: str | None,
    mail: dict[str, Any] | None = None,
) -> str | None:
    """Act on a reporter's later request for anonymity or to reveal themselves.

    Only the case's reporter can ask, and only for themselves. Revealing is final, so
    it also needs the mail to come from the reporter's address on record and not to
    have failed DKIM/DMARC (`mail`: the entry's mail data). Returns what was done.
    """
    if party is None or party.role != Role.REPORTER:
        return None
    wanted = request_in(subject, text)
    if wanted == REVEAL and party.anonymous:
        if _doubtful_sender(mail or {}):
            system_entry(
                session,
                case,
                "A message on the reporter's route asked to reveal them, but it did not come "
                "verifiably from their address, so they stay anonymous.",
                anonymity="reveal_refused",
            )
            return None
        reveal(session, settings, case, party)
        return REVEAL
    if wanted == ASK and not party.anonymous:
        if (case.flags or {}).get(REVEALED):
            system_entry(
                session,
                case,
                "The reporter asked to be anonymous again after revealing who they are. "
                "Revealing cannot be undone, so nothing changed.",
                anonymity="refused",
            )
            return None
        make_anonymous(session, settings, case, party)
        return ASK
    return None


def make_anonymous(session: Session, settings: Settings, case: Case, party: Party) -> None:
    """Hide the reporter from the stewards from now on, and tell them how to undo it."""
    party.anonymous = True
    case.anonymous = True
    entry = system_entry(
        session, case, "The reporter asked to stay anonymous to the stewards.", anonymity="asked"
    )
    audit.record(session, "reporter.anonymous", actor="party:reporter", case=case, entry=entry)
    queue_email(
        session,
        settings,
        case,
        party,
        "anonymity_confirmed",
        kind="anonymity_confirmed",
        context=acknowledgement_context(True, case.ref),
    )
    notify.staff_notice(
        session, case, Notice.SYSTEM, entry=entry, message="The reporter is now anonymous."
    )
    notify.refresh_views(session, case)


def reveal(session: Session, settings: Settings, case: Case, party: Party) -> None:
    """The reporter's own, final choice: the stewards may now see who they are."""
    party.anonymous = False
    case.anonymous = any(p.anonymous for p in case.parties)
    flag(session, case, REVEALED, True)
    entry = system_entry(
        session,
        case,
        "The reporter chose to reveal who they are to the stewards. This cannot be undone.",
        anonymity="revealed",
    )
    audit.record(session, "reporter.revealed", actor="party:reporter", case=case, entry=entry)
    queue_email(session, settings, case, party, "anonymity_revealed", kind="anonymity_revealed")
    notify.staff_notice(
        session,
        case,
        Notice.SYSTEM,
        entry=entry,
        message="The reporter chose to reveal who they are. Use *View report* to see it.",
    )
    notify.refresh_views(session, case)


def redacted(data: dict[str, Any]) -> dict[str, Any]:
    """An entry's mail data without what would identify an anonymous sender."""
    return {k: v for k, v in data.items() if k not in ("from", "auth_results")}


def _doubtful_sender(mail: dict[str, Any]) -> bool:
    return mail.get("sender_verified") is False or bool(mail.get("sender_differs_from_party"))


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def _is_reveal(line: str) -> bool:
    return re.sub(r"[\W_]+", "", line).lower() == REVEAL_WORD
