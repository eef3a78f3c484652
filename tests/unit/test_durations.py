"""Durations as written in the catalog file: ``90s``, ``10m``, ``2h``, ``1d``, combined ``1h30m``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0s", timedelta(0)),
        (" 10M ", timedelta(minutes=10)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (90, timedelta(seconds=90)),
        (0, timedelta(0)),
    ],
)
def test_parse_duration_accepts_catalog_forms(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "10", "m", "10x", "-10m", "1.5h", "h1", "10m!", "ten minutes"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [-1, True, False])
def test_parse_duration_refuses_negative_and_bool(value: int) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(seconds=5400), "1h30m"),
        (timedelta(days=1), "1d"),
        (timedelta(weeks=2), "14d"),
        (timedelta(days=1, seconds=1), "1d1s"),
    ],
)
def test_format_duration_uses_the_largest_exact_units(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


_parts = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("smhdw")), min_size=1, max_size=5)


@given(_parts)
def test_parse_then_format_is_canonical(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{unit}" for n, unit in parts)
    value = parse_duration(text)
    canonical = format_duration(value)
    assert parse_duration(canonical) == value
    assert format_duration(parse_duration(canonical)) == canonical
