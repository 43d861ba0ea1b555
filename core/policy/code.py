"""A community's code of conduct as Steward applies it: plain, immutable data.

Everything that differs between codes lives here instead of in the services:
the report categories and extra questions, the decision options and the terms
each one requires, the appeal rule, the stewards' response steps, whether the
reported person must be heard first, and deadlines that override the defaults.
`core/policy/loading.py` builds a `Code` from a YAML file or a stored snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from core.infra.settings import Settings


class Need(StrEnum):
    """Whether a decision option takes a term (an end date, a no-contact term, roles)."""

    NEVER = "never"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True)
class Category:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    """An extra question on the report form; the answer is kept with the report."""

    id: str
    label: str
    hint: str | None = None
    multiline: bool = False
    required: bool = False


@dataclass(frozen=True)
class DecisionOption:
    """One outcome the stewards may choose, and what it asks of the decision.

    `notice` is the sentence the person hears; `{community}` and `{until}` are
    filled in (`{until}` reads "until <date>" or "with no end date").
    `describe` means the steward writes the outcome in their own words.
    """

    id: str
    label: str
    notice: str = ""
    end_date: Need = Need.NEVER
    no_contact: Need = Need.NEVER
    removes_roles: Need = Need.NEVER
    public_statement: bool = False
    describe: bool = False


@dataclass(frozen=True)
class AppealRule:
    """What the code says about appeals.

    `window_days` None with `allowed` means appeals have no time limit;
    `default_window` means the code leaves the window to STEWARD_APPEAL_DAYS.
    When appeals are not allowed, `reconsideration` (if any) says how a person
    may still ask the stewards to look again.
    """

    allowed: bool = True
    window_days: float | None = None
    default_window: bool = False
    in_writing: bool = True
    to: str | None = None
    final: bool = True
    reconsideration: str | None = None

    def window(self, settings: Settings) -> float | None:
        """The window in days for a decision taken now, or None for no time limit."""
        if not self.allowed:
            return None
        return settings.appeal_days if self.default_window else self.window_days


@dataclass(frozen=True)
class Step:
    """A response step on the case's checklist. `hears_reported` marks the step that,
    once ticked, records that the reported person has been heard."""

    id: str
    text: str
    hears_reported: bool = False


@dataclass(frozen=True)
class Deadlines:
    """Deadlines the code sets; None leaves the operator's setting in force."""

    ack_hours: float | None = None
    ack_escalate_hours: float | None = None
    stale_days: float | None = None
    checkin_days: float | None = None


@dataclass(frozen=True)
class Code:
    """A validated code of conduct. `version` is a hash of its content, so a case can
    keep the exact code it was handled under."""

    name: str
    title: str
    url: str | None
    community: str | None
    categories: tuple[Category, ...]
    questions: tuple[Question, ...]
    danger_first: bool
    decisions: tuple[DecisionOption, ...]
    appeal: AppealRule
    checklist: tuple[Step, ...]
    hearing_required: bool
    deadlines: Deadlines
    # Whether the reporter's notice states the outcome, not only that there is one.
    tell_reporter_outcome: bool = False
    version: str = ""

    def community_name(self, settings: Settings) -> str:
        """The community's name: the code's own, else STEWARD_COMMUNITY_NAME."""
        return self.community or settings.community_name

    def category_label(self, value: str | None) -> str:
        return next((c.label for c in self.categories if c.id == value), "-")

    def option(self, value: str | None) -> DecisionOption | None:
        return next((o for o in self.decisions if o.id == value), None)

    def option_label(self, value: str | None) -> str:
        option = self.option(value)
        return option.label if option else "-"

    def step(self, value: str) -> Step | None:
        return next((s for s in self.checklist if s.id == value), None)

    def timing(self, settings: Settings) -> Settings:
        """The settings with this code's deadlines in place of the defaults."""
        changes = {k: v for k, v in vars(self.deadlines).items() if v is not None}
        return replace(settings, **changes) if changes else settings
