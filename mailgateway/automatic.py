"""Recognise mail that was sent by a machine rather than a person.

Replying to an auto-responder, a bounce or a mailing list starts mail loops and
leaks case chatter to third parties, so such mail must be spotted before we
acknowledge it. Each rule returns a stable reason code (logged and stored);
rules run from the most to the least reliable signal, so the code names the
strongest evidence when several match.

Subject-based out-of-office detection is the weakest rule and deliberately
narrow: a false positive would treat a real report as noise, so a subject only
counts when it *starts* (after any "[tag]" prefixes) with a known auto-reply
marker followed by a separator (``Out of office: ...``), or contains the
Lotus-Notes style "is out of the office". A reporter writing ``Re: out of
office harassment`` is not matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_LIST_PREFIX = "list-"
_PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond")
_SYSTEM_LOCAL_PARTS = frozenset(
    {
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "no_reply",
        "do-not-reply",
        "do_not_reply",
        "donotreply",
    }
)

_OOO_MARKERS = (
    # English
    r"out of (?:the )?office(?: auto ?reply)?",
    r"automatic reply",
    r"auto[- ]?reply",
    r"auto[- ]?response",
    r"autoresponder",
    # German
    r"abwesenheitsnotiz",
    r"automatische antwort",
    r"nicht im büro",
    r"abwesend",
    # French
    r"absence du bureau",
    r"absente? du bureau",
    r"réponse automatique",
    r"reponse automatique",
    # Spanish
    r"respuesta automática",
    r"respuesta automatica",
    r"fuera de la oficina",
    r"ausente",
    # Italian / Dutch, cheap to add and common in European communities
    r"risposta automatica",
    r"fuori ufficio",
    r"automatisch antwoord",
    r"afwezig",
)
# Leading "[tag]" groups are skipped: list tags and our own "[COC-12]" case tag
# may precede the marker when an auto-responder or a list rewrote the subject.
_OOO_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)*[\[\(]?\s*(?:"
    + "|".join(_OOO_MARKERS)
    + r")\s*(?:$|[:\]\)\-–—|]|re\s*:|aw\s*:)",
    re.IGNORECASE,
)
_OOO_ANYWHERE = re.compile(
    r"\bis out of (?:the )?office\b|\bist nicht im büro\b|\bist außer haus\b", re.IGNORECASE
)


def _header_map(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Lower-cased header name -> values, so each rule is a dictionary lookup."""
    mapping: dict[str, list[str]] = {}
    for name, value in headers:
        mapping.setdefault(name.strip().lower(), []).append(value.strip())
    return mapping


def _auto_submitted(h: dict[str, list[str]]) -> bool:
    """RFC 3834: any Auto-Submitted value except "no" marks machine mail."""
    for value in h.get("auto-submitted", []):
        keyword = value.split(";", 1)[0].split("(", 1)[0].strip().lower()
        if keyword != "no":
            return True
    return any(name in h for name in _AUTO_REPLY_HEADERS)


def _precedence(h: dict[str, list[str]]) -> bool:
    return any(v.strip().lower() in _PRECEDENCE_AUTOMATIC for v in h.get("precedence", []))


def _mailing_list(h: dict[str, list[str]]) -> bool:
    """RFC 2369/2919 List-* headers, plus ezmlm's Mailing-List header."""
    return "mailing-list" in h or any(name.startswith(_LIST_PREFIX) for name in h)


def _empty_return_path(h: dict[str, list[str]], envelope_from: str | None) -> bool:
    """A null reverse-path is how RFC 5321 marks notifications that must not be answered."""
    if envelope_from is not None and "".join(envelope_from.split()) in ("", "<>"):
        return True
    return any("".join(v.split()) == "<>" for v in h.get("return-path", []))


def _local_part(address: str | None) -> str | None:
    """Local part without sub-address tag, lower-cased ("No-Reply+x@y" -> "no-reply")."""
    if not address:
        return None
    address = address.strip().strip("<>").lower()
    local = address.rpartition("@")[0] if "@" in address else address
    return local.split("+", 1)[0].strip('"')


def _system_sender(from_address: str | None, envelope_from: str | None) -> bool:
    return any(_local_part(addr) in _SYSTEM_LOCAL_PARTS for addr in (from_address, envelope_from))


def _bounce(content_type: str) -> bool:
    """RFC 3462/3464 delivery status notifications arrive as multipart/report."""
    return (content_type or "").split(";", 1)[0].strip().lower() == "multipart/report"


def _out_of_office(subject: str) -> bool:
    text = unicodedata.normalize("NFC", subject or "").strip()
    return bool(_OOO_SUBJECT.search(text) or _OOO_ANYWHERE.search(text))


def classify(
    headers: list[tuple[str, str]],
    subject: str,
    from_address: str | None,
    envelope_from: str | None,
    content_type: str,
    loop_header: str = "X-Steward-Loop",
) -> str | None:
    """Reason code if the message is automatic, None if a person (probably) wrote it.

    Codes, in the order the rules are tried: ``loop``, ``bounce``,
    ``auto-submitted``, ``auto-response-suppress``, ``mailing-list``,
    ``precedence``, ``empty-return-path``, ``system-sender``, ``out-of-office``.
    """
    h = _header_map(headers)
    rules: list[tuple[str, Callable[[], bool]]] = [
        ("loop", lambda: loop_header.strip().lower() in h),
        ("bounce", lambda: _bounce(content_type)),
        ("auto-submitted", lambda: _auto_submitted(h)),
        ("auto-response-suppress", lambda: "x-auto-response-suppress" in h),
        ("mailing-list", lambda: _mailing_list(h)),
        ("precedence", lambda: _precedence(h)),
        ("empty-return-path", lambda: _empty_return_path(h, envelope_from)),
        ("system-sender", lambda: _system_sender(from_address, envelope_from)),
        ("out-of-office", lambda: _out_of_office(subject)),
    ]
    for code, matches in rules:
        if matches():
            return code
    return None
