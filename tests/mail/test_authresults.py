"""authresults.evaluate: which Authentication-Results headers count, and the verdict."""

from __future__ import annotations

import pytest

from mailgateway.authresults import evaluate, parse_header

OURS = "mx.example.org"
RECEIVED = ("Received", "from relay.example.net by mx.example.org; Mon, 3 Mar 2025 10:00 +0000")


def ar(value: str) -> tuple[str, str]:
    return ("Authentication-Results", value)


def test_parse_header_with_comments_version_and_properties() -> None:
    value = (
        "mx.example.org 1; dkim=pass (2048-bit key; unprotected) header.d=example.net "
        'header.s=s1; spf=pass (sender ip is 192.0.2.1) smtp.mailfrom="a;b@example.net"; '
        "dmarc=pass (p=reject dis=none) header.from=example.net"
    )
    assert parse_header(value) == (OURS, {"dkim": "pass", "spf": "pass", "dmarc": "pass"})


def test_parse_header_none_and_method_versions() -> None:
    assert parse_header("mx.example.org; none") == (OURS, {})
    assert parse_header('MX.Example.ORG; dkim/1=FAIL reason="bad"') == (OURS, {"dkim": "fail"})


def test_any_passing_signature_wins() -> None:
    assert parse_header(f"{OURS}; dkim=fail header.d=list.example; dkim=pass header.d=a.example")[
        1
    ] == {"dkim": "pass"}


@pytest.mark.parametrize(
    ("value", "verified"),
    [
        (f"{OURS}; dkim=pass; spf=pass; dmarc=pass", True),
        (f"{OURS}; dkim=pass", True),
        (f"{OURS}; dmarc=pass; spf=pass", True),
        (f"{OURS}; dkim=none; spf=pass; dmarc=pass", True),
        (f"{OURS}; dkim=fail; spf=pass; dmarc=fail", False),
        (f"{OURS}; dkim=pass; dmarc=fail", False),
        (f"{OURS}; dkim=fail; dmarc=pass", False),
        (f"{OURS}; dkim=temperror; dmarc=pass", False),
        (f"{OURS}; spf=pass", False),
        (f"{OURS}; none", False),
    ],
)
def test_verdicts(value: str, verified: bool) -> None:
    assert evaluate([ar(value), RECEIVED], OURS).verified is verified


def test_results_are_reported() -> None:
    verdict = evaluate([ar(f"{OURS}; dkim=pass; spf=softfail; dmarc=pass")], OURS)
    assert verdict.results == {"dkim": "pass", "spf": "softfail", "dmarc": "pass"}


def test_headers_below_a_received_header_are_ignored() -> None:
    headers = [RECEIVED, ar(f"{OURS}; dkim=pass; dmarc=pass")]
    verdict = evaluate(headers, OURS)
    assert (verdict.verified, verdict.results) == (None, {})


def test_only_our_authserv_id_counts() -> None:
    headers = [ar("mx.attacker.example; dkim=pass; dmarc=pass"), RECEIVED]
    assert evaluate(headers, OURS).verified is None


def test_trusted_header_wins_over_a_forged_one_further_down() -> None:
    headers = [
        ar(f"{OURS}; dkim=fail; dmarc=fail"),
        RECEIVED,
        ar(f"{OURS}; dkim=pass; dmarc=pass"),
    ]
    verdict = evaluate(headers, OURS)
    assert verdict.verified is False and verdict.results["dmarc"] == "fail"


def test_several_trusted_headers_are_merged() -> None:
    headers = [ar(f"{OURS}; spf=pass"), ar(f"{OURS.upper()}; dkim=pass"), RECEIVED]
    assert evaluate(headers, OURS).results == {"spf": "pass", "dkim": "pass"}
    assert evaluate(headers, OURS).verified is True


@pytest.mark.parametrize("authserv_id", [None, "", "  "])
def test_no_configured_authserv_id_means_unknown(authserv_id: str | None) -> None:
    verdict = evaluate([ar(f"{OURS}; dkim=pass; dmarc=pass")], authserv_id)
    assert (verdict.verified, verdict.results) == (None, {})
