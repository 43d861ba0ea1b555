"""Real-world mail against conduct@: every message of a corpus over real SMTP.

Sends each message of a mail corpus (default: ``../shared/corpora/mail`` from
the project's root, described by its ``MANIFEST.tsv``) to ``steward mail``,
started as a separate process on an empty database, then reads the case record
and reports:

* the SMTP answers (an unintended 5xx is any 5xx except 552 for a message over
  ``STEWARD_MAX_MESSAGE_BYTES``);
* automatic mail that was acknowledged (a false acknowledgement);
* mail a person wrote that was not acknowledged (a missed acknowledgement);
* quote stripping: exact and near matches against the expected texts;
* forwarded messages: whether the forwarded text is shown whole;
* the files that failed.

Messages labelled ``raw`` are sent byte for byte; ``body`` files (the text of a
reply) are wrapped in minimal headers first; ``skip`` files are left out. The
envelope sender is the message's From address, the way a person's mail server
would send it, so nothing about the label leaks into the envelope.

    .venv/bin/python bench/mail_corpus.py [--corpus DIR] [--limit N]
        [--database-url URL] [--check] [--show-failures] [--sender-from-header]

``--limit N`` sends an evenly spread sample of N messages (CI's bounded run).
``--check`` exits 1 on an unintended 5xx, a missed acknowledgement, or more than
1 % false acknowledgements.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import email.policy
import email.utils
import json
import re
import smtplib
import sys
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, scratch, start, stop, wait_for_port  # noqa: E402

CORPUS_PLACE = Path("shared") / "corpora" / "mail"
AUTOMATIC_LABELS = frozenset({"bounce", "auto_reply", "arf"})
NEAR_RATIO = 0.9
MAX_FALSE_ACK_SHARE = 0.01
CONDUCT = "conduct@example.org"
FALLBACK_SENDER = "someone@corpus.example"
# Lines that start a forwarded message in the common clients (not a reply's quote).
FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:"
    r"|-{2,}\s*Forwarded Message\s*-{2,}|-{2,}\s*Weitergeleitete Nachricht\s*-{2,}"
    r"|-{2,}\s*Message transféré\s*-{2,}|-{2,}\s*Mensaje reenviado\s*-{2,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class Item:
    """One corpus message as sent, and what the case record made of it."""

    file: str
    label: str
    kind: str
    expected: str | None
    raw: bytes
    sender: str
    message_id: str | None = None
    code: int = 0
    answer: str = ""
    stored: bool = False
    acknowledged: bool = False
    automatic: str | None = None
    text: str = ""
    forwarded_part: str | None = None


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)

    def of(self, *labels: str) -> list[Item]:
        return [i for i in self.items if i.label in labels]


# --------------------------------------------------------------------------- loading


def default_corpus() -> Path:
    """``../shared/corpora/mail`` from the project root, or from the nearest folder above it
    that has one (a checkout kept one level deeper still finds the shared corpus)."""
    for folder in ROOT.parents:
        if (folder / CORPUS_PLACE / "MANIFEST.tsv").is_file():
            return folder / CORPUS_PLACE
    return ROOT.parent / CORPUS_PLACE


def load(corpus: Path, limit: int | None, sender_from_header: bool = False) -> list[Item]:
    """The manifest's raw and body messages, optionally an evenly spread sample of them."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"] in ("raw", "body")]
    if limit and limit < len(rows):
        step = len(rows) / limit
        rows = [rows[int(n * step)] for n in range(limit)]
    items = []
    for row in rows:
        data = (corpus / row["file"]).read_bytes()
        expected = row.get("expected") or None
        raw = as_sent(data) if row["kind"] == "raw" else wrap_body(data, row["file"])
        item = Item(
            file=row["file"],
            label=row["label"],
            kind=row["kind"],
            expected=(corpus / expected).read_text(encoding="utf-8") if expected else None,
            raw=raw,
            sender=from_address(raw) if sender_from_header else envelope_sender(raw),
            message_id=message_id(raw),
        )
        if item.label == "human":
            item.forwarded_part = forwarded_part(body_text(raw))
        items.append(item)
    return items


def as_sent(data: bytes) -> bytes:
    """The corpus keeps files with LF line ends; on the wire every line ends in CRLF."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def wrap_body(body: bytes, name: str) -> bytes:
    """A reply body as a whole message: minimal headers, UTF-8, CRLF line ends."""
    headers = (
        f"From: Corpus Sender <sender-{uuid.uuid4().hex[:8]}@corpus.example>\r\n"
        f"To: {CONDUCT}\r\n"
        f"Subject: Re: {Path(name).stem}\r\n"
        f"Date: {email.utils.formatdate()}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@corpus.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    return headers + as_sent(body)


def envelope_sender(raw: bytes) -> str:
    """The envelope sender the message was delivered with, as its Return-Path header
    records it ("" for the null sender of bounces), else its From address."""
    message = BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    return_path = str(message.get("return-path", "")).strip()
    if return_path:
        found = re.search(r"<([^<>]*)>", return_path)
        return (found.group(1) if found else return_path).strip()
    return from_address(raw)


def from_address(raw: bytes) -> str:
    """The From address (with ``--sender-from-header``: no help from the envelope)."""
    try:
        message = BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
        pairs = email.utils.getaddresses([str(v) for v in message.get_all("from", [])])
    except Exception:  # noqa: BLE001 - a broken From header just gets the fallback sender
        return FALLBACK_SENDER
    for _, address in pairs:
        if "@" in address and " " not in address:
            return address
    return FALLBACK_SENDER


def message_id(raw: bytes) -> str | None:
    found = re.search(rb"^message-id:\s*(<[^>\r\n]*>)", raw, re.IGNORECASE | re.MULTILINE)
    return found.group(1).decode("utf-8", "replace") if found else None


def duplicates(items: list[Item]) -> set[str]:
    """Files whose Message-ID an earlier file already had: one message, stored once."""
    seen: set[str] = set()
    repeated = set()
    for item in items:
        if item.message_id in seen:
            repeated.add(item.file)
        if item.message_id:
            seen.add(item.message_id)
    return repeated


def body_text(raw: bytes) -> str:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    part = message.get_body(("plain",))
    try:
        return part.get_content() if part is not None else ""
    except Exception:  # noqa: BLE001 - undecodable: no forward check for it
        return ""


def forwarded_part(text: str) -> str | None:
    """The text below a forward marker that is not itself quoted history."""
    match = FORWARD_MARKER.search(text)
    return text[match.end() :] if match else None


# --------------------------------------------------------------------------- sending


def send_all(items: list[Item], port: int) -> None:
    """One SMTP session per message, as separate senders would deliver them."""
    for number, item in enumerate(items):
        recipient = f"conduct+corpus{number}@example.org"
        options = [] if item.sender.isascii() else ["SMTPUTF8"]
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                client.ehlo()
                code, answer = client.mail(item.sender, options)
                if code == 250:
                    code, answer = client.rcpt(recipient)
                if code == 250:
                    code, answer = client.data(item.raw)
        except smtplib.SMTPServerDisconnected as exc:
            code, answer = 0, str(exc).encode()
        item.code, item.answer = code, answer.decode("utf-8", "replace")


def collect(items: list[Item], database_url: str) -> None:
    """What the record holds for each message: stored, acknowledged, its shown text."""
    from sqlalchemy import select

    from core.infra.db import Database
    from core.infra.models import Entry, InboundMessage, OutboxItem

    db = Database(database_url)
    try:
        with db.session() as session:
            acked = set(
                session.scalars(
                    select(OutboxItem.case_id).where(OutboxItem.kind == "acknowledgement")
                )
            )
            for message in session.scalars(select(InboundMessage)):
                for rcpt in message.envelope_to.get("rcpt_tos", []):
                    number = re.search(r"\+corpus(\d+)@", rcpt)
                    if number is None:
                        continue
                    item = items[int(number.group(1))]
                    entry = session.get(Entry, message.entry_id)
                    item.stored = True
                    item.automatic = message.automatic
                    item.acknowledged = message.case_id in acked
                    item.text = entry.text if entry is not None else ""
    finally:
        db.dispose()


# --------------------------------------------------------------------------- scoring


def normalised(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def quote_result(item: Item) -> str:
    """exact, near (similarity >= 0.9) or wrong."""
    assert item.expected is not None
    got, want = normalised(item.text), normalised(item.expected)
    if got == want:
        return "exact"
    if difflib.SequenceMatcher(None, got, want, autojunk=False).ratio() >= NEAR_RATIO:
        return "near"
    return "wrong"


def shown_whole(item: Item) -> bool:
    """Every line of the forwarded text appears in what the stewards read."""
    assert item.forwarded_part is not None
    shown = " ".join(item.text.split())
    for line in item.forwarded_part.splitlines():
        words = " ".join(line.replace("*", "").split())
        if words and words not in shown:
            return False
    return True


def unintended_5xx(item: Item, max_bytes: int) -> bool:
    intended = item.code == 552 and len(item.raw) > max_bytes
    return (500 <= item.code < 600 and not intended) or item.code == 0


def summarise(report: Report, max_bytes: int) -> dict[str, object]:
    repeated = duplicates(report.items)
    automatic = report.of(*AUTOMATIC_LABELS)
    human = report.of("human")
    quotes = [i for i in human if i.expected is not None and i.stored]
    results = {i.file: quote_result(i) for i in quotes}
    forwards = [i for i in human if i.forwarded_part is not None]
    answers: dict[str, int] = {}
    for item in report.items:
        answers[str(item.code)] = answers.get(str(item.code), 0) + 1
    false_acks = [i.file for i in automatic if i.acknowledged]
    return {
        "messages": len(report.items),
        "smtp_answers": answers,
        "unintended_5xx": [i.file for i in report.items if unintended_5xx(i, max_bytes)],
        "duplicates": sorted(repeated),
        "not_stored": [
            i.file
            for i in report.items
            if i.code == 250 and not i.stored and i.file not in repeated
        ],
        "automatic": len(automatic),
        "false_acks": false_acks,
        "false_ack_share": len(false_acks) / len(automatic) if automatic else 0.0,
        "human": len(human),
        "missed_acks": [i.file for i in human if i.code == 250 and not i.acknowledged],
        "quotes": len(quotes),
        "quotes_exact": sum(r == "exact" for r in results.values()),
        "quotes_near": sum(r == "near" for r in results.values()),
        "quotes_wrong": sorted(f for f, r in results.items() if r == "wrong"),
        "quotes_near_files": sorted(f for f, r in results.items() if r == "near"),
        "forwards": len(forwards),
        "forwards_whole": sum(shown_whole(i) for i in forwards),
        "forwards_cut": [i.file for i in forwards if not shown_whole(i)],
    }


# --------------------------------------------------------------------------- running


def run(
    corpus: Path, limit: int | None, database_url: str | None, sender_from_header: bool = False
) -> tuple[Report, int]:
    from core.infra.db import Database
    from core.infra.settings import Settings

    max_bytes = Settings().max_message_bytes
    report = Report(load(corpus, limit, sender_from_header))
    work = scratch("steward-corpus-")
    url = database_url or f"sqlite:///{work / 'steward.db'}"
    Database(url).upgrade()
    port = free_port()
    env = {
        "STEWARD_DATABASE_URL": url,
        "STEWARD_SMTP_PORT": str(port),
        "STEWARD_ACK_RATE_PER_HOUR": "1000000",
        "STEWARD_MAIL_OUT_DIR": str(work / "mail-out"),
    }
    server = start(["-m", "steward.cli", "mail"], env, work)
    try:
        wait_for_port(port)
        send_all(report.items, port)
    finally:
        stop(server)
    collect(report.items, url)
    return report, max_bytes


def print_summary(summary: dict[str, object], show_failures: bool) -> None:
    quotes = int(summary["quotes"])  # type: ignore[call-overload]
    exact = int(summary["quotes_exact"])  # type: ignore[call-overload]
    print(f"messages sent: {summary['messages']}; SMTP answers: {summary['smtp_answers']}")
    print(f"unintended 5xx: {len(summary['unintended_5xx'])}")  # type: ignore[arg-type]
    print(
        f"stored once as a repeated Message-ID: {len(summary['duplicates'])}; "  # type: ignore[arg-type]
        f"accepted but not stored: {len(summary['not_stored'])}"  # type: ignore[arg-type]
    )
    print(
        f"false acknowledgements: {len(summary['false_acks'])} of "  # type: ignore[arg-type]
        f"{summary['automatic']} automatic ({summary['false_ack_share']:.1%})"
    )
    print(f"missed acknowledgements: {len(summary['missed_acks'])} of {summary['human']} human")  # type: ignore[arg-type]
    if quotes:
        print(
            f"quote stripping: {exact} exact ({exact / quotes:.0%}), "
            f"{summary['quotes_near']} near, of {quotes} with an expected text"
        )
    print(f"forwarded messages shown whole: {summary['forwards_whole']} of {summary['forwards']}")
    if show_failures:
        for key in (
            "unintended_5xx",
            "not_stored",
            "false_acks",
            "missed_acks",
            "quotes_wrong",
            "quotes_near_files",
            "forwards_cut",
        ):
            for name in summary[key]:  # type: ignore[attr-defined]
                print(f"  {key}: {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="default: ../shared/corpora/mail")
    parser.add_argument("--limit", type=int, default=None, help="send an even sample of N")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--sender-from-header",
        action="store_true",
        help="send from each message's From address, not its Return-Path (a harder test)",
    )
    parser.add_argument("--show-failures", action="store_true", help="list the failed files")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    corpus = args.corpus or default_corpus()
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"mail corpus not found at {corpus}: skipped")
        return 0
    report, max_bytes = run(corpus, args.limit, args.database_url, args.sender_from_header)
    summary = summarise(report, max_bytes)
    if args.json:
        print(json.dumps(summary, indent=2))
    print_summary(summary, args.show_failures)
    failed = (
        summary["unintended_5xx"]
        or summary["missed_acks"]
        or summary["not_stored"]
        or float(summary["false_ack_share"]) > MAX_FALSE_ACK_SHARE  # type: ignore[arg-type]
    )
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
