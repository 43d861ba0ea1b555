"""Codes of conduct as data: the presets, a community's own file, and the answers
Steward gives when the setting or the file is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.infra.settings import Settings
from core.policy import DEFAULT_PRESET, CodeError, Need, load_code, presets
from core.policy.loading import as_data, parse, read_file
from steward.cli import main

SEEDED = ("act", "ai-alliance", "all-tech-is-human", "openinfra", "pytorch")

MALFORMED = """\
title: the Example Code
report:
  categories:
    - {id: Harassment, label: Harassment}
decisions:
  - id: warning
    label: A warning
    notice: "A warning from {communty}."
    end_date: sometimes
appeal:
  window_days: thirty
colour: blue
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.delenv("STEWARD_CODE_OF_CONDUCT", raising=False)


def test_every_seeded_community_has_a_preset_and_the_default_is_todays_ladder() -> None:
    assert set(presets()) == {*SEEDED, DEFAULT_PRESET}
    code = load_code(DEFAULT_PRESET)
    assert [o.id for o in code.decisions] == [
        "no_violation",
        "correction",
        "warning",
        "temporary_ban",
        "permanent_ban",
        "other",
    ]
    assert code.option("temporary_ban").end_date == Need.REQUIRED  # type: ignore[union-attr]
    assert code.appeal.window(Settings(appeal_days=30)) == 30
    assert len(code.categories) == 13 and not code.checklist


@pytest.mark.parametrize("name", [*SEEDED, DEFAULT_PRESET])
def test_a_stored_code_reads_back_as_the_same_version(name: str) -> None:
    code = load_code(name)
    again = parse(as_data(code))
    assert again == code and len(code.version) == 64


def test_the_presets_differ_where_their_codes_do() -> None:
    pytorch, openinfra = load_code("pytorch"), load_code("openinfra")
    atih, act, ai = load_code("all-tech-is-human"), load_code("act"), load_code("ai-alliance")
    assert pytorch.appeal.window_days == 30 and pytorch.appeal.final
    assert "event_concern" in {c.id for c in pytorch.categories}
    assert pytorch.option("role_removal").removes_roles == Need.REQUIRED  # type: ignore[union-attr]
    assert not openinfra.appeal.allowed and openinfra.hearing_required and openinfra.danger_first
    assert [s.id for s in openinfra.checklist][:2] == ["danger", "care"]
    assert atih.appeal.allowed and atih.appeal.window_days is None and not atih.appeal.final
    assert [o.id for o in act.decisions if o.public_statement] == [
        "minor_warning",
        "serious_ban",
        "expulsion",
    ]
    assert ai.option("warning").no_contact == Need.REQUIRED  # type: ignore[union-attr]
    assert ai.option("temporary_ban").end_date == Need.REQUIRED  # type: ignore[union-attr]


def test_a_malformed_file_names_every_field_that_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(MALFORMED)
    with pytest.raises(CodeError) as caught:
        read_file(path)
    assert caught.value.problems == [
        "colour: unknown field (known: name, title, url, community, report, decisions, "
        "appeal, checklist, hear_reported_before_decision, tell_reporter_outcome, deadlines)",
        "report.categories[0].id: is required: lower-case letters, digits and '_', "
        "starting with a letter, at most 32",
        "decisions[0].end_date: must be never, optional or required",
        "decisions[0].notice: unknown placeholder {communty}; use {community} or {until}",
        "appeal.window_days: must be a number of days above 0, 'none' or 'default'",
    ]


def test_steward_refuses_to_start_with_a_malformed_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(MALFORMED)
    monkeypatch.setenv("STEWARD_CODE_OF_CONDUCT", str(path))
    assert main(["policy", "show"]) == 2
    assert capsys.readouterr().err == (
        f"steward: STEWARD_CODE_OF_CONDUCT: {path}: colour: unknown field (known: name, "
        "title, url, community, report, decisions, appeal, checklist, "
        "hear_reported_before_decision, tell_reporter_outcome, deadlines) (and 4 more)\n"
    )


def test_steward_refuses_to_start_with_an_unknown_preset(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_CODE_OF_CONDUCT", "pytorh")
    assert main(["cases", "list"]) == 2
    assert capsys.readouterr().err == (
        "steward: STEWARD_CODE_OF_CONDUCT: unknown preset 'pytorh'; choose one of act, "
        "ai-alliance, all-tech-is-human, contributor-covenant-2.1, openinfra, pytorch, "
        "or give the path to a YAML file\n"
    )


def test_a_missing_file_and_broken_yaml_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_CODE_OF_CONDUCT", str(tmp_path / "none.yaml"))
    assert main(["policy", "show"]) == 2
    assert capsys.readouterr().err == (
        f"steward: STEWARD_CODE_OF_CONDUCT: {tmp_path / 'none.yaml'}: no such file\n"
    )
    broken = tmp_path / "broken.yml"
    broken.write_text("title: [unclosed\n")
    assert main(["policy", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{broken}: 1 problem\n  line 2: ")


def test_policy_check_lists_every_problem_and_accepts_a_good_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MALFORMED)
    assert main(["policy", "check", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{bad}: 5 problems"
    assert "  appeal.window_days: must be a number of days above 0, 'none' or 'default'" in lines
    good = tmp_path / "good.yaml"
    good.write_text(
        "title: the Example Code\n"
        "report:\n  categories:\n    - {id: harassment, label: Harassment}\n"
        "decisions:\n  - {id: warning, label: A warning, notice: A warning.}\n"
        "appeal: {allowed: false}\n"
    )
    assert main(["policy", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{good}: valid: the Example Code, 1 categories, 1 decision options")


def test_policy_show_prints_the_code_in_force(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_CODE_OF_CONDUCT", "pytorch")
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Code of conduct: the PyTorch Foundation Code of Conduct\n")
    assert "  - A concern about an upcoming event [event_concern]" in out
    assert (
        "  Every decision can be appealed in writing to the PyTorch Foundation at "
        "conduct@pytorch.org within 30 days of its notice." in out
    )
    assert "  The stewards will review an appeal, and their decision on it is final." in out


def test_the_readme_example_is_a_valid_code(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("```yaml\nname: example-guild") + len("```yaml\n")
    path = tmp_path / "guild.yaml"
    path.write_text(readme[start : readme.index("```", start)])
    code = read_file(path)
    assert code.appeal.window_days == 14 and code.hearing_required
    assert code.timing(Settings()).ack_hours == 12
