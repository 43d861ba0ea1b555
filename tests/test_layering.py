"""core/'s shape: no Slack or SMTP code, grouped by domain, plumbing at the bottom, no circles.

Read from the source (every import, also those inside functions), so a module
that would only cycle when a function runs is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "core"

# What core/ must never import: the adapters and their libraries, and the composition root.
FORBIDDEN = ("slack_bolt", "slack_sdk", "aiosmtpd", "slackapp", "mailgateway", "steward")

# What each package may import from core/ besides itself: the plumbing imports no domain,
# the code of conduct only the plumbing; the domain packages use those and each other.
ALLOWED_BELOW = {"core.infra": set(), "core.policy": {"core.infra"}}

DOMAIN_PACKAGES = {"intake", "casework", "decisions", "records", "policy", "infra"}


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(CORE.rglob("*.py"))
        if "migrations" not in path.relative_to(CORE).parts
    }


MODULES = core_modules()


def imported_names(path: Path) -> set[str]:
    """Every absolute name a module imports; `from a import b` gives `a` and `a.b`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def core_imports(name: str) -> set[str]:
    """The core modules `name` depends on, as modules of this tree."""
    return {
        imported
        for imported in imported_names(MODULES[name])
        if imported in MODULES and imported != name
    }


def package_of(name: str) -> str:
    return ".".join(name.split(".")[:2])


def test_core_imports_no_adapter_code() -> None:
    offenders = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        for imported in imported_names(path)
        if imported.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_core_is_grouped_by_domain() -> None:
    top_level = sorted(p.name for p in CORE.glob("*.py") if p.name != "__init__.py")
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert top_level == []
    assert packages == DOMAIN_PACKAGES


@pytest.mark.parametrize("package", sorted(DOMAIN_PACKAGES))
def test_each_package_says_what_belongs_there(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((CORE / package / "__init__.py").read_text()))
    assert docstring and len(docstring) > 40


@pytest.mark.parametrize("package", sorted(ALLOWED_BELOW))
def test_lower_packages_import_nothing_above_them(package: str) -> None:
    allowed = ALLOWED_BELOW[package] | {package}
    offenders = [
        f"{name} imports {imported}"
        for name in MODULES
        if package_of(name) == package
        for imported in core_imports(name)
        if package_of(imported) not in allowed and imported != "core"
    ]
    assert offenders == []


def test_no_import_cycles_between_core_modules() -> None:
    graph = {name: core_imports(name) for name in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            # A package's __init__ running its own submodules is how packages load.
            if imported.startswith(name + "."):
                continue
            if state.get(imported) == "open":
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
