"""The README's operator examples, read from the README itself, so the tests run what an
operator would copy. A tested block follows a `<!-- tested: NAME -->` line."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"<!-- tested: (?P<name>[\w.-]+) -->\n```[a-z]*\n(?P<body>.*?)```", re.DOTALL)


def example(name: str) -> str:
    """The text of the README block marked `name`."""
    blocks = {match["name"]: match["body"] for match in BLOCK.finditer(README.read_text())}
    return blocks[name]


def config_lines(name: str) -> list[str]:
    """A configuration block's lines, without comments and blank lines."""
    return [
        line for line in example(name).splitlines() if line.strip() and not line.startswith("#")
    ]
