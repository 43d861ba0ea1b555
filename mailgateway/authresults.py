"""Trust decisions from Authentication-Results headers (RFC 8601).

Anyone can write an Authentication-Results header into a message, including
one naming our own authserv-id. The only ones we believe are those our border
MTA prepended: they carry our authserv-id *and* sit above the first Received
header. Anything below a Received header was already in the message when it
reached us, so it is upstream's (or the sender's) claim and is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_HEADER = "authentication-results"
# Results that mean "this method was not applied", which RFC 8601 section 2.7
# distinguishes from a failure. dkim=none only says the message was unsigned.
_NOT_APPLIED = frozenset({"none"})


@dataclass
class AuthVerdict:
    """Outcome of checking our own Authentication-Results headers.

    ``verified`` is None when no trusted header was found (or no authserv-id is
    configured), so callers can tell "not checked" apart from "failed".
    ``results`` maps method (``dkim``, ``spf``, ``dmarc``...) to its result.
    """

    verified: bool | None = None
    results: dict[str, str] = field(default_factory=dict)


def _strip_comments(value: str) -> str:
    """Remove (possibly nested) RFC 5322 comments, leaving quoted strings intact."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(" ")
        elif depth == 0:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out)


def _split_semicolons(value: str) -> list[str]:
    """Split on ';' outside quoted strings (a property value may quote a ';')."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_header(value: str) -> tuple[str, dict[str, str]]:
    """Return ``(authserv_id, {method: result})`` for one header value.

    Methods appearing more than once (two DKIM signatures, say) keep "pass" if
    any instance passed: a mailing list breaking one signature does not
    invalidate another one that still verifies.
    """
    parts = _split_semicolons(_strip_comments(value))
    head = parts[0].split()
    authserv_id = head[0].lower() if head else ""
    results: dict[str, str] = {}
    for resinfo in parts[1:]:
        method, sep, rest = resinfo.partition("=")
        if not sep:
            continue  # "none" or garbage: no result to record
        method = method.strip().split("/", 1)[0].lower()
        tokens = rest.split()
        if not method or not tokens:
            continue
        result = tokens[0].lower()
        if results.get(method) != "pass":
            results[method] = result
    return authserv_id, results


def trusted_values(headers: list[tuple[str, str]], authserv_id: str) -> list[str]:
    """Authentication-Results values above the first Received header with our id."""
    wanted = authserv_id.strip().lower()
    values: list[str] = []
    for name, value in headers:
        lowered = name.strip().lower()
        if lowered == "received":
            break
        if lowered == _HEADER and parse_header(value)[0] == wanted:
            values.append(value)
    return values


def _decide(results: dict[str, str]) -> bool:
    """DMARC or DKIM must pass, and neither may have failed.

    SPF alone is not enough: it authenticates the envelope sender, not the From
    address a reporter sees, so an SPF-only pass says little about identity.
    """
    applied = {m: r for m, r in results.items() if r not in _NOT_APPLIED}
    dmarc = applied.get("dmarc")
    dkim = applied.get("dkim")
    if dmarc is not None and dmarc != "pass":
        return False
    if dkim is not None and dkim != "pass":
        return False
    return "pass" in (dmarc, dkim)


def evaluate(headers: list[tuple[str, str]], authserv_id: str | None) -> AuthVerdict:
    """Verdict from the trusted Authentication-Results headers in ``headers`` (top first)."""
    if not authserv_id or not authserv_id.strip():
        return AuthVerdict(verified=None, results={})
    values = trusted_values(headers, authserv_id)
    if not values:
        return AuthVerdict(verified=None, results={})
    merged: dict[str, str] = {}
    for value in values:
        for method, result in parse_header(value)[1].items():
            if merged.get(method) != "pass":
                merged[method] = result
    return AuthVerdict(verified=_decide(merged), results=merged)
