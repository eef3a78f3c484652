"""The pure rules of rebooking by oneself (domain/rules/rebooking.py): which orders and dates, the price of a new
date, what it does to the money, and the difference's invoice payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidTransition, NoChange, NotFound, SessionNotBookable, SoldOut
from domain.model.catalog import Event, EventSession, SessionStatus, TicketType
from domain.model.orders import BookingStatus, Order, OrderItem, PaymentStatus
from domain.rules.rebooking import (
    NOT_ACTIVE,
    TICKETS_GONE,
    TOO_LATE,
    MoneyChange,
    check_order,
    check_target,
    difference_payload,
    money_change,
    parse_difference_payload,
    reprice,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CUTOFF = timedelta(hours=2)


def event(adult: int = 4500) -> Event:
    return Event(
        id=1,
        code="cruise",
        organiser_id=1,
        region_id=1,
        category="sea",
        title={"en": "Cruise"},
        description={},
        meeting_point={},
        duration=timedelta(hours=3),
        languages=("en",),
        currency="EUR",
        ticket_types=(TicketType("adult", adult), TicketType("child", 2500)),
    )


def order(total: int | None = None, discount: int = 0, **status: object) -> Order:
    items = [OrderItem("adult", 2, 4500)]
    subtotal = 9000
    placed = Order(
        code="K7MA4X",
        user_id=1,
        session_id=1,
        event_id=1,
        currency="EUR",
        items=items,
        subtotal_minor=subtotal,
        discount_percent=discount,
        total_minor=subtotal * (100 - discount) // 100 if total is None else total,
        created_at=NOW,
        hold_until=NOW,
        language="en",
        id=7,
    )
    for name, value in status.items():
        setattr(placed, name, value)
    return placed


def session(id_: int = 2, days: float = 3, seats: int = 10, **more: object) -> EventSession:
    return EventSession(id=id_, event_id=1, starts_at=NOW + timedelta(days=days), capacity=20, seats_left=seats, **more)


def test_only_active_orders_before_the_cutoff_may_move() -> None:
    check_order(order(), session(1, days=2), CUTOFF, NOW)
    with pytest.raises(InvalidTransition) as ended:
        check_order(order(booking=BookingStatus.CANCELLED), session(1), CUTOFF, NOW)
    assert ended.value.data["reason"] == NOT_ACTIVE
    with pytest.raises(InvalidTransition) as late:
        check_order(order(), session(1, days=1 / 24), CUTOFF, NOW)  # in 1 hour, the cutoff is 2
    assert late.value.data["reason"] == TOO_LATE
    with pytest.raises(InvalidTransition):
        check_order(order(), session(1, status=SessionStatus.CANCELLED), CUTOFF, NOW)


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (session(1), NoChange),
        (EventSession(id=3, event_id=9, starts_at=NOW + timedelta(days=3), capacity=5, seats_left=5), NotFound),
        (session(days=1 / 24), SessionNotBookable),
        (session(sales_stopped=True), SessionNotBookable),
        (session(hot=True), SessionNotBookable),
        (session(seats=1), SoldOut),
    ],
)
def test_a_target_is_refused_with_its_reason(target: EventSession, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_target(order(), target, CUTOFF, NOW)


def test_the_new_date_costs_todays_price_and_keeps_other_reductions() -> None:
    assert reprice(event(), order())[2:] == (9000, 9000)  # same price
    items, subtotal, priced, total = reprice(event(5000), order(discount=10))
    assert [(i.ticket_type, i.unit_price_minor) for i in items] == [("adult", 5000)]
    assert (subtotal, priced, total) == (10000, 9000, 9000)
    # an order whose total has another reduction (points, a code: 1000 off) keeps it: moved by the difference only
    assert reprice(event(4000), order(total=8000))[2:] == (8000, 7000)
    assert reprice(event(0), order(total=500))[3] == 0  # never below zero


def test_a_ticket_type_the_event_no_longer_sells_is_refused() -> None:
    gone = order()
    gone.items = [OrderItem("senior", 1, 3000)]
    with pytest.raises(InvalidTransition) as refused:
        reprice(event(), gone)
    assert refused.value.data["reason"] == TICKETS_GONE


def test_what_the_move_does_to_the_money() -> None:
    paid = {"booking": BookingStatus.CONFIRMED, "payment": PaymentStatus.PAID}
    assert money_change(order(**paid), 9000) is MoneyChange.NONE
    assert money_change(order(**paid), 8000) is MoneyChange.REFUND
    assert money_change(order(**paid), 10000) is MoneyChange.PAY_FIRST
    assert money_change(order(), 10000) is MoneyChange.NEW_PRICE  # nothing paid yet


def test_the_difference_payload_round_trips_and_rejects_anything_else() -> None:
    assert parse_difference_payload(difference_payload(12, 34)) == (12, 34)
    for bad in (None, "", "order:12", "rebook:12", "rebook:12:x", "rebook:0:3", "rebook:-1:3", "rebook:1:2:3"):
        assert parse_difference_payload(bad) is None


def test_the_model_takes_the_new_price_to_the_same_total() -> None:
    """Order.change_items takes the price after the hotel discount and keeps a code's and points' reductions itself:
    it lands on the total the summary showed."""
    for adult in (4000, 4500, 5000):
        booked = order(total=7500, code_discount_minor=1000, points_used=500)
        items, subtotal, priced, total = reprice(event(adult), booked)
        booked.change_items(items, subtotal, priced)
        assert booked.total_minor == total == 2 * adult - 1500
