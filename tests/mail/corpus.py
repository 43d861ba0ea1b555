"""Raw inbound messages for parser unit tests and end-to-end SMTP tests.

Every case is built in code (no binary fixtures) so a reader can see exactly
which bytes are on the wire. Well-formed mail uses the stdlib email package
with the SMTP policy (CRLF line ends); cases whose point is malformation or raw
8-bit bytes are written out by hand.
"""

from __future__ import annotations

import base64
import uuid
from email import policy
from email.message import EmailMessage

AUTO = "auto"
DEFAULT_FROM = "alex@example.net"
DEFAULT_TO = "conduct@example.org"
DATE = "Mon, 03 Mar 2025 10:00:00 +0100"
CRLF = "\r\n"

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def new_message_id(domain: str = "example.net") -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def _assemble(headers: list[tuple[str, str]], body: str | bytes) -> bytes:
    """Hand-written message: headers exactly as given (UTF-8 if non-ASCII), CRLF line ends."""
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers).encode("utf-8")
    payload = body.encode("utf-8") if isinstance(body, str) else body
    payload = payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return head + b"\r\n" + payload


def _envelope_headers(
    message: EmailMessage,
    *,
    from_addr: str,
    to: str,
    subject: str,
    message_id: str | None,
    extra_headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
    references: str | list[str] | None = None,
) -> None:
    # Extra headers go first: trace and Authentication-Results headers are
    # prepended by MTAs, so that is where a test expects to find them.
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message["From"] = from_addr
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = DATE
    if message_id == AUTO:
        message_id = new_message_id()
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references if isinstance(references, str) else " ".join(references)


def plain(
    from_addr: str = DEFAULT_FROM,
    to: str = DEFAULT_TO,
    subject: str = "Report about the community meetup",
    body: str = "Something happened at the meetup on Friday.\n",
    message_id: str | None = AUTO,
    extra_headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
    references: str | list[str] | None = None,
) -> bytes:
    """A person's text/plain message. ``message_id=None`` leaves the header out."""
    message = EmailMessage(policy=policy.SMTP)
    _envelope_headers(
        message,
        from_addr=from_addr,
        to=to,
        subject=subject,
        message_id=message_id,
        extra_headers=extra_headers,
        in_reply_to=in_reply_to,
        references=references,
    )
    message.set_content(body)
    return message.as_bytes()


def no_message_id() -> bytes:
    return plain(subject="No Message-ID here", body="Sent by a very old client.\n", message_id=None)


def _encoded(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


def rfc2047_subjects() -> list[tuple[bytes, str]]:
    """(raw message, expected subject) for UTF-8, ISO-8859-1 and Shift_JIS encoded words."""
    cases = [
        (
            _encoded("Belästigung beim Treffen – Bericht", "utf-8"),
            "Belästigung beim Treffen – Bericht",
        ),
        ("=?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=", "Grüße aus Köln"),
        (_encoded("報告：ハラスメント", "shift_jis"), "報告：ハラスメント"),
        ("Re: =?utf-8?q?caf=C3=A9?= meetup", "Re: café meetup"),
        ("=?utf-8?q?Stra=C3?= =?utf-8?q?=9Fe?=", "Straße"),
    ]
    samples = []
    for encoded, expected in cases:
        raw = _assemble(
            [
                ("From", DEFAULT_FROM),
                ("To", DEFAULT_TO),
                ("Subject", encoded),
                ("Date", DATE),
                ("Message-ID", new_message_id()),
                ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            "Encoded subject test.\n",
        )
        samples.append((raw, expected))
    return samples


def raw_8bit_utf8() -> bytes:
    """SMTPUTF8/8BITMIME style: unencoded UTF-8 in headers and body."""
    return _assemble(
        [
            ("From", "Zoë Müller <zoe@example.net>"),
            ("To", DEFAULT_TO),
            ("Subject", "Vorfall beim Café-Treffen – Grüße aus Zürich"),
            ("Date", DATE),
            ("Message-ID", new_message_id()),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        "Beim Treffen in Zürich wurde ich belästigt.\n日本語のメモも添えます。\n",
    )


HTML_BODY = """<html><head><title>ignored title</title>
<style>p { color: red; }</style></head>
<body>
<p>Hello conduct team,</p>
<p>At the <b>meetup</b> someone kept &quot;joking&quot; about me.<br>It happened twice.</p>
<ul><li>First at the bar</li><li>Then during the talk</li></ul>
<script>alert("not text")</script>
<p>Screenshot: <a href="https://example.net/s/1">here</a></p>
<blockquote>Earlier message that was quoted</blockquote>
</body></html>
"""


def html_only() -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    _envelope_headers(
        message,
        from_addr=DEFAULT_FROM,
        to=DEFAULT_TO,
        subject="HTML only report",
        message_id=AUTO,
    )
    message.set_content(HTML_BODY, subtype="html")
    return message.as_bytes()


NESTED_PLAIN = "The plain version of my report.\nSee the attached PDF.\n"


def nested_multipart() -> bytes:
    """mixed[ alternative[ plain, related[ html, inline png ] ], pdf attachment ]."""
    message = EmailMessage(policy=policy.SMTP)
    _envelope_headers(
        message,
        from_addr=DEFAULT_FROM,
        to=DEFAULT_TO,
        subject="Nested multipart report",
        message_id=AUTO,
    )
    message.set_content(NESTED_PLAIN)
    message.add_alternative(
        '<p>The <b>HTML</b> version of my report.</p><img src="cid:shot@example.net">',
        subtype="html",
    )
    html_part = message.get_payload()[1]
    html_part.add_related(PNG_BYTES, maintype="image", subtype="png", cid="<shot@example.net>")
    message.add_attachment(
        PDF_BYTES, maintype="application", subtype="pdf", filename="evidence.pdf"
    )
    return message.as_bytes()


ATTACHMENT_NAMES = ("Übersicht März.pdf", "報告.txt")
REPORT_TXT = "報告の本文です。\n".encode()


def attachment_non_ascii() -> bytes:
    """Two attachments whose names the stdlib encodes with RFC 2231 (filename*=utf-8'')."""
    message = EmailMessage(policy=policy.SMTP)
    _envelope_headers(
        message,
        from_addr=DEFAULT_FROM,
        to=DEFAULT_TO,
        subject="Files attached",
        message_id=AUTO,
    )
    message.set_content("Please see the two attached files.\n")
    message.add_attachment(
        PDF_BYTES, maintype="application", subtype="pdf", filename=ATTACHMENT_NAMES[0]
    )
    message.add_attachment(
        REPORT_TXT, maintype="text", subtype="plain", filename=ATTACHMENT_NAMES[1]
    )
    return message.as_bytes()


OVERSIZED_LINE = "This line only exists to make the message large enough.\n"


def oversized(n_bytes: int) -> bytes:
    """A plain message of at least ``n_bytes`` bytes."""
    repeats = n_bytes // len(OVERSIZED_LINE) + 1
    return plain(subject="A very large message", body=OVERSIZED_LINE * repeats)


def bare_cr_injection() -> bytes:
    """A bare CR inside Subject trying to smuggle in an extra header."""
    return (
        b"From: alex@example.net\r\n"
        b"To: conduct@example.org\r\n"
        b"Subject: hello\rX-Injected: yes\r\n"
        b"Date: " + DATE.encode() + b"\r\n"
        b"Message-ID: " + new_message_id().encode() + b"\r\n"
        b"\r\n"
        b"Body after an injection attempt.\r\n"
    )


def vacation_autoreply() -> bytes:
    """A well-behaved RFC 3834 auto-responder."""
    return plain(
        from_addr="Sam Lee <sam@example.com>",
        subject="Out of office: Your report",
        body="I am away until 10 March and will read your mail when I am back.\n",
        extra_headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def dsn_bounce() -> bytes:
    """RFC 3464 delivery status notification (multipart/report; report-type=delivery-status)."""
    boundary = "dsn-boundary-1"
    body = CRLF.join(
        [
            f"--{boundary}",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "This is the mail system. Your message could not be delivered.",
            "",
            f"--{boundary}",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.example.com",
            "",
            "Final-Recipient: rfc822; gone@example.com",
            "Action: failed",
            "Status: 5.1.1",
            "",
            f"--{boundary}",
            "Content-Type: text/rfc822-headers",
            "",
            "From: conduct@example.org",
            "To: gone@example.com",
            "Subject: [COC-1] Your report",
            "",
            f"--{boundary}--",
            "",
        ]
    )
    return _assemble(
        [
            ("From", "Mail Delivery System <MAILER-DAEMON@mx.example.com>"),
            ("To", DEFAULT_TO),
            ("Subject", "Undelivered Mail Returned to Sender"),
            ("Date", DATE),
            ("Message-ID", new_message_id("mx.example.com")),
            ("Auto-Submitted", "auto-replied"),
            ("MIME-Version", "1.0"),
            (
                "Content-Type",
                f'multipart/report; report-type=delivery-status; boundary="{boundary}"',
            ),
        ],
        body,
    )


def mailing_list() -> bytes:
    return plain(
        from_addr="Community Digest <digest@lists.example.com>",
        subject="[community] Weekly digest",
        body="Here is what happened in the community this week.\n",
        extra_headers={
            "List-Id": "Community <community.lists.example.com>",
            "List-Unsubscribe": "<mailto:leave@lists.example.com>",
            "Precedence": "list",
        },
    )


def ooo_german() -> bytes:
    """An auto-responder that only says so in its subject (no Auto-Submitted header)."""
    return plain(
        from_addr="Jonas Weber <jonas@example.de>",
        subject="Abwesenheitsnotiz: Ihre Meldung",
        body="Ich bin bis zum 10. März nicht im Büro.\n",
    )


def ooo_french() -> bytes:
    """French Outlook-style auto reply; the non-ASCII subject travels RFC 2047 encoded."""
    return plain(
        from_addr="Camille Martin <camille@example.fr>",
        subject="Réponse automatique : Votre signalement",
        body="Je suis absente du bureau jusqu'au 10 mars.\n",
    )


GMAIL_NEW_TEXT = (
    "Thanks, here are the details you asked for.\n\n"
    "It happened again on Saturday near the registration desk."
)


def gmail_quoted_reply(
    in_reply_to: str = "<root@example.org>",
    from_addr: str = DEFAULT_FROM,
    to: str = DEFAULT_TO,
    subject: str = "Re: [COC-1] Your report",
) -> bytes:
    """Gmail style: new text, "-- " signature, attribution line and "> " quotes."""
    body = (
        f"{GMAIL_NEW_TEXT}\n\n"
        "-- \n"
        "Alex\n\n"
        "On Mon, 3 Mar 2025 at 10:00, Conduct Team <conduct@example.org> wrote:\n"
        "> Thank you for your report. Could you tell us more?\n"
        ">\n"
        "> Conduct team\n"
    )
    return plain(
        from_addr=from_addr,
        to=to,
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        references=in_reply_to,
    )


OUTLOOK_NEW_TEXT = {
    "en": "Yes, I can meet on Thursday afternoon.",
    "de": "Ja, Donnerstag Nachmittag passt mir.",
    "fr": "Oui, jeudi après-midi me convient.",
}
_OUTLOOK_BLOCKS = {
    "en": (
        "Best regards,\nSam\n\n"
        "-----Original Message-----\n"
        "From: Conduct Team <conduct@example.org>\n"
        "Sent: Monday, March 3, 2025 10:00 AM\n"
        "To: Sam Lee <sam@example.com>\n"
        "Subject: RE: [COC-1] Your report\n\n"
        "Could we meet this week to talk about it?\n"
    ),
    "de": (
        "Viele Grüße\nJonas\n\n"
        "________________________________\n"
        "Von: Conduct Team <conduct@example.org>\n"
        "Gesendet: Montag, 3. März 2025 10:00\n"
        "An: Jonas Weber <jonas@example.de>\n"
        "Betreff: AW: [COC-1] Ihre Meldung\n\n"
        "Können wir uns diese Woche sprechen?\n"
    ),
    "fr": (
        "Cordialement,\nCamille\n\n"
        "________________________________\n"
        "De : Conduct Team <conduct@example.org>\n"
        "Envoyé : lundi 3 mars 2025 10:00\n"
        "À : Camille Martin <camille@example.fr>\n"
        "Objet : RE: [COC-1] Votre signalement\n\n"
        "Pouvons-nous en parler cette semaine ?\n"
    ),
}


def outlook_quoted_reply(
    language: str = "en",
    in_reply_to: str | None = None,
    from_addr: str = "Sam Lee <sam@example.com>",
    to: str = DEFAULT_TO,
    subject: str = "RE: [COC-1] Your report",
) -> bytes:
    """Outlook style: new text, sign-off, then a From/Sent/To/Subject block (en, de or fr)."""
    body = f"{OUTLOOK_NEW_TEXT[language]}\n\n{_OUTLOOK_BLOCKS[language]}"
    return plain(
        from_addr=from_addr,
        to=to,
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        references=in_reply_to,
    )


MALFORMED_TEXT = "The report text survives a broken MIME structure."


def malformed_mime() -> bytes:
    """multipart/mixed whose parts use a boundary other than the declared one, never closed."""
    return _assemble(
        [
            ("From", DEFAULT_FROM),
            ("To", DEFAULT_TO),
            ("Subject", "Broken MIME"),
            ("Date", DATE),
            ("Message-ID", new_message_id()),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'multipart/mixed; boundary="declared-boundary"'),
        ],
        "--garbled-boundary\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{MALFORMED_TEXT}\n"
        "--garbled-boundary\n"
        "Content-Type: application/pdf; name=x.pdf\n"
        "Content-Transfer-Encoding: base64\n\n"
        "JVBERi0xLjQK!!!not base64\n",
    )


def deeply_nested(depth: int = 3000) -> bytes:
    """Multiparts nested far past Python's recursion limit (a parser DoS attempt)."""
    head = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(depth)
    )
    return _assemble(
        [
            ("From", DEFAULT_FROM),
            ("To", DEFAULT_TO),
            ("Subject", "Deeply nested"),
            ("Message-ID", new_message_id()),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/mixed; boundary=b0"),
        ],
        head + f"--b{depth}\nContent-Type: text/plain\n\ninnermost\n",
    )


LONG_LINE_WORDS = "Outlook wrote this whole paragraph on one line without any break. "


def long_line(octets: int = 5000, header_octets: int = 0) -> tuple[bytes, str]:
    """(raw message, its long line): one 8-bit body line of ``octets`` octets, as Outlook
    and HTML mailers send, and optionally a References header line just as long."""
    line = (LONG_LINE_WORDS * (octets // len(LONG_LINE_WORDS) + 1))[:octets]
    headers = [
        ("From", DEFAULT_FROM),
        ("To", DEFAULT_TO),
        ("Subject", "A report written on one long line"),
        ("Date", DATE),
        ("Message-ID", new_message_id()),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    if header_octets:
        ids = "".join(new_message_id() for _ in range(header_octets // 34 + 1))
        headers.append(("References", ids[:header_octets]))
    return _assemble(headers, f"Hello,\n{line}\nAlex\n"), line


def _notice(
    from_addr: str, subject: str, body: str, extra: list[tuple[str, str]] | None = None
) -> bytes:
    """A hand-written notice from a machine, as plain text."""
    return _assemble(
        [
            ("From", from_addr),
            ("To", DEFAULT_TO),
            ("Subject", subject),
            ("Date", DATE),
            ("Message-ID", new_message_id("mx.example.com")),
            *(extra or []),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        body,
    )


QMAIL_BODY = (
    "Hi. This is the qmail-send program at mx.example.com.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<gone@example.com>:\n"
    "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
    "--- Below this line is a copy of the message.\n\n"
    "From: conduct@example.org\nSubject: [COC-1] Your report\n"
)


def automatic_in_the_wild() -> dict[str, bytes]:
    """Automatic mail in the shapes that were once acknowledged, one per kind."""
    delivery_status = "\n".join(
        [
            "Reporting-MTA: dns; mx.example.com",
            "",
            "Final-Recipient: rfc822; gone@example.com",
            "Action: failed",
            "Status: 5.1.1",
        ]
    )
    return {
        "post_master bounce": _notice(
            "post_master@sms.example.com", "Re:Your report", "Message could not be delivered."
        ),
        "antivirus gateway": _notice(
            "Gateway_AntiVirus_Scanner@example.com",
            "Delivery failure notification",
            "Your message was blocked: it carried a virus.",
        ),
        "returned mail wording": _notice(
            "E500_Mail_Service@example.com",
            "Returned Mail - Error During Delivery",
            "Error during delivery to gone@example.com.",
        ),
        "list moderation notice": _notice(
            "community-admin@lists.example.com",
            "Your message to community awaits moderator approval",
            "Your mail to 'community' is being held until the list moderator can review it.",
        ),
        "x-loop": _notice(
            "robot@lists.example.com",
            "Please confirm",
            "Confirm your subscription.",
            [("X-Loop", "community@lists.example.com")],
        ),
        "auto generated subject": _notice(
            "helpdesk@example.com", "[AUTO GENERATED] Ticket 4711", "We received your request."
        ),
        "digest from -request": _notice(
            "community-request@lists.example.com", "community Digest, Vol 3", "Today's topics."
        ),
        "top-level delivery-status": _assemble(
            [
                ("From", "relay@mx.example.com"),
                ("To", DEFAULT_TO),
                ("Subject", "Report"),
                ("Date", DATE),
                ("Message-ID", new_message_id("mx.example.com")),
                ("MIME-Version", "1.0"),
                ("Content-Type", "message/delivery-status"),
            ],
            delivery_status,
        ),
        "latvian out of office": _notice(
            "Jānis Bērziņš <janis@example.lv>",
            "Automātiskā atbilde: Jūsu ziņojums",
            "Esmu atvaļinājumā līdz 10. martam.",
        ),
        "qmail plain-text bounce": _notice(
            "relay@mx.example.com", "Re: [COC-1] Your report", QMAIL_BODY
        ),
        "feedback-id bulk mail": _notice(
            "news@shop.example.com",
            "Your weekly offers",
            "Offers.",
            [("Feedback-ID", "123:456:shop")],
        ),
    }


def forwarded_bounce() -> bytes:
    """A person forwarding a bounce they received, inline, as evidence."""
    return plain(
        subject="Fwd: Undelivered Mail Returned to Sender",
        body="My warning to him bounced, see below.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n"
        "Date: Mon, 3 Mar 2025 at 09:00\n"
        "Subject: Undelivered Mail Returned to Sender\n\n" + QMAIL_BODY,
    )


REPLY_NEW_TEXT = "He did it again at Friday's meetup.\nTwo people saw it.\n\nThanks,\nAlex"
# Reply history as mail clients in many languages write it, below REPLY_NEW_TEXT.
REPLY_HISTORIES = {
    "polish attribution": (
        "W dniu 2025-03-03 10:00:00 użytkownik Conduct Team <conduct@example.org> napisał:\n\n"
        "Could you tell us more?\n"
    ),
    "dutch attribution wrapped": (
        "Op 3 maart 2025 10:00 schreef Conduct Team <\nconduct@example.org>:\n\n"
        "> Could you tell us more?\n"
    ),
    "portuguese attribution wrapped": (
        "Em 3 de março de 2025 às 10:00:00, Conduct Team (\nconduct@example.org) escreveu:\n\n"
        "Could you tell us more?\n"
    ),
    "german gmail attribution": (
        "Am Mo., 3. März 2025 um 10:00 Uhr schrieb Conduct Team <conduct@example.org>:\n\n"
        "> Could you tell us more?\n"
    ),
    "russian attribution without a verb": (
        "пн, 3 мар. 2025 г. в 10:00, Conduct Team <conduct@example.org>:\n\n"
        "> Could you tell us more?\n"
    ),
    "spanish separator": (
        "-----Mensaje original-----\nDe: Conduct Team\nEnviado el: lunes, 3 de marzo de 2025\n"
        "Asunto: Su informe\n\nCould you tell us more?\n"
    ),
    "german separator": (
        "-----Ursprüngliche Nachricht-----\nVon: Conduct Team <conduct@example.org>\n"
        "Betreff: Ihre Meldung\n\nCould you tell us more?\n"
    ),
    "outlook block in french": (
        "________________________________\nDe : Conduct Team <conduct@example.org>\n"
        "Envoyé : lundi 3 mars 2025 10:00\nÀ : Alex <alex@example.net>\n"
        "Objet : Votre signalement\n\nCould you tell us more?\n"
    ),
    "outlook block with a wrapped from": (
        "From: Conduct Team\n<conduct+4f2a9c1d@example.org>\n"
        "Sent: Monday, March 3, 2025 10:00 AM\nTo: Alex\nSubject: Your report\n\n"
        "Could you tell us more?\n"
    ),
    "french iphone signature": (
        "Envoyé depuis mon iPhone\n\n"
        "Le 3 mars 2025 à 10:00, Conduct Team a écrit :\n\n> Could you tell us more?\n"
    ),
    "german iphone signature": "Von meinem iPhone gesendet\n\n> Could you tell us more?\n",
    "english iphone signature": "Sent from my iPhone\n\nCould you tell us more?\n",
}


def reply_with_history(history: str) -> bytes:
    """A person's reply: REPLY_NEW_TEXT (ending in a sign-off) above ``history``."""
    return plain(subject="Re: Your report", body=f"{REPLY_NEW_TEXT}\n\n{history}")


FORWARD_NOTE = "This is the mail he sent me last night."
FORWARDED = {
    "from": "Pat Doe <pat@example.com>",
    "date": "Sun, 2 Mar 2025 23:10:00 +0100",
    "subject": "about tomorrow",
    "text": "You had better not show up tomorrow.\n\n> Please stop writing to me.\n\n-- \nPat",
}
FORWARD_LAYOUTS = {
    "gmail": (
        "Fwd: about tomorrow",
        "---------- Forwarded message ---------\n"
        "From: {from}\nDate: {date}\nSubject: {subject}\nTo: <alex@example.net>\n\n{text}\n",
    ),
    "outlook": (
        "FW: about tomorrow",
        "________________________________\n"
        "From: {from}\nSent: {date}\nTo: Alex\nSubject: {subject}\n\n{text}\n",
    ),
    "apple mail": (
        "Fwd: about tomorrow",
        "Begin forwarded message:\n\n"
        "From: {from}\nSubject: {subject}\nDate: {date}\nTo: alex@example.net\n\n{text}\n",
    ),
    "thunderbird": (
        "Fwd: about tomorrow",
        "-------- Forwarded Message --------\n"
        "Subject: \t{subject}\nDate: \t{date}\nFrom: \t{from}\nTo: \talex@example.net\n\n{text}\n",
    ),
}


def inline_forward(layout: str) -> bytes:
    subject, template = FORWARD_LAYOUTS[layout]
    body = f"{FORWARD_NOTE}\n\nAlex\n\n" + template.format(**FORWARDED)
    return plain(subject=subject, body=body)


def attached_forward() -> bytes:
    """The same evidence forwarded as a message/rfc822 attachment."""
    inner = plain(
        from_addr=FORWARDED["from"],
        to="alex@example.net",
        subject=FORWARDED["subject"],
        body=FORWARDED["text"] + "\n",
    )
    outer = message_from_bytes_smtp(plain(subject="Fwd: about tomorrow", body=FORWARD_NOTE))
    outer.add_attachment(message_from_bytes_smtp(inner))
    return outer.as_bytes()


def message_from_bytes_smtp(raw: bytes) -> EmailMessage:
    from email import message_from_bytes

    message = message_from_bytes(raw, _class=EmailMessage, policy=policy.SMTP)
    return message
