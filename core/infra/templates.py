"""Steward's own words, kept in text templates instead of scattered through code.

A template file's first line is `Subject: ...`; the rest, after a blank line, is
the body. Fragments (`templates/fragments/`) are passages without a subject that
several messages share. All use `$name` placeholders (string.Template), so a missing value is
an error at render time, never a silent gap in a message to a reporter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@cache
def _load(name: str) -> tuple[Template, Template]:
    text = (TEMPLATE_DIR / f"{name}.txt").read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"template {name} must start with a Subject line")
    return Template(head[len("Subject: ") :].strip()), Template(body)


@cache
def _load_fragment(name: str) -> Template:
    return Template((TEMPLATE_DIR / "fragments" / f"{name}.txt").read_text(encoding="utf-8"))


def fragment(name: str, **context: object) -> str:
    """A passage shared by several messages (`templates/fragments/`), without a subject;
    rendered into a template's placeholder so the words exist once."""
    return _load_fragment(name).substitute({k: str(v) for k, v in context.items()}).strip()


def render(name: str, **context: object) -> Rendered:
    subject, body = _load(name)
    values = {k: str(v) for k, v in context.items()}
    return Rendered(subject=subject.substitute(values), body=body.substitute(values))
