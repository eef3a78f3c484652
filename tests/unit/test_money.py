"""Money: integer minor units, decimal strings in, rounding half up for discounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.money import Money, currency_exponent, parse_amount, to_decimal


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("45.00", "EUR", 4500),
        ("45", "EUR", 4500),
        ("0.01", "EUR", 1),
        (" 12.5 ", "EUR", 1250),
        ("0", "EUR", 0),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        (25, "EUR", 2500),
        (0.1, "EUR", 10),
        ("45.00", "eur", 4500),
    ],
)
def test_parse_amount(text: str | int | float, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("-1", "EUR"),
        ("45.001", "EUR"),
        ("1.5", "JPY"),
        ("abc", "EUR"),
        ("", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        (True, "EUR"),
    ],
)
def test_parse_amount_refuses(text: str | bool, currency: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text, currency)


def test_currency_exponents() -> None:
    assert currency_exponent("EUR") == 2
    assert currency_exponent("jpy") == 0
    assert currency_exponent("BHD") == 3


def test_to_decimal_and_money_decimal() -> None:
    assert to_decimal(4500, "EUR") == Decimal("45.00")
    assert Money(1500, "JPY").decimal == Decimal(1500)
    assert Money(1234, "KWD").decimal == Decimal("1.234")


def test_addition_and_multiplication() -> None:
    assert Money(4500, "EUR") + Money(2500, "EUR") == Money(7000, "EUR")
    assert Money(4500, "EUR").times(3) == Money(13500, "EUR")
    with pytest.raises(ValueError):
        Money(1, "EUR") + Money(1, "USD")


@pytest.mark.parametrize(
    ("amount", "percent", "kept"),
    [
        (4500, 10, 4050),
        (4500, 0, 4500),
        (4500, 100, 0),
        (5, 10, 5),
        (15, 10, 14),
        (1, 50, 1),
        (3, 50, 2),
        (999, 33, 669),
    ],
)
def test_percent_off_rounds_half_up(amount: int, percent: int, kept: int) -> None:
    assert Money(amount, "EUR").percent_off(percent) == Money(kept, "EUR")


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=100))
def test_percent_off_is_never_negative_nor_above_the_amount(amount: int, percent: int) -> None:
    kept = Money(amount, "EUR").percent_off(percent).amount_minor
    assert 0 <= kept <= amount
    exact = Decimal(amount) * (100 - percent) / 100
    assert abs(Decimal(kept) - exact) <= Decimal("0.5")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_a_bigger_discount_never_costs_more(amount: int, percent: int) -> None:
    money = Money(amount, "EUR")
    assert money.percent_off(percent + 1).amount_minor <= money.percent_off(percent).amount_minor


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_decimal_string_round_trip(minor: int, currency: str) -> None:
    assert parse_amount(str(to_decimal(minor, currency)), currency) == minor
