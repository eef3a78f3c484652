"""The price at checkout (issue 15): the quote (tickets less the partner-hotel discount), then a discount code, then
the guest's points (at most :data:`~domain.model.points.MAX_REDEEM_PERCENT` % of what the code left, never more than
their balance). The total never goes below zero."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import DomainError
from domain.model.discount_codes import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeNotForEvent,
    CodeNotYetValid,
    CodeUnknown,
    CodeUsedUp,
    CodeWrongCurrency,
    DiscountCode,
)
from domain.model.points import NotEnoughPoints, PointsOverLimit, check_redemption, usable_points
from domain.rules.money import Money
from domain.rules.pricing import Quote

# what refuses a checkout's code or points (the booking itself could go on without them)
CHECKOUT_ERRORS: tuple[type[DomainError], ...] = (
    NotEnoughPoints,
    PointsOverLimit,
    CodeUnknown,
    CodeNotYetValid,
    CodeExpired,
    CodeUsedUp,
    CodeAlreadyUsed,
    CodeNotForEvent,
    CodeWrongCurrency,
)


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the booking costs with a code and points: ``usable`` is the most points this booking may take from
    ``balance`` (what "Use my points" applies)."""

    quote: Quote
    code: str | None
    code_minor: int
    points: int
    balance: int

    @property
    def currency(self) -> str:
        return self.quote.currency

    @property
    def after_code_minor(self) -> int:
        return self.quote.total_minor - self.code_minor

    @property
    def total_minor(self) -> int:
        return self.after_code_minor - self.points

    @property
    def usable(self) -> int:
        return usable_points(self.after_code_minor, self.balance)


def price_checkout(quote: Quote, code: DiscountCode | None, points: int, balance: int) -> Checkout:
    """The checkout of ``quote`` with ``code`` (checked by the caller) and ``points`` (checked here against the
    balance and the limit: :class:`~domain.model.points.NotEnoughPoints`,
    :class:`~domain.model.points.PointsOverLimit`)."""
    code_minor = code.discount_on(Money(quote.total_minor, quote.currency)).amount_minor if code else 0
    check_redemption(points, quote.total_minor - code_minor, balance)
    return Checkout(quote, code.code if code else None, code_minor, points, balance)
