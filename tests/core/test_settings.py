"""Operator settings: read from the environment, and a clear answer for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.infra.settings import SettingsError, load_settings
from steward.cli import main


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in ("STEWARD_MAIL_STORAGE_PROCESS", "STEWARD_FULL_DISCLOSURE"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_keep_content_out_of_the_channel_and_storage_in_its_own_process() -> None:
    settings = load_settings(None)
    assert settings.full_disclosure is False
    assert settings.mail_storage_process is True


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("YES", True)])
def test_switches_read_true_and_false(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("STEWARD_MAIL_STORAGE_PROCESS", value)
    monkeypatch.setenv("STEWARD_FULL_DISCLOSURE", value)
    settings = load_settings(None)
    assert settings.mail_storage_process is expected
    assert settings.full_disclosure is expected


def test_a_switch_that_is_neither_true_nor_false_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in the disclosure switch must not quietly mean one or the other."""
    monkeypatch.setenv("STEWARD_FULL_DISCLOSURE", "ture")
    with pytest.raises(SettingsError, match="STEWARD_FULL_DISCLOSURE must be true or false"):
        load_settings(None)
    assert main(["cases", "list"]) == 2
    assert capsys.readouterr().err == "steward: STEWARD_FULL_DISCLOSURE must be true or false\n"
