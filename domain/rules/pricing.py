"""Pricing: ticket quantities × unit prices, less the partner-hotel discount."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import InvalidQuantity
from domain.model.catalog import Event, Hotel
from domain.model.orders import OrderItem
from domain.rules.money import Money

MAX_TICKETS_PER_ORDER = 10


@dataclass(frozen=True, slots=True)
class Quote:
    items: tuple[OrderItem, ...]
    currency: str
    subtotal_minor: int
    discount_percent: int
    total_minor: int

    @property
    def seats(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def discount_minor(self) -> int:
        return self.subtotal_minor - self.total_minor


def quote(event: Event, quantities: Mapping[str, int], discount_percent: int = 0) -> Quote:
    """Price the chosen quantities; unknown ticket types, negatives and empty orders are refused."""
    items = []
    for code, quantity in quantities.items():
        if quantity == 0:
            continue
        ticket_type = event.ticket_type(code)
        if ticket_type is None or quantity < 0:
            raise InvalidQuantity(ticket_type=code, quantity=quantity)
        items.append(OrderItem(code, quantity, ticket_type.price_minor))
    seats = sum(item.quantity for item in items)
    if seats == 0 or seats > MAX_TICKETS_PER_ORDER:
        raise InvalidQuantity(seats=seats, maximum=MAX_TICKETS_PER_ORDER)
    if not 0 <= discount_percent <= 100:
        raise ValueError(f"discount {discount_percent}% is out of range")
    subtotal = Money(sum(item.total_minor for item in items), event.currency)
    total = subtotal.percent_off(discount_percent)
    return Quote(
        tuple(items),
        event.currency,
        subtotal.amount_minor,
        discount_percent,
        total.amount_minor,
    )


def hotel_discount(hotel: Hotel | None, event: Event) -> int:
    """A partner hotel's discount applies to events in the hotel's own region only."""
    if hotel is None or hotel.region_id != event.region_id:
        return 0
    return hotel.discount_percent
