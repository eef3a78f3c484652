"""Discount codes (issue 15): a word a guest types at checkout for a lower price.

A code is its text (case-insensitive: stored upper-case, ``A-Z``, ``0-9`` and ``-``), either a percentage off or a
fixed amount off in one currency, valid in ``[valid_from, valid_until)``, usable ``max_uses`` times in all (None:
unlimited), optionally for one event only, and always once per guest. Operators create codes with an offer
(handlers/operator/offers.py); checkout (h15a's loyalty work) checks them with :func:`check_code` and records a use
through :class:`domain.discount_ports.DiscountCodeRepository` in the order's transaction, where the total count and
"once per guest" are enforced again by the storage (a unique key, a conditional UPDATE), so two guests pressing at
once never overuse a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError
from domain.rules.money import Money

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")  # 3-32 characters, not starting with a dash
# A code leaves at least a tenth to pay: Telegram cannot invoice nothing, and a free booking has no path of its own
# (it would wait for a payment that never comes and expire), so no code takes more than this share of a total.
MAX_PERCENT = 90


class CodeUnknown(DomainError):
    """No such code (or the text cannot be a code at all)."""

    code = "code_unknown"


class CodeNotYetValid(DomainError):
    code = "code_not_yet_valid"


class CodeExpired(DomainError):
    code = "code_expired"


class CodeUsedUp(DomainError):
    """Every use the code had is taken."""

    code = "code_used_up"


class CodeAlreadyUsed(DomainError):
    """This guest has used the code already (once per guest)."""

    code = "code_already_used"


class CodeNotForEvent(DomainError):
    """The code is for another event."""

    code = "code_not_for_event"


class CodeWrongCurrency(DomainError):
    """A fixed-amount code in another currency than the order's."""

    code = "code_wrong_currency"


class CodeTaken(DomainError):
    """A new code's text is some other code's already."""

    code = "code_taken"


class InvalidCodeTerms(DomainError):
    """A new code's terms make no sense (``reason``: text, percent, amount, validity, uses)."""

    code = "code_invalid"


def normalize_code(text: str) -> str:
    """The stored form of a code a person typed (trimmed, upper-case); :class:`CodeUnknown` if it cannot be one."""
    code = text.strip().upper()
    if not CODE_PATTERN.fullmatch(code):
        raise CodeUnknown()
    return code


@dataclass(frozen=True, slots=True)
class DiscountCode:
    code: str  # normalized (upper-case)
    valid_from: datetime
    valid_until: datetime
    created_at: datetime
    percent: int | None = None  # 1..100, or
    amount_minor: int | None = None  # a fixed amount off, in ``currency``
    currency: str | None = None
    max_uses: int | None = None  # None: unlimited
    used: int = 0  # uses recorded so far
    event_id: int | None = None  # only for this event
    offer_id: int | None = None  # the offer it was created with
    created_by: str = ""  # the audit actor, "operator:<id>"
    id: int | None = None

    def __post_init__(self) -> None:
        if not CODE_PATTERN.fullmatch(self.code):
            raise InvalidCodeTerms(reason="text")
        if (self.percent is None) == (self.amount_minor is None):
            raise InvalidCodeTerms(reason="percent_or_amount")
        if self.percent is not None and not 0 < self.percent <= MAX_PERCENT:
            raise InvalidCodeTerms(reason="percent")
        if self.amount_minor is not None and (self.amount_minor <= 0 or not self.currency):
            raise InvalidCodeTerms(reason="amount")
        if self.valid_until <= self.valid_from:
            raise InvalidCodeTerms(reason="validity")
        if self.max_uses is not None and self.max_uses < 1:
            raise InvalidCodeTerms(reason="uses")

    @property
    def uses_left(self) -> int | None:
        """None: unlimited."""
        return None if self.max_uses is None else max(self.max_uses - self.used, 0)

    def valid_at(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until

    def discount_on(self, total: Money) -> Money:
        """How much the code takes off ``total`` (never more than :data:`MAX_PERCENT` of it);
        :class:`CodeWrongCurrency` for a fixed amount in another currency."""
        if self.percent is not None:
            return Money(total.amount_minor - total.percent_off(self.percent).amount_minor, total.currency)
        if self.currency != total.currency:
            raise CodeWrongCurrency(code_currency=self.currency, currency=total.currency)
        most = total.amount_minor - total.percent_off(MAX_PERCENT).amount_minor
        return Money(min(self.amount_minor or 0, most), total.currency)


def check_code(code: DiscountCode | None, *, now: datetime, event_id: int | None, used_by_guest: bool) -> DiscountCode:
    """The code if this guest may use it now for ``event_id`` (None: no event in question), else the first reason
    why not, as a DomainError: unknown, not yet valid, expired, for another event, used up, already used by them.

    ``used_by_guest``: whether :meth:`DiscountCodeRepository.uses_by` found a use of theirs."""
    if code is None:
        raise CodeUnknown()
    if now < code.valid_from:
        raise CodeNotYetValid(valid_from=code.valid_from.isoformat())
    if now >= code.valid_until:
        raise CodeExpired(valid_until=code.valid_until.isoformat())
    if code.event_id is not None and event_id is not None and code.event_id != event_id:
        raise CodeNotForEvent(event_id=code.event_id)
    if code.uses_left == 0:
        raise CodeUsedUp(max_uses=code.max_uses)
    if used_by_guest:
        raise CodeAlreadyUsed()
    return code
