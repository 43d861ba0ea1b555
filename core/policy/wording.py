"""How a code's rules read in Steward's notices: the appeal rule, the terms of a decision.

The sentences are built from the code the case is handled under, so each notice
states that code's rule exactly: a window and its deadline, no time limit, or
no appeal at all (final, or how to ask for reconsideration).
"""

from __future__ import annotations

from datetime import datetime

from core.infra.clock import count_text, human_exact
from core.infra.settings import Settings
from core.policy.code import AppealRule, Code


def code_line(code: Code) -> str:
    """Which code the stewards applied, for every decision notice."""
    where = f" ({code.url})" if code.url else ""
    return f"The stewards applied {code.title}{where}."


def appeal_section(code: Code, deadline: datetime | None, how_to_appeal: str) -> str:
    """The part of a decision notice that says whether and how it can be appealed."""
    rule = code.appeal
    if not rule.allowed:
        return "Appeals\n" + no_appeal(code)
    until = f" until {human_exact(deadline)}" if deadline else ", with no time limit"
    return "\n".join(
        (
            "Your right to appeal",
            f"You may appeal this decision{_manner(rule)}{until}.",
            how_to_appeal,
            review_line(rule),
        )
    )


def no_appeal(code: Code) -> str:
    rule = code.appeal
    title = capital(code.title)
    if rule.reconsideration:
        return (
            f"{title} provides no appeal. If you think something was missed, you may ask "
            f"the stewards to reconsider: {rule.reconsideration}"
        )
    return f"{title} provides no appeal, so this decision is final."


def review_line(rule: AppealRule) -> str:
    """What happens to an appeal: a final decision, or simply an answer."""
    if rule.final:
        return "The stewards will review an appeal, and their decision on it is final."
    return "The stewards will review an appeal and answer in writing."


def finality(rule: AppealRule) -> str:
    """Whether the answer to an appeal is final, for the appellant."""
    if rule.final:
        return "Their decision on the appeal is final."
    return "The code of conduct does not make their answer final."


def appeal_promise(code: Code, settings: Settings) -> str:
    """One sentence for the acknowledgement: what the reporter can do after a decision."""
    rule = code.appeal
    if not rule.allowed:
        if rule.reconsideration:
            return "The code provides no appeal, but you may ask the stewards to reconsider."
        return f"Under {code.title}, decisions are final: there is no appeal."
    days = rule.window(settings)
    if days is None:
        return f"Every decision can be appealed{_manner(rule)}, with no time limit."
    within = f"within {count_text(days)} days of its notice"
    return f"Every decision can be appealed{_manner(rule)} {within}."


def final_line(code: Code) -> str:
    """The last word of an appeal decision's notice."""
    if code.appeal.final:
        return "This decision is final: it cannot be appealed again."
    return "This is the answer to your appeal, and the case is now closed."


def decision_hint(code: Code, settings: Settings) -> str:
    """What the decision modal tells the steward about the notices it sends."""
    rule = code.appeal
    if not rule.allowed:
        return (
            f"Both people are told the outcome. {capital(code.title)} provides no appeal, "
            "so the case closes with the decision."
        )
    days = rule.window(settings)
    if days is None:
        return (
            "Both people are told the outcome, and that they may appeal"
            f"{_manner(rule)} with no time limit; the case closes until one arrives."
        )
    return (
        f"Both people are told the outcome, with their right to appeal{_manner(rule)} within "
        f"{count_text(days)} days and the exact deadline."
    )


def _manner(rule: AppealRule) -> str:
    return (" in writing" if rule.in_writing else "") + (f" to {rule.to}" if rule.to else "")


def capital(text: str) -> str:
    """A title that opens a sentence: "the X Code" becomes "The X Code"."""
    return text[:1].upper() + text[1:]


def describe(code: Code, settings: Settings) -> str:
    """The whole code as `steward policy show` prints it, for an operator to read through."""
    lines = [
        f"Code of conduct: {code.title}",
        f"  name: {code.name} (version {code.version[:12]})",
        f"  community: {code.community_name(settings)}",
        f"  url: {code.url or '-'}",
        "",
        "Report categories:",
        *(f"  - {c.label} [{c.id}]" for c in code.categories),
        f"The danger question comes {'first' if code.danger_first else 'with the others'}.",
    ]
    if code.questions:
        lines += ["Extra questions on the report form:"]
        lines += [
            f"  - {q.label} [{q.id}]{' (required)' if q.required else ''}" for q in code.questions
        ]
    lines += ["", "Decision options:"]
    for option in code.decisions:
        terms = [
            f"end date {option.end_date}",
            f"no-contact term {option.no_contact}",
            f"roles removed {option.removes_roles}",
            f"public statement {'allowed' if option.public_statement else 'never'}",
        ]
        lines.append(f"  - {option.label} [{option.id}]: {', '.join(terms)}")
        sentence = "(the steward describes it)" if option.describe else option.notice
        lines.append(f"      notice: {sentence}")
    lines += ["", "Appeals:", f"  {appeal_promise(code, settings)}"]
    if code.appeal.allowed:
        lines.append(f"  {review_line(code.appeal)}")
    lines += ["", "Response steps:"]
    lines += [
        f"  {n}. {s.text}{' (hears the reported person)' if s.hears_reported else ''}"
        for n, s in enumerate(code.checklist, 1)
    ] or ["  (none)"]
    lines.append(
        "The reported person must be heard before a decision: "
        + ("yes" if code.hearing_required else "no")
    )
    lines.append(
        "The reporter is told what was decided: " + ("yes" if code.tell_reporter_outcome else "no")
    )
    timing = code.timing(settings)
    lines += [
        "",
        "Deadlines:",
        f"  acknowledge within {count_text(timing.ack_hours)} hours "
        f"(all stewards reminded at {count_text(timing.ack_escalate_hours)} hours)",
        f"  stale after {count_text(timing.stale_days)} days without activity",
        f"  update the reporter every {count_text(timing.checkin_days)} days",
    ]
    return "\n".join(lines)
