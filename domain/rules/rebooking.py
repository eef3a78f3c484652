"""Rebooking by oneself ("Change date" under My orders): which orders a tourist may move, to which sessions, and what
the new date costs. Pure rules; the use cases are in :mod:`domain.use_cases.rebooking`.

- **Which orders:** the tourist's own, still active (awaiting the organiser or confirmed: not cancelled, declined,
  expired or over), whose session is still scheduled and before the organiser's booking cutoff (``/settings``).
- **Which sessions:** another session of the same event, scheduled, on sale (not stopped by the organiser, not a hot
  on-sale: those go through the waiting room, a date change would jump its queue), before the organiser's cutoff,
  with a free seat for every ticket of the order.
- **The price:** a catalog price belongs to the event, not to a date; a date change is priced at the event's prices
  of today for the same tickets, with the order's hotel discount, and changes the order's total by exactly the
  difference between today's price and the price it was booked at (any other reduction the order has is kept).
  Same price: nothing happens to the money. Cheaper and paid: the difference becomes a partial refund due (the
  operators return it, as after any change that made a paid order cheaper). Dearer and paid: the difference is
  invoiced first and the date changes when it is paid (nothing changes until then: the order is never "half paid").
  Not paid yet: the order takes the new price (a new invoice if one awaits payment).
- **The organiser** is told, never asked again: a confirmed booking stays confirmed (the seats were free on the new
  date), a booking still awaiting the organiser keeps waiting for their answer, now for the new date.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from domain.errors import (
    SALES_STOPPED,
    InvalidQuantity,
    NoChange,
    NotFound,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import Event, EventSession, SessionStatus
from domain.model.orders import Order, OrderItem
from domain.rules.money import Money
from domain.rules.pricing import quote

# ``reason`` of the refusals
NOT_ACTIVE = "not_active"  # the order: cancelled, declined, expired, over
TOO_LATE = "too_late"  # the order's session or the new one: inside the organiser's cutoff, started or cancelled
TICKETS_GONE = "tickets_gone"  # the event no longer sells a ticket type of the order: only the team can move it
HOT = "hot"  # the new session is a hot on-sale (the waiting room)


class MoneyChange(enum.StrEnum):
    """What a date change does to the money."""

    NONE = "none"  # same price, or nothing to pay and nothing paid
    REFUND = "refund"  # paid, now cheaper: the difference is due back
    PAY_FIRST = "pay_first"  # paid, now dearer: the difference is invoiced; the date changes once it is paid
    NEW_PRICE = "new_price"  # not paid yet: the order simply takes the new price


def open_before_cutoff(session: EventSession, cutoff: timedelta, now: datetime) -> bool:
    """Scheduled and not inside the organiser's booking cutoff (nor the house's)."""
    return session.status is SessionStatus.SCHEDULED and session.bookable(now) and session.starts_at - cutoff > now


def check_order(order: Order, session: EventSession, cutoff: timedelta, now: datetime) -> None:
    """:class:`InvalidTransition` (with a ``reason``) unless the tourist may change the order's date now."""
    if not order.is_active:
        raise order.refused(reason=NOT_ACTIVE)
    if session.status is not SessionStatus.SCHEDULED or session.starts_at - cutoff <= now:
        raise order.refused(reason=TOO_LATE)


def check_target(order: Order, target: EventSession, cutoff: timedelta, now: datetime) -> None:
    """The reason ``target`` cannot take the order: :class:`NoChange` (its own session), :class:`NotFound` (not
    the event's), :class:`SessionNotBookable` (cancelled, stopped, a hot on-sale, inside the cutoff),
    :class:`SoldOut` (fewer free seats than the order's tickets)."""
    if target.id == order.session_id:
        raise NoChange(order=order.id, session=target.id)
    if target.event_id != order.event_id:
        raise NotFound(session=target.id)
    if target.sales_stopped:
        raise SessionNotBookable(session=target.id, reason=SALES_STOPPED)
    if target.hot:
        raise SessionNotBookable(session=target.id, reason=HOT)
    if not open_before_cutoff(target, cutoff, now):
        raise SessionNotBookable(session=target.id, reason=TOO_LATE)
    if target.seats_left < order.seats:
        raise SoldOut(left=target.seats_left, wanted=order.seats)


def fits(order: Order, target: EventSession, cutoff: timedelta, now: datetime) -> bool:
    """Whether ``target`` is offered for the order (:func:`check_target` finds nothing against it)."""
    try:
        check_target(order, target, cutoff, now)
    except (NoChange, NotFound, SessionNotBookable, SoldOut):
        return False
    return True


def reprice(event: Event, order: Order) -> tuple[list[OrderItem], int, int, int]:
    """The order's tickets at the event's prices of today: items, subtotal, the price after the hotel discount (what
    :meth:`Order.change_items` takes) and the order's new total, which keeps every other reduction the order has (a
    discount code, points: its booked price less its total) and is never below zero. :class:`InvalidTransition`
    (``tickets_gone``) when the event no longer sells one of its ticket types."""
    quantities = {item.ticket_type: item.quantity for item in order.items}
    try:
        today = quote(event, quantities, order.discount_percent)
    except InvalidQuantity as error:
        raise order.refused(reason=TICKETS_GONE) from error
    booked_subtotal = sum(item.total_minor for item in order.items)
    booked = Money(booked_subtotal, order.currency).percent_off(order.discount_percent).amount_minor
    reduced = max(booked - order.total_minor, 0)
    return list(today.items), today.subtotal_minor, today.total_minor, max(today.total_minor - reduced, 0)


def money_change(order: Order, new_total_minor: int) -> MoneyChange:
    if new_total_minor == order.total_minor:
        return MoneyChange.NONE
    if not order.money_held:
        return MoneyChange.NEW_PRICE
    return MoneyChange.PAY_FIRST if new_total_minor > order.total_minor else MoneyChange.REFUND


# ---- the invoice for the difference ----------------------------------------------------------------------------------

DIFFERENCE_PAYLOAD_PREFIX = "rebook:"
# why the difference cannot be paid (pre-checkout refusals; a payment that arrives anyway is due back)
DATE_GONE = "date_gone"  # the new date filled up, closed or was cancelled meanwhile
PRICE_CHANGED = "price_changed"  # the difference is not this amount any more


def difference_payload(order_id: int, session_id: int) -> str:
    """The invoice payload of the difference for moving order ``order_id`` to session ``session_id``."""
    return f"{DIFFERENCE_PAYLOAD_PREFIX}{order_id}:{session_id}"


def parse_difference_payload(payload: str | None) -> tuple[int, int] | None:
    """(order id, session id) of a payload :func:`difference_payload` wrote; None for anything else."""
    if not payload or not payload.startswith(DIFFERENCE_PAYLOAD_PREFIX):
        return None
    parts = payload.removeprefix(DIFFERENCE_PAYLOAD_PREFIX).split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 18 for p in parts):
        return None
    order_id, session_id = int(parts[0]), int(parts[1])
    return (order_id, session_id) if order_id > 0 and session_id > 0 else None


def offer_rebooking(order: Order, session: EventSession, cutoff: timedelta, now: datetime) -> bool:
    """Whether the order's card offers "Change date" (:func:`check_order` finds nothing against it)."""
    return order.is_active and open_before_cutoff(session, cutoff, now)
