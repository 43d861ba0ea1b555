"""Reading a code of conduct from YAML (a preset in the package, or a community's own
file) and checking every field, so that a mistake is found at start, not mid-case.

Each problem is reported as `path.to.field: what is wrong`, and all of them are
collected, so a community fixes its file in one pass. The validated code is also
turned back into plain data (`as_data`): that is what a case stores, and what
its version hash is computed from.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.policy.code import (
    AppealRule,
    Category,
    Code,
    Deadlines,
    DecisionOption,
    Need,
    Question,
    Step,
)

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "contributor-covenant-2.1"
SETTING = "STEWARD_CODE_OF_CONDUCT"
ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PLACEHOLDERS = frozenset({"community", "until"})
LABEL_LIMIT = 75  # Slack's limit for an option's text: longer labels would be cut
TEXT_LIMIT = 1000
TOP_FIELDS = (
    "name",
    "title",
    "url",
    "community",
    "report",
    "decisions",
    "appeal",
    "checklist",
    "hear_reported_before_decision",
    "tell_reporter_outcome",
    "deadlines",
)
DEADLINE_FIELDS = {
    "acknowledge_hours": "ack_hours",
    "escalate_hours": "ack_escalate_hours",
    "stale_days": "stale_days",
    "check_in_days": "checkin_days",
}


class CodeError(ValueError):
    """A code of conduct that cannot be used; `problems` lists each one with its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}" if source else problems[0] + more)


def presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def is_path(spec: str) -> bool:
    """A setting naming a file rather than a preset: it has a directory or a YAML suffix."""
    return "/" in spec or "\\" in spec or spec.endswith((".yaml", ".yml"))


@lru_cache(maxsize=32)
def load_code(spec: str) -> Code:
    """The code a setting names: a preset by name, or a YAML file by path.

    Read once per process: a changed file takes effect at the next start, when it
    is checked again. Cases already opened keep the version they stored.
    """
    spec = (spec or DEFAULT_PRESET).strip()
    if is_path(spec):
        return read_file(Path(spec))
    if spec not in presets():
        raise CodeError(
            "",
            [
                f"unknown preset {spec!r}; choose one of {', '.join(presets())}, "
                "or give the path to a YAML file"
            ],
        )
    return read_file(PRESET_DIR / f"{spec}.yaml")


def read_file(path: Path) -> Code:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodeError(str(path), ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CodeError(str(path), [f"cannot be read ({type(exc).__name__})"]) from None
    import yaml  # on use: most processes read one small file, once

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise CodeError(str(path), [f"{where}{problem}"]) from None
    return parse(data, source=str(path), default_name=path.stem)


def parse(data: Any, *, source: str = "", default_name: str = "custom") -> Code:
    """Check plain data (from YAML or a stored snapshot) and build the code, or raise."""
    check = _Checker()
    if not isinstance(data, dict):
        raise CodeError(source, ["the file must be a mapping of fields (name, title, ...)"])
    check.known(data, TOP_FIELDS, "")
    name = check.text(data, "name", "", required=False, pattern=NAME) or default_name
    report = check.mapping(data, "report", "")
    code = Code(
        name=name,
        title=check.text(data, "title", "") or "",
        url=_url(check, data),
        community=check.text(data, "community", "", required=False),
        categories=_categories(check, report),
        questions=_questions(check, report),
        danger_first=check.flag(report, "danger_first", "report.", False),
        decisions=_decisions(check, data),
        appeal=_appeal(check, data),
        checklist=_checklist(check, data),
        hearing_required=check.flag(data, "hear_reported_before_decision", "", False),
        tell_reporter_outcome=check.flag(data, "tell_reporter_outcome", "", False),
        deadlines=_deadlines(check, data),
    )
    if check.problems:
        raise CodeError(source, check.problems)
    return _with_version(code)


def as_data(code: Code) -> dict[str, Any]:
    """The code as plain data, every default spelled out: what a case stores."""
    appeal = code.appeal
    window: float | str | None
    window = "default" if appeal.default_window else appeal.window_days
    return {
        "name": code.name,
        "title": code.title,
        "url": code.url,
        "community": code.community,
        "report": {
            "danger_first": code.danger_first,
            "categories": [{"id": c.id, "label": c.label} for c in code.categories],
            "questions": [vars(q).copy() for q in code.questions],
        },
        "decisions": [
            {
                **vars(o),
                **{k: str(getattr(o, k)) for k in ("end_date", "no_contact", "removes_roles")},
            }
            for o in code.decisions
        ],
        "appeal": {
            "allowed": appeal.allowed,
            "window_days": window if window is not None else "none",
            "in_writing": appeal.in_writing,
            "to": appeal.to,
            "final": appeal.final,
            "reconsideration": appeal.reconsideration,
        },
        "checklist": [vars(s).copy() for s in code.checklist],
        "hear_reported_before_decision": code.hearing_required,
        "tell_reporter_outcome": code.tell_reporter_outcome,
        "deadlines": {
            key: getattr(code.deadlines, attr)
            for key, attr in DEADLINE_FIELDS.items()
            if getattr(code.deadlines, attr) is not None
        },
    }


def _with_version(code: Code) -> Code:
    from dataclasses import replace

    canonical = json.dumps(as_data(code), sort_keys=True, separators=(",", ":"))
    return replace(code, version=hashlib.sha256(canonical.encode()).hexdigest())


def _url(check: _Checker, data: dict[str, Any]) -> str | None:
    url = check.text(data, "url", "", required=False)
    if url and not url.startswith(("https://", "http://")):
        check.problem("url", "must start with https:// or http://")
    return url


def _categories(check: _Checker, report: dict[str, Any]) -> tuple[Category, ...]:
    items = check.items(report, "categories", "report.", required=True, most=50)
    result = []
    for path, item in items:
        check.known(item, ("id", "label"), path)
        result.append(
            Category(
                id=check.ident(item, path),
                label=check.text(item, "label", path, limit=LABEL_LIMIT) or "",
            )
        )
    check.unique([c.id for c in result], "report.categories")
    return tuple(result)


def _questions(check: _Checker, report: dict[str, Any]) -> tuple[Question, ...]:
    result = []
    for path, item in check.items(report, "questions", "report.", most=10):
        check.known(item, ("id", "label", "hint", "multiline", "required"), path)
        result.append(
            Question(
                id=check.ident(item, path),
                label=check.text(item, "label", path, limit=LABEL_LIMIT * 2) or "",
                hint=check.text(item, "hint", path, required=False, limit=150),
                multiline=check.flag(item, "multiline", path, False),
                required=check.flag(item, "required", path, False),
            )
        )
    check.unique([q.id for q in result], "report.questions")
    return tuple(result)


def _decisions(check: _Checker, data: dict[str, Any]) -> tuple[DecisionOption, ...]:
    fields = (
        "id",
        "label",
        "notice",
        "end_date",
        "no_contact",
        "removes_roles",
        "public_statement",
        "describe",
    )
    result = []
    for path, item in check.items(data, "decisions", "", required=True, most=20):
        check.known(item, fields, path)
        describe = check.flag(item, "describe", path, False)
        option = DecisionOption(
            id=check.ident(item, path),
            label=check.text(item, "label", path, limit=LABEL_LIMIT) or "",
            notice=check.text(item, "notice", path, required=not describe) or "",
            end_date=check.need(item, "end_date", path),
            no_contact=check.need(item, "no_contact", path),
            removes_roles=check.need(item, "removes_roles", path),
            public_statement=check.flag(item, "public_statement", path, False),
            describe=describe,
        )
        _check_placeholders(check, option, f"{path}notice")
        result.append(option)
    check.unique([o.id for o in result], "decisions")
    return tuple(result)


def _check_placeholders(check: _Checker, option: DecisionOption, path: str) -> None:
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(option.notice) if field}
    except ValueError:
        check.problem(path, "has an unmatched { or }; write {{ or }} for a literal brace")
        return
    for name in sorted(names - PLACEHOLDERS):
        check.problem(path, f"unknown placeholder {{{name}}}; use {{community}} or {{until}}")
    if "until" in names and option.end_date == Need.NEVER:
        check.problem(path, "uses {until} but the option has no end date (set end_date)")


def _appeal(check: _Checker, data: dict[str, Any]) -> AppealRule:
    item = check.mapping(data, "appeal", "")
    path = "appeal."
    check.known(
        item, ("allowed", "window_days", "in_writing", "to", "final", "reconsideration"), path
    )
    allowed = check.flag(item, "allowed", path, True)
    window = item.get("window_days", "default")
    window_days: float | None = None
    if window == "default":
        pass
    elif window is None or window == "none":
        window = "none"
    elif isinstance(window, int | float) and not isinstance(window, bool) and window > 0:
        window_days = float(window)
    else:
        check.problem(f"{path}window_days", "must be a number of days above 0, 'none' or 'default'")
    reconsideration = check.text(item, "reconsideration", path, required=False)
    if allowed and reconsideration:
        check.problem(
            f"{path}reconsideration", "applies only when appeals are not allowed (allowed: false)"
        )
    if not allowed and window not in ("none", "default"):
        check.problem(f"{path}window_days", "makes no sense when appeals are not allowed")
    return AppealRule(
        allowed=allowed,
        window_days=window_days,
        default_window=allowed and window == "default",
        in_writing=check.flag(item, "in_writing", path, True),
        to=check.text(item, "to", path, required=False, limit=200),
        final=check.flag(item, "final", path, True),
        reconsideration=reconsideration,
    )


def _checklist(check: _Checker, data: dict[str, Any]) -> tuple[Step, ...]:
    result = []
    for path, item in check.items(data, "checklist", "", most=15):
        check.known(item, ("id", "text", "hears_reported"), path)
        result.append(
            Step(
                id=check.ident(item, path),
                text=check.text(item, "text", path, limit=300) or "",
                hears_reported=check.flag(item, "hears_reported", path, False),
            )
        )
    check.unique([s.id for s in result], "checklist")
    return tuple(result)


def _deadlines(check: _Checker, data: dict[str, Any]) -> Deadlines:
    item = check.mapping(data, "deadlines", "")
    check.known(item, tuple(DEADLINE_FIELDS), "deadlines.")
    values = {}
    for key, attr in DEADLINE_FIELDS.items():
        value = item.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            check.problem(f"deadlines.{key}", "must be a number above 0")
            continue
        values[attr] = float(value)
    return Deadlines(**values)


class _Checker:
    """Reads fields and collects every problem with the path of its field."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def known(self, item: dict[str, Any], fields: tuple[str, ...], path: str) -> None:
        for key in item:
            if key not in fields:
                self.problem(f"{path}{key}", f"unknown field (known: {', '.join(fields)})")

    def mapping(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(f"{path}{key}", "must be a mapping of fields")
            return {}
        return value

    def items(
        self, data: dict[str, Any], key: str, path: str, *, required: bool = False, most: int
    ) -> list[tuple[str, dict[str, Any]]]:
        value = data.get(key)
        if value is None or value == []:
            if required:
                self.problem(f"{path}{key}", "is required: list at least one")
            return []
        if not isinstance(value, list):
            self.problem(f"{path}{key}", "must be a list")
            return []
        if len(value) > most:
            self.problem(f"{path}{key}", f"has {len(value)} items; at most {most} fit on Slack")
        result = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                result.append((f"{path}{key}[{index}].", item))
            else:
                self.problem(f"{path}{key}[{index}]", "must be a mapping (id, label, ...)")
        return result

    def text(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        *,
        required: bool = True,
        limit: int = TEXT_LIMIT,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(f"{path}{key}", "is required")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(f"{path}{key}", "must be text")
            return None
        value = " ".join(str(value).split())
        if len(value) > limit:
            self.problem(f"{path}{key}", f"is {len(value)} characters; the limit is {limit}")
        if pattern is not None and not pattern.match(value):
            self.problem(f"{path}{key}", "may hold only letters, digits, '.', '_' and '-'")
        return value

    def ident(self, data: dict[str, Any], path: str) -> str:
        value = data.get("id")
        if not isinstance(value, str) or not ID.match(value):
            self.problem(
                f"{path}id",
                "is required: lower-case letters, digits and '_', starting with a letter, "
                "at most 32",
            )
            return str(value)
        return value

    def flag(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{path}{key}", "must be true or false")
            return default
        return value

    def need(self, data: dict[str, Any], key: str, path: str) -> Need:
        value = data.get(key, "never")
        if isinstance(value, bool):
            value = "required" if value else "never"
        try:
            return Need(value)
        except ValueError:
            self.problem(f"{path}{key}", "must be never, optional or required")
            return Need.NEVER

    def unique(self, ids: list[str], path: str) -> None:
        seen: set[str] = set()
        for value in ids:
            if value in seen:
                self.problem(path, f"the id {value!r} is used twice")
            seen.add(value)
