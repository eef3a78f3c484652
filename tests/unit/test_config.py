"""Durations from the environment: a blank value is the documented default; a bad one names its variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

DURATIONS = ("PROBLEM_RERAISE_AFTER", "QUESTION_ANSWER_WITHIN")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env of the developer's and none of these variables from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in DURATIONS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_duration_is_its_documented_default(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    for name in DURATIONS:
        monkeypatch.setenv(name, blank)
    settings = load_settings()
    assert settings.problem_reraise_after == timedelta(minutes=30)  # README: default 30m
    assert settings.question_answer_within == timedelta(minutes=15)  # README: default 15m
    assert settings.desk.reraise_after == timedelta(minutes=30)


def test_unset_durations_are_the_defaults() -> None:
    settings = load_settings()
    assert (settings.problem_reraise_after, settings.question_answer_within) == (
        timedelta(minutes=30),
        timedelta(minutes=15),
    )


def test_durations_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBLEM_RERAISE_AFTER", "2h")
    monkeypatch.setenv("QUESTION_ANSWER_WITHIN", "90s")
    settings = load_settings()
    assert (settings.problem_reraise_after, settings.question_answer_within) == (
        timedelta(hours=2),
        timedelta(seconds=90),
    )


@pytest.mark.parametrize("value", ["0m", "soon"])
def test_a_bad_duration_names_its_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PROBLEM_RERAISE_AFTER", value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith("PROBLEM_RERAISE_AFTER: ")
