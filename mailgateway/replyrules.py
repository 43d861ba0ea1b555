"""Where a person's words end in a reply: the rules, as one table.

mail-parser-reply finds most reply headers ("On ... wrote:"); these rules cover
what it leaves, in the languages and clients real mail comes from. Each entry
is a regular expression matched against one whole line (case-insensitive), or
against up to three lines joined, for attribution lines that clients wrap.
Adding a language or a mail client is adding a line here; quotes.py applies
them, and forwards.py uses the forward markers.

A rule only ever marks where *history* starts (or a client's signature line).
Nothing a person wrote above it is touched, and the full text stays on the case
entry, so a wrong cut hides history, never words.
"""

from __future__ import annotations

import re

# "-----Original Message-----" and its translations (dashes, underscores or
# equals signs around them, as Outlook, Lotus and mobile clients write them).
ORIGINAL_MESSAGE = (
    "original message",
    "ursprüngliche nachricht",
    "originalnachricht",
    "mensaje original",
    "message d'origine",
    "message original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "origineel bericht",
    "mensagem original",
    "wiadomość oryginalna",
    "oryginalna wiadomość",
    "исходное сообщение",
    "oprindelig besked",
    "oprindelig meddelelse",
    "opprinnelig melding",
    "ursprungligt meddelande",
    "originalmeddelande",
    "alkuperäinen viesti",
    "původní zpráva",
    "pôvodná správa",
    "eredeti üzenet",
    "orijinal mesaj",
    "sākotnējā ziņa",
    "原始邮件",
    "原始郵件",
    "元のメッセージ",
    "원본 메시지",
)

# Lines that start reply history on their own.
HISTORY_LINES = (
    r"[-_=*]{2,}\s*(?:" + "|".join(ORIGINAL_MESSAGE) + r")\s*[-_=*]{2,}",
    # Zoho: "---- On Wed, 24 Feb 2021 14:02:50 +0530 john@example.com wrote ----"
    r"-{2,}\s*on\b.{5,200}\bwrote\s*-{2,}",
)

# Verbs of attribution lines ("On <date>, <name> wrote:"), by language.
ATTRIBUTION_VERBS = (
    "wrote",
    "writes",
    "schrieb",
    "schreibt",
    "a écrit",
    "escribió",
    "escreveu",
    "ha scritto",
    "scrisse",
    "schreef",
    "skrev",
    "kirjoitti",
    r"napisał(?:\(a\))?",
    "napisała",
    r"napsal(?:\(a\))?",
    r"написал(?:\(а\))?",
    "написала",
    "írta",
    "yazdı",
    "rakstīja",
    "έγραψε",
    "写道",
    "寫道",
    "のメッセージ",
    "님이 작성",
)

# "From:" of an Outlook header block, in the languages Outlook speaks.
FROM_KEYS = (
    "from",
    "von",
    "de",
    "van",
    "da",
    "od",
    "fra",
    "från",
    "от",
    "lähettäjä",
    "feladó",
    "kimden",
    "no",
    "送信者",
    "差出人",
    "发件人",
    "寄件者",
    "보낸 사람",
)
# The other keys of that block; one of them must follow "From:" within a few lines.
HEADER_KEYS = (
    "sent",
    "date",
    "to",
    "subject",
    "cc",
    "gesendet",
    "datum",
    "an",
    "betreff",
    "envoyé(?: le)?",
    "à",
    "a",
    "objet",
    "sujet",
    "copie à",
    "enviado(?: el)?",
    "fecha",
    "para",
    "asunto",
    "assunto",
    "data",
    "inviato",
    "oggetto",
    "verzonden",
    "aan",
    "onderwerp",
    "wysłane",
    "wysłano",
    "do",
    "temat",
    "отправлено",
    "дата",
    "кому",
    "тема",
    "sendt",
    "dato",
    "til",
    "emne",
    "skickat",
    "till",
    "ämne",
    "lähetetty",
    "vastaanottaja",
    "aihe",
    "nosūtīts",
    "kam",
    "tēma",
    "送信日時",
    "宛先",
    "件名",
    "发送时间",
    "收件人",
    "主题",
    "寄件日期",
    "收件者",
    "主旨",
)

# A mail client's own signature line, after a blank line; history follows it on phones.
CLIENT_SIGNATURES = (
    # "Sent from my Wiko RIDGE FAB 4G": any device, but no sentence punctuation in it.
    r"sent from my (?:[\w+'&-]+ ?){1,6}",
    r"sent (?:from|with|via|using) (?:outlook|mail|yahoo|gmail|aol|protonmail|proton mail"
    r"|typeapp|bluemail|spark|zoho|tutanota|airmail|edison|newton|samsung|blackberry"
    r")\b.{0,40}",
    r"get outlook for (?:ios|android|mac|windows)",
    r"obtenir outlook pour (?:ios|android)",
    r"holen sie sich outlook für (?:ios|android)",
    r"envoyé (?:depuis|de|à partir de|avec) (?:mon |ma |l'|outlook|yahoo|gmail|un |une ).{0,40}",
    r"von meinem .{1,30} gesendet",
    r"gesendet (?:von|mit|vom|via) (?:meinem |meiner |outlook|mail|yahoo|gmail|gmx|web\.de).{0,40}",
    r"enviado (?:desde|do|de|com|con|a partir do) "
    r"(?:mi |meu |minha |outlook|yahoo|gmail|el |o ).{0,40}",
    r"verzonden (?:vanaf|met|van(?:af)?) (?:mijn |outlook|yahoo|gmail).{0,40}",
    r"verstuurd (?:vanaf|met|van) (?:mijn |outlook|yahoo|gmail).{0,40}",
    r"inviato da (?:iphone|ipad|android|outlook|yahoo|gmail|libero|il mio |dal mio ).{0,40}",
    r"wysłane z (?:iphone|ipada?|androida?|outlook|yahoo|gmail|mojego ).{0,40}",
    r"отправлено (?:с|из) (?:iphone|ipad|android|моего |мобильно|outlook|яндекс|mail\.ru).{0,40}",
    r"skickat från (?:min |mitt |outlook).{0,40}",
    r"sendt fra (?:min |mit |outlook).{0,40}",
    r"lähetetty (?:iphonesta|android|outlook|puhelimesta).{0,40}",
    r"nosūtīts no (?:mana |mans |outlook|iphone).{0,40}",
    r"iphoneから送信",
    r"(?:从我的|發自我的|发自我的) ?(?:iphone|ipad|android|手机).{0,20}",
)

# Lines that begin a forwarded message (Gmail, Outlook, Apple Mail, Thunderbird...).
FORWARD_MARKERS = (
    r"-{2,}\s*forwarded message\s*-{2,}",
    r"begin forwarded message\s*:",
    r"-{2,}\s*weitergeleitete nachricht\s*-{2,}",
    r"anfang der weitergeleiteten (?:e-mail|nachricht)\s*:",
    r"-{2,}\s*message transféré\s*-{2,}",
    r"début du message (?:réexpédié|transféré)\s*:",
    r"-{2,}\s*mensaje reenviado\s*-{2,}",
    r"inicio del mensaje reenviado\s*:",
    r"-{2,}\s*mensagem encaminhada\s*-{2,}",
    r"início da mensagem (?:reencaminhada|encaminhada)\s*:",
    r"-{2,}\s*doorgestuurd bericht\s*-{2,}",
    r"begin doorgestuurd bericht\s*:",
    r"-{2,}\s*messaggio inoltrato\s*-{2,}",
    r"inizio messaggio inoltrato\s*:",
    r"-{2,}\s*przekazana wiadomość\s*-{2,}",
    r"-{2,}\s*(?:пересылаемое|пересланное|переадресованное) сообщение\s*-{2,}",
    r"-{2,}\s*videresendt (?:besked|melding|meddelelse)\s*-{2,}",
    r"-{2,}\s*vidarebefordrat meddelande\s*-{2,}",
    r"-{2,}\s*välitetty viesti\s*-{2,}",
    r"-{2,}\s*pārsūtīta ziņa\s*-{2,}",
    r"-{2,}\s*(?:转发的邮件|轉寄的郵件|転送されたメッセージ|전달된 메시지)\s*-{2,}",
    r"-{2,}\s*forwarded by .{1,80}-{2,}",
)
# Subject prefixes that mean "forwarded" (Fwd, FW, WG, TR, RV, Enc, Doorst, I, VS, PD...).
FORWARD_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)*(?:fwd?|fw|wg|tr|rv|enc|doorst|i|vs|vb|vl|pd|továbbítás|ilt"
    r"|pārs|přep|пересл|пер|转发|轉寄|転送)\s*[:：]",
    re.IGNORECASE,
)
# Subject prefixes that mean "a reply" (Re, AW, SV, Antw, Odp, YNT, RES, 回复, 返信...).
REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)*(?:re|aw|sv|vs|antw|odp|ynt|res|r|atb|vá|отв|ответ|回复|答复"
    r"|回覆|返信|답장)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


def _line_rule(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"^\s*(?:" + "|".join(patterns) + r")\s*$", re.IGNORECASE)


HISTORY_LINE = _line_rule(HISTORY_LINES)
CLIENT_SIGNATURE = re.compile(
    r"^\s*(?:" + "|".join(CLIENT_SIGNATURES) + r")\s*[.!]?\s*(?:<[^<>\s]*>)?\s*$", re.IGNORECASE
)
FORWARD_MARKER = _line_rule(FORWARD_MARKERS)
FROM_LINE = re.compile(r"^\s*\*?(?:" + "|".join(FROM_KEYS) + r")\*?\s?[:：]\s*\*?\s*\S", re.I)
HEADER_LINE = re.compile(r"^\s*\*?(?:" + "|".join(HEADER_KEYS) + r")\*?\s?[:：]", re.IGNORECASE)
# A line of a header block that is not "From:" (e.g. "Message du : 12/12/2016 13:20").
DATED_HEADER_LINE = re.compile(r"^\s*[\w' ]{1,25}\s?:\s?.*\d")
SEPARATOR_LINE = re.compile(r"^\s*[-_=*~]{3,}\s*$")
ATTRIBUTION_WITH_VERB = re.compile(
    r"(?:" + "|".join(ATTRIBUTION_VERBS) + r")\s*[:：]?\s*$", re.IGNORECASE
)
ATTRIBUTION_WITH_COLON = re.compile(r"[:：]\s*$")
# Gmail in German, Danish, Norwegian...: "Am <date> schrieb Jo Doe <jo@example.com>:"
ATTRIBUTION_VERB_BEFORE_NAME = re.compile(
    r"(?:" + "|".join(ATTRIBUTION_VERBS) + r")\s.{0,80}(?:@[\w-]+\.[\w.-]+|<mailto:)\S{0,40}"
    r"\s*[>)]?\s*[:：]\s*$",
    re.IGNORECASE,
)
# Attributions without a verb: '30.09.2017, 18.30, "Jo" <jo@example.com>:' - they
# start with a date or a weekday and end with the address and a colon.
ATTRIBUTION_WITHOUT_VERB = re.compile(
    r"^\s*(?:\d|[^\W\d]{1,12}[.,]?\s+\d).{0,250}(?:[>)]|@[\w.-]+)\s*[:：]\s*$"
)
ADDRESS = re.compile(r"@[\w-]+\.[\w.-]+|<mailto:")
DATE_OR_TIME = re.compile(r"\b\d{4}\b|\b\d{1,2}[:.h]\d{2}\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")
TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
MAX_ATTRIBUTION_LINES = 3
MAX_ATTRIBUTION_CHARS = 300
HEADER_BLOCK_REACH = 4
