"""strip_quotes: keep what the sender just wrote, drop quoted history and signatures."""

from __future__ import annotations

import time

import pytest

from mailgateway.quotes import strip_quotes
from tests.mail import corpus


def test_gmail_reply_with_signature_and_quote() -> None:
    text = (
        f"{corpus.GMAIL_NEW_TEXT}\n\n-- \nAlex\n\n"
        "On Mon, 3 Mar 2025 at 10:00, Conduct Team <conduct@example.org> wrote:\n"
        "> Could you tell us more?\n> \n> Conduct team\n"
    )
    assert strip_quotes(text) == corpus.GMAIL_NEW_TEXT


def test_gmail_attribution_wrapped_over_two_lines() -> None:
    text = (
        "New text\n\nOn Mon, 3 Mar 2025 at 10:00, Conduct Team <\n"
        "conduct@example.org> wrote:\n> old\n"
    )
    assert strip_quotes(text) == "New text"


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_outlook_header_blocks(language: str) -> None:
    body = corpus.outlook_quoted_reply(language).split(b"\r\n\r\n", 1)[1]
    text = body.decode("utf-8").replace("\r\n", "\n")
    assert strip_quotes(text) == corpus.OUTLOOK_NEW_TEXT[language]


@pytest.mark.parametrize(
    ("attribution", "new"),
    [
        ("Am Mo., 3. März 2025 um 10:00 Uhr schrieb Conduct Team <conduct@example.org>:", "Neu."),
        ("Le lun. 3 mars 2025 à 10:00, Conduct Team <conduct@example.org> a écrit :", "Nouveau."),
        (
            "El lun, 3 mar 2025 a las 10:00, Conduct Team (<conduct@example.org>) escribió:",
            "Nuevo.",
        ),
        ("Il giorno lun 3 mar 2025 alle 10:00 Conduct Team ha scritto:", "Nuovo."),
    ],
)
def test_attribution_lines_in_other_languages(attribution: str, new: str) -> None:
    assert strip_quotes(f"{new}\n\n{attribution}\n> alt\n> old\n") == new


def test_plain_dash_signature() -> None:
    assert (
        strip_quotes("See you Thursday.\n\n-- \nSam Lee\nCommunity team\n") == "See you Thursday."
    )


def test_short_sign_off_is_dropped() -> None:
    assert strip_quotes("See you Thursday.\n\nBest regards,\nSam\n") == "See you Thursday."


def test_mobile_footer_is_dropped() -> None:
    assert strip_quotes("Short reply\n\nSent from my iPhone\n") == "Short reply"


def test_a_long_line_starting_like_a_sign_off_is_kept() -> None:
    text = (
        "He followed me again.\n"
        "Thanks, I will send the screenshots tomorrow and list who else saw it happen.\n"
        "It was near the stage.\n"
    )
    assert strip_quotes(text) == text.strip()


def test_hyphen_lists_are_not_signatures() -> None:
    text = "What happened:\n- he shouted\n- he pushed me\n"
    assert strip_quotes(text) == text.strip()


def test_inline_quotes_are_removed_but_answers_kept() -> None:
    assert strip_quotes("My answer\n> your question\nmore answer\n") == "My answer\nmore answer"


def test_a_reporters_own_he_wrote_line_is_kept() -> None:
    assert strip_quotes("He wrote:\n> you will regret this\nThat scared me.") == (
        "He wrote:\nThat scared me."
    )


@pytest.mark.parametrize(
    "text",
    [
        "> only quoted\n> nothing new\n",
        "On Mon, 3 Mar 2025 at 10:00, A <a@example.org> wrote:\n> old\n",
        "-- \nJust a signature\n",
    ],
)
def test_never_empty_returns_the_original(text: str) -> None:
    assert strip_quotes(text) == text


@pytest.mark.parametrize("text", ["", "   \n "])
def test_blank_input_is_returned_as_is(text: str) -> None:
    assert strip_quotes(text) == text


def test_crlf_input() -> None:
    assert strip_quotes("Hi\r\n\r\nOn Mon, 3 Mar 2025, A <a@b.org> wrote:\r\n> x\r\n") == "Hi"


def test_long_lines_are_fast_and_kept() -> None:
    long_line = "On " + "and then " * 3000
    text = f"{long_line}\n\nOn Mon, 3 Mar 2025 at 10:00, A <a@example.org> wrote:\n> old\n"
    started = time.perf_counter()
    result = strip_quotes(text)
    assert time.perf_counter() - started < 1.0
    assert result == long_line.strip()


def test_huge_text_skips_the_library_but_still_drops_quotes() -> None:
    text = ("A long report line.\n" * 5000) + "\n> quoted\n"
    assert strip_quotes(text) == ("A long report line.\n" * 5000).strip()


def _reply_header_texts() -> list[str]:
    """Texts full of reply headers in every supported language, and near misses."""
    headers = [
        "On Mon, 3 Mar 2025 at 10:00, Conduct Team <conduct@example.org> wrote:",
        "> On Mon, 3 Mar 2025, Someone wrote:",
        "Am Mo., 3. März 2025 um 10:00 Uhr schrieb Conduct Team <conduct@example.org>:",
        "Le lun. 3 mars 2025 à 10:00, Conduct Team <conduct@example.org> a écrit :",
        "El lun, 3 mar 2025 a las 10:00, Conduct Team escribió:",
        "Il giorno lun 3 mar 2025, Conduct Team ha scritto:",
        "From: Conduct Team <conduct@example.org>\nSent: Monday, March 3, 2025 10:00\n"
        "To: Alex\nSubject: RE: [COC-7]",
        "Von: Conduct Team\nGesendet: Montag\nAn: Alex\nBetreff: AW: [COC-7]",
        "De : Conduct Team\nEnvoyé : lundi\nÀ : Alex\nObjet : RE: [COC-7]",
        "*From:* Team\n*Sent:* Monday\n",
        "-----Original Message-----",
        "2025年3月3日(月) 10:00 Conduct Team <conduct@example.org>:",
        "He wrote: stop it",
        "From: the forum",
        "On the call, they wrote: nothing",
        "",
        "> quoted line",
        "   indented From: x",
    ]
    texts = []
    for i in range(len(headers)):
        for j in range(len(headers)):
            texts.append(f"Body {i}\n{headers[i]}\n> old text\n{headers[j]}\nmore\n")
            texts.append(f"{headers[i]}\n{headers[j]}")
            texts.append(f"{headers[i]}\r\n\n{headers[j]}\n\n")
    return texts


def test_line_start_matching_finds_what_the_library_finds() -> None:
    from mailparser_reply.parser import EmailMessage

    from mailgateway.quotes import LANGUAGES, LineStartPattern

    pattern = EmailMessage(text="", languages=list(LANGUAGES), keep_hyphen_lists=True).HEADER_REGEX
    fast = LineStartPattern(pattern)
    texts = _reply_header_texts()
    texts += [corpus.GMAIL_NEW_TEXT, *corpus.OUTLOOK_NEW_TEXT.values()]
    texts += [
        corpus.outlook_quoted_reply(lang).decode("utf-8").replace("\r\n", "\n")
        for lang in ("en", "de", "fr")
    ]
    matched = 0
    for text in texts:
        expected = pattern.findall(text)
        assert fast.findall(text) == expected, text
        matched += bool(expected)
    assert matched > len(texts) // 2  # the corpus really exercises the pattern


def test_indented_lines_a_person_typed_keep_their_indentation() -> None:
    text = (
        "Run this on the host:\n\n     telnet 127.0.0.1 52698\n\nThanks\n\n"
        "On 9 Jan 2014, at 2:47, Sam Lee wrote:\n\n> It stopped working.\n"
    )
    assert strip_quotes(text) == "Run this on the host:\n\n     telnet 127.0.0.1 52698\n\nThanks"


@pytest.mark.parametrize(
    "text",
    [
        "He hit me.\n\nSent from my phone at the meetup, sorry for typos.\nHe followed me.",
        "Here is another email\n\nSent from my desk, is much easier than my mobile phone.",
        "He wrote to me on 3 March:\nyou will regret this\nThat scared me.",
        "Q: where were you?\nA: at the bar\nDe: nada, it was fine.",
    ],
)
def test_lines_a_person_typed_are_not_mistaken_for_history(text: str) -> None:
    assert strip_quotes(text) == text


def test_a_sentence_above_an_attribution_is_kept() -> None:
    text = (
        "He also wrote to the list.\n"
        "On Dec 15, 2024, at 3:00 PM, Sam Lee <sam@example.com> wrote:\n> old\n"
    )
    assert strip_quotes(text) == "He also wrote to the list."


def test_a_forward_keeps_the_forwarded_text_whole_even_its_quotes_and_signature() -> None:
    text = (
        "See below.\n\n---------- Forwarded message ---------\nFrom: Pat <pat@example.com>\n"
        "Subject: hi\n\nYou will regret this.\n> earlier\n-- \nPat\n"
    )
    assert strip_quotes(text) == (
        "See below.\n\n---------- Forwarded message ----------\nFrom: Pat <pat@example.com>\n"
        "Subject: hi\n\nYou will regret this.\n> earlier\n-- \nPat"
    )


def test_an_outlook_forward_is_recognised_by_its_subject() -> None:
    text = "FYI\n\nFrom: Pat <pat@example.com>\nSent: Monday\nTo: Alex\nSubject: hi\n\nGo away.\n"
    forwarded = "From: Pat <pat@example.com>\nSent: Monday\nTo: Alex\nSubject: hi\n\nGo away."
    assert (
        strip_quotes(text, "FW: hi")
        == f"FYI\n\n---------- Forwarded message ----------\n{forwarded}"
    )
    assert strip_quotes(text, "Re: hi") == "FYI"
    assert strip_quotes(text, "AW: hi") == "FYI"


def test_a_header_block_pasted_into_a_new_report_is_shown_as_forwarded() -> None:
    text = "He sent this to the list.\n\n-----Original Message-----\nFrom: Pat\nSent: Monday\n\nGo."
    shown = strip_quotes(text, "Harassment on the list")
    assert shown == (
        "He sent this to the list.\n\n---------- Forwarded message ----------\n"
        "From: Pat\nSent: Monday\n\nGo."
    )
