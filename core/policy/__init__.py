"""What the code of conduct in force asks of Steward, as data the adapters can show.

A community's code (`STEWARD_CODE_OF_CONDUCT`: a preset or a YAML file) gives
the report categories and questions, the decision options, the appeal rule, the
response steps and the deadlines: see `code.py` and `loading.py`. What stays
here is common to every code: severities and the ways a reporter can be reached.
Labels are Steward's own words.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.policy.code import Code, DecisionOption, Need
from core.policy.loading import DEFAULT_PRESET, SETTING, CodeError, load_code, presets

__all__ = [
    "CONTACT_PREFERENCES",
    "DEFAULT_PRESET",
    "SETTING",
    "SEVERITIES",
    "Code",
    "CodeError",
    "DecisionOption",
    "Need",
    "Option",
    "label",
    "load_code",
    "presets",
    "values",
]


@dataclass(frozen=True)
class Option:
    value: str
    label: str


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


def label(options: tuple[Option, ...], value: str | None) -> str:
    """The label for a stored value; unknown or missing values read as a dash."""
    return next((o.label for o in options if o.value == value), "-")


def values(options: tuple[Option, ...]) -> frozenset[str]:
    return frozenset(o.value for o in options)
