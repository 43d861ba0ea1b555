"""What the codes of conduct Steward serves ask for, as data the adapters can show.

The categories are the kinds of unacceptable behaviour the codes list; the
outcomes are the enforcement ladder they share (correction, warning, temporary
ban, permanent ban) with "no violation" and "other" at the ends. Labels are
Steward's own words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    value: str
    label: str


CATEGORIES: tuple[Option, ...] = (
    Option("harassment", "Harassment or bullying"),
    Option("discrimination", "Discrimination, slurs or exclusion"),
    Option("sexual", "Unwelcome sexual attention, language or imagery"),
    Option("threats", "Threats, violence, intimidation or stalking"),
    Option("privacy", "Sharing someone's private information"),
    Option("personal_attacks", "Insults, trolling or personal attacks"),
    Option("disruption", "Sustained disruption of talks or discussions"),
    Option("impersonation", "Impersonation or evading moderation"),
    Option("retaliation", "Retaliation for reporting or being a witness"),
    Option("interference", "False information or tampering with an investigation"),
    Option("promotion", "Unwanted promotion or campaigning"),
    Option("event_concern", "A safety concern about an upcoming event"),
    Option("unsure", "Something else, or I am not sure"),
)

SEVERITIES: tuple[Option, ...] = (
    Option("low", "Low"),
    Option("medium", "Medium"),
    Option("high", "High"),
    Option("urgent", "Urgent: someone may be in danger"),
)

CONTACT_PREFERENCES: tuple[Option, ...] = (
    Option("slack_dm", "A direct message from the Steward bot"),
    Option("email", "Email"),
    Option("no_contact", "Please do not contact me"),
)

OUTCOMES: tuple[Option, ...] = (
    Option("no_violation", "No violation found"),
    Option("correction", "Correction: a private note about what was wrong"),
    Option("warning", "Warning, with the consequences of repeating it"),
    Option("temporary_ban", "Temporary ban, until a date"),
    Option("permanent_ban", "Permanent ban"),
    Option("other", "Other (described)"),
)


def label(options: tuple[Option, ...], value: str | None) -> str:
    """The label for a stored value; unknown or missing values read as a dash."""
    return next((o.label for o in options if o.value == value), "-")


def values(options: tuple[Option, ...]) -> frozenset[str]:
    return frozenset(o.value for o in options)
