"""Loyalty points (issue 15): a ledger of movements, a rule for earning them, and referrals.

Every movement of a guest's points is a ledger entry (:class:`PointsEntry`) with a signed amount and a reason; the
balance is their sum. An order earns once (``earned``) when it is attended, and its earned points are taken back once
(``reversed``) if its money goes back later; points spent at checkout (``redeemed``) come back once (``returned``)
if the booking ends before its session (cancelled, declined, expired). A referral gives each side a bonus once
(``referral``), after the invited guest's first attended booking.

**What a point is worth:** one point is one minor unit (a cent) of the currency the guest pays in: 120 points take
€1.20 off a booking in euros. Points are earned as a whole-point percentage (rounded down) of the amount actually paid
for an attended order, by the catalog's rule (:class:`PointsRule`; docs/catalog.md).

**Redeeming:** at checkout up to :data:`MAX_REDEEM_PERCENT` % of the booking's total (after a discount code), never
more than the balance; the total never goes below zero.

**Never a negative balance:** points taken back that were spent meanwhile are taken back only as far as the balance
goes (:func:`reversal`); the rest is forgiven.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError

MAX_REDEEM_PERCENT = 50  # the most of a booking's total points may pay
REFERRAL_PREFIX = "ref-"  # the deep link's payload: ``https://t.me/<bot>?start=ref-<token>``
REFERRAL_TOKEN_LENGTH = 10
NEW_GUEST_WINDOW = timedelta(hours=24)  # a referral link counts for a guest who joined this recently, without orders
_TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
HISTORY_LIMIT = 15  # ledger entries on the history screen


class PointsReason(enum.StrEnum):
    EARNED = "earned"  # an attended order: a share of what was paid
    REVERSED = "reversed"  # an order's earned points taken back (its money went back)
    REDEEMED = "redeemed"  # spent at checkout on an order
    RETURNED = "returned"  # the points an order used came back (the booking ended before its session)
    REFERRAL = "referral"  # a referral's bonus (to both guests)


class NotEnoughPoints(DomainError):
    """More points asked for than the guest has (``balance``)."""

    code = "points_not_enough"


class PointsOverLimit(DomainError):
    """More points asked for than the booking may use (``limit``: :data:`MAX_REDEEM_PERCENT` of its total)."""

    code = "points_over_limit"


class ReferralRefused(DomainError):
    """A referral link that does not count: ``reason`` is one of the ``REFERRAL_*`` codes below."""

    code = "referral_refused"


REFERRAL_UNKNOWN = "unknown"  # no guest has this link
REFERRAL_SELF = "self"  # their own link
REFERRAL_NOT_NEW = "not_new"  # not a new guest (joined earlier, or has booked already)
REFERRAL_ALREADY = "already"  # linked to a referrer already


@dataclass(frozen=True, slots=True)
class PointsEntry:
    """One movement of a guest's points (``amount`` signed: earned and returned are positive)."""

    user_id: int
    amount: int
    reason: PointsReason
    at: datetime
    order_id: int | None = None
    friend_id: int | None = None  # a referral's other guest
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PointsRule:
    """How many points an attended order earns (a percentage of the amount paid) and a referral's bonus to each
    guest, in points: the region's rule, with the organiser's ``earn_percent`` in its place when it has one."""

    earn_percent: int = 0
    referral_bonus: int = 0


@dataclass(frozen=True, slots=True)
class Referral:
    """A guest's referral link token, and who invited them (if anyone)."""

    user_id: int
    token: str
    referred_by: int | None = None
    linked_at: datetime | None = None


def new_referral_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(REFERRAL_TOKEN_LENGTH))


def earned_points(paid_minor: int, percent: int) -> int:
    """Whole points for ``paid_minor`` at ``percent`` (rounded down; never negative)."""
    return max(paid_minor, 0) * max(percent, 0) // 100


def redeem_limit(total_minor: int) -> int:
    """The most points a booking of ``total_minor`` may use."""
    return max(total_minor, 0) * MAX_REDEEM_PERCENT // 100


def usable_points(total_minor: int, balance: int) -> int:
    """The points the guest may use on a booking of ``total_minor`` with ``balance``."""
    return max(min(balance, redeem_limit(total_minor)), 0)


def check_redemption(points: int, total_minor: int, balance: int) -> int:
    """``points`` if the guest may use that many on the booking; :class:`NotEnoughPoints` beyond the balance,
    :class:`PointsOverLimit` beyond the booking's limit (or a negative number)."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise PointsOverLimit(points=points, limit=redeem_limit(total_minor))
    if points > balance:
        raise NotEnoughPoints(points=points, balance=balance)
    if points > redeem_limit(total_minor):
        raise PointsOverLimit(points=points, limit=redeem_limit(total_minor))
    return points


def reversal(earned: int, balance: int) -> int:
    """How many of ``earned`` points to take back now: all of them, or what the balance still holds (never below
    zero)."""
    return max(min(earned, balance), 0)


def referral_token_of(payload: str) -> str | None:
    """The token of a ``ref-…`` deep link payload; None for any other payload."""
    if not payload.startswith(REFERRAL_PREFIX):
        return None
    token = payload.removeprefix(REFERRAL_PREFIX)
    return token if token and len(token) <= 32 and token.isalnum() else None


def check_referral(user_id: int, referrer_id: int | None, joined_at: datetime, has_orders: bool, now: datetime) -> int:
    """The referrer for ``user_id`` opening a referral link; :class:`ReferralRefused` with its reason otherwise."""
    if referrer_id is None:
        raise ReferralRefused(reason=REFERRAL_UNKNOWN)
    if referrer_id == user_id:
        raise ReferralRefused(reason=REFERRAL_SELF)
    if has_orders or joined_at < now - NEW_GUEST_WINDOW:
        raise ReferralRefused(reason=REFERRAL_NOT_NEW)
    return referrer_id
