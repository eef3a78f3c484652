"""Pricing: quantities × unit prices, less the partner-hotel discount."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidQuantity
from domain.model.catalog import Hotel
from domain.model.orders import OrderItem
from domain.rules.pricing import MAX_TICKETS_PER_ORDER, hotel_discount, quote
from tests.fakes import fake_world

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
_UOW, _SEEDED = fake_world(NOW)
EVENT = _UOW.state.events[_SEEDED.event_id]  # islands-cruise: adult 45.00, child 25.00 EUR


def test_quote_prices_each_ticket_type() -> None:
    priced = quote(EVENT, {"adult": 2, "child": 1})
    assert priced.items == (OrderItem("adult", 2, 4500), OrderItem("child", 1, 2500))
    assert priced.currency == "EUR"
    assert priced.subtotal_minor == 11500
    assert priced.total_minor == 11500
    assert priced.discount_percent == 0
    assert priced.discount_minor == 0
    assert priced.seats == 3


def test_quote_applies_the_discount() -> None:
    priced = quote(EVENT, {"adult": 2, "child": 1}, discount_percent=10)
    assert priced.subtotal_minor == 11500
    assert priced.total_minor == 10350
    assert priced.discount_minor == 1150


def test_zero_quantities_are_left_out() -> None:
    priced = quote(EVENT, {"adult": 1, "child": 0})
    assert priced.items == (OrderItem("adult", 1, 4500),)


@pytest.mark.parametrize(
    "quantities",
    [
        {},
        {"adult": 0},
        {"adult": -1},
        {"senior": 1},
        {"adult": MAX_TICKETS_PER_ORDER + 1},
        {"adult": MAX_TICKETS_PER_ORDER, "child": 1},
    ],
)
def test_quote_refuses_bad_quantities(quantities: dict[str, int]) -> None:
    with pytest.raises(InvalidQuantity):
        quote(EVENT, quantities)


def test_the_maximum_is_allowed() -> None:
    assert quote(EVENT, {"adult": MAX_TICKETS_PER_ORDER}).seats == MAX_TICKETS_PER_ORDER


@pytest.mark.parametrize("percent", [-1, 101])
def test_discount_out_of_range(percent: int) -> None:
    with pytest.raises(ValueError):
        quote(EVENT, {"adult": 1}, discount_percent=percent)


@given(
    st.integers(min_value=0, max_value=MAX_TICKETS_PER_ORDER),
    st.integers(min_value=0, max_value=MAX_TICKETS_PER_ORDER),
    st.integers(min_value=0, max_value=100),
)
def test_quote_total_is_the_sum_less_the_discount(adults: int, children: int, percent: int) -> None:
    seats = adults + children
    if seats == 0 or seats > MAX_TICKETS_PER_ORDER:
        with pytest.raises(InvalidQuantity):
            quote(EVENT, {"adult": adults, "child": children}, percent)
        return
    priced = quote(EVENT, {"adult": adults, "child": children}, percent)
    assert priced.subtotal_minor == sum(item.total_minor for item in priced.items) == adults * 4500 + children * 2500
    assert priced.seats == seats
    assert 0 <= priced.total_minor <= priced.subtotal_minor
    assert priced.discount_minor == priced.subtotal_minor - priced.total_minor
    if percent == 0:
        assert priced.total_minor == priced.subtotal_minor


def test_hotel_discount_only_in_the_hotels_region() -> None:
    assert hotel_discount(None, EVENT) == 0
    assert hotel_discount(Hotel(1, "telegraaf", EVENT.region_id, "Hotel Telegraaf", 10), EVENT) == 10
    assert hotel_discount(Hotel(2, "plain", EVENT.region_id, "Harbour Inn", 0), EVENT) == 0
    assert hotel_discount(Hotel(3, "tartu", EVENT.region_id + 1, "Tartu Inn", 20), EVENT) == 0
