"""Money as integer minor units with an ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 2 digits; everything else has cents.
_EXPONENTS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}


def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def parse_amount(text: str | int | float, currency: str) -> int:
    """A decimal string such as ``"45.00"`` to minor units; refuses negatives and excess precision."""
    if isinstance(text, bool):
        raise ValueError('expected a decimal amount such as "45.00"')  # noqa: TRY004 (true/false is a bad value)
    if isinstance(text, float):
        text = repr(text)
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f'{text!r} is not a decimal amount such as "45.00"') from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} must be a non-negative amount")
    exponent = currency_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more than {exponent} decimal places for {currency}")
    return int(minor)


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount_minor * quantity, self.currency)

    def percent_off(self, percent: int) -> Money:
        """The amount reduced by ``percent``, rounded half up to the minor unit."""
        kept = (Decimal(self.amount_minor) * (100 - percent) / 100).quantize(Decimal(1), ROUND_HALF_UP)
        return Money(int(kept), self.currency)

    @property
    def decimal(self) -> Decimal:
        return to_decimal(self.amount_minor, self.currency)
