"""Use cases of loyalty points (issue 15): the checkout's price with a discount code and points, earning on an
attended order, giving points back when a booking ends, the guest's balance and history, and referrals.

Every movement is a ledger entry written in the transaction of the change it belongs to; the ledger's unique keys
make each one happen once (an order earns once, is reversed once, gets its points back once), so calling these
again changes nothing. The rules are in :mod:`domain.model.points`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import ConcurrentChange
from domain.model.catalog import Event
from domain.model.discount_codes import CodeAlreadyUsed, DiscountCode, check_code, normalize_code
from domain.model.orders import ENDINGS, MONEY_HELD, BookingStatus, Order, PaymentStatus
from domain.model.points import (
    HISTORY_LIMIT,
    REFERRAL_ALREADY,
    PointsEntry,
    PointsReason,
    Referral,
    ReferralRefused,
    check_referral,
    earned_points,
    new_referral_token,
    reversal,
)
from domain.ports import UnitOfWork
from domain.rules.checkout import Checkout, price_checkout
from domain.rules.pricing import Quote

_TOKEN_ATTEMPTS = 20
MONEY_WENT_BACK = frozenset({PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED})
PAID = MONEY_HELD | {PaymentStatus.ON_SITE}  # paid in chat, or at the meeting point (attended: they paid there)


# ---- checkout ------------------------------------------------------------------------------------------------------


async def _checked_code(uow: UnitOfWork, user_id: int, event: Event, text: str, now: datetime) -> DiscountCode:
    code = await uow.discount_codes.get(normalize_code(text))
    used = code is not None and await uow.discount_codes.uses_by(code.code, user_id) > 0
    return check_code(code, now=now, event_id=event.id, used_by_guest=used)


async def checkout_in_tx(
    uow: UnitOfWork, user_id: int, event: Event, quote: Quote, code: str | None, points: int, now: datetime
) -> Checkout:
    """Inside the caller's transaction: the price of ``quote`` with the code (checked: a code error such as
    ``code_expired``) and ``points`` (checked against the balance, locked until the commit, and the limit). Without
    a code and points it reads nothing."""
    discount = await _checked_code(uow, user_id, event, code, now) if code else None
    balance = await uow.points.balance(user_id, lock=True) if points else 0
    return price_checkout(quote, discount, points, balance)


async def price_booking(
    uow: UnitOfWork, user_id: int, event: Event, quote: Quote, code: str | None, points: int, now: datetime
) -> Checkout:
    """The booking summary's price with the guest's balance (reads only): the code's and the points' errors as
    :func:`checkout_in_tx` raises them."""
    async with uow.read():
        discount = await _checked_code(uow, user_id, event, code, now) if code else None
        balance = await uow.points.balance(user_id)
    return price_checkout(quote, discount, points, balance)


async def record_checkout_in_tx(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The stored order's use of its code and its points, in the order's transaction: the code's use is taken
    atomically (:class:`CodeAlreadyUsed` when a concurrent booking took the guest's use or the last one), the points
    are a ``redeemed`` entry."""
    if order.user_id is None:
        return
    code = order.discount_code
    if code and not await uow.discount_codes.record_use(code, order.user_id, order.stored_id, now):
        raise CodeAlreadyUsed(code=code)
    if order.points_used:
        entry = PointsEntry(order.user_id, -order.points_used, PointsReason.REDEEMED, now, order.stored_id)
        if not await uow.points.add(entry):
            raise ConcurrentChange(order=order.id)  # a new order has no entries: never, short of a bug


# ---- the order's points follow its fate ----------------------------------------------------------------------------


async def earn_points_in_tx(uow: UnitOfWork, order: Order, event: Event, now: datetime) -> int:
    """The attended order earns its points (once), by the catalog's rule, on the amount paid (in chat, or at the
    meeting point); the guest's first attended booking also pays a referral's bonus to them and their referrer
    (once). The points earned now (0: nothing, or earned before)."""
    if order.user_id is None or order.booking is not BookingStatus.ATTENDED or order.payment not in PAID:
        return 0
    rule = await uow.points.rule(event.region_id, event.organiser_id)
    points = earned_points(order.total_minor, rule.earn_percent)
    earned = points > 0 and await uow.points.add(
        PointsEntry(order.user_id, points, PointsReason.EARNED, now, order.stored_id)
    )
    referral = await uow.points.referral(order.user_id)
    if rule.referral_bonus > 0 and referral is not None and referral.referred_by is not None:
        friend = referral.referred_by
        bonus = PointsReason.REFERRAL
        if await uow.points.add(PointsEntry(order.user_id, rule.referral_bonus, bonus, now, friend_id=friend)):
            await uow.points.add(PointsEntry(friend, rule.referral_bonus, bonus, now, friend_id=order.user_id))
    return points if earned else 0


async def settle_points_in_tx(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """After any change of ``order`` (:func:`domain.use_cases.support.audit_order` calls this, in the change's
    transaction): a booking that ended before its session gives back the points it used and its code's use (once);
    an attended order whose money went back loses the points it earned (once; as far as the balance goes)."""
    if order.user_id is None or order.id is None:
        return
    if order.booking in ENDINGS:
        if order.points_used:
            entry = PointsEntry(order.user_id, order.points_used, PointsReason.RETURNED, now, order.id)
            await uow.points.add(entry)
        if order.discount_code:
            await uow.discount_codes.release_use(order.discount_code, order.id)
    elif order.booking is BookingStatus.ATTENDED and order.payment in MONEY_WENT_BACK:
        earned = await uow.points.of_order(order.id, PointsReason.EARNED)
        if earned is not None and await uow.points.of_order(order.id, PointsReason.REVERSED) is None:
            taken = reversal(earned.amount, await uow.points.balance(order.user_id, lock=True))
            await uow.points.add(PointsEntry(order.user_id, -taken, PointsReason.REVERSED, now, order.id))


# ---- the guest's points --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsOverview:
    balance: int
    history: Sequence[PointsEntry]
    token: str  # their referral link's
    order_codes: dict[int, str]  # the orders the history names: id -> code
    currency: str | None  # of their latest booking: what their points are worth in (None: no booking yet)
    timezone: str | None  # of the region they browse (else of their latest booking's)


async def points_overview(uow: UnitOfWork, user_id: int, limit: int = HISTORY_LIMIT) -> PointsOverview:
    """The guest's balance, latest movements and referral link (its token made on the first look)."""
    async with uow:
        referral = await uow.points.referral(user_id)
        if referral is None:
            referral = await _new_referral(uow, user_id)
            await uow.commit()
    async with uow.read():
        history = await uow.points.history(user_id, limit)
        codes: dict[int, str] = {}
        for order_id in {e.order_id for e in history if e.order_id is not None}:
            if (order := await uow.orders.get(order_id)) is not None:
                codes[order_id] = order.code
        latest, _count = await uow.orders.for_user(user_id, 0, 1)
        user = await uow.users.get(user_id)
        region_id = user.region_id if user else None
        if region_id is None and latest and (event := await uow.catalog.event(latest[0].event_id)) is not None:
            region_id = event.region_id  # the region of their latest booking
        region = await uow.catalog.region(region_id) if region_id else None
        return PointsOverview(
            balance=await uow.points.balance(user_id),
            history=history,
            token=referral.token,
            order_codes=codes,
            currency=latest[0].currency if latest else None,
            timezone=region.timezone if region else None,
        )


async def _new_referral(
    uow: UnitOfWork, user_id: int, referred_by: int | None = None, now: datetime | None = None
) -> Referral:
    for _ in range(_TOKEN_ATTEMPTS):
        referral = Referral(user_id, new_referral_token(), referred_by, now if referred_by else None)
        if await uow.points.add_referral(referral):
            return referral
        if (mine := await uow.points.referral(user_id)) is not None:
            return mine  # made meanwhile (another screen of theirs)
    raise RuntimeError("could not find a free referral token")  # 30**10 tokens: practically never


async def join_by_referral(uow: UnitOfWork, user_id: int, token: str, now: datetime) -> int:
    """A guest opened ``token``'s referral link: a new guest (joined within a day, no bookings) is linked to its
    owner, once; the referrer's id. :class:`ReferralRefused` (reason ``unknown``, ``self``, ``not_new``,
    ``already``) otherwise, and nothing changes."""
    async with uow:
        owner = await uow.points.by_token(token)
        guest = await uow.users.get(user_id)
        if guest is None:
            raise ReferralRefused(reason=REFERRAL_ALREADY)
        mine = await uow.points.referral(user_id)
        if mine is not None and mine.referred_by is not None:
            raise ReferralRefused(reason=REFERRAL_ALREADY, referred_by=mine.referred_by)
        _orders, count = await uow.orders.for_user(user_id, 0, 1)
        referrer = check_referral(user_id, owner.user_id if owner else None, guest.created_at, count > 0, now)
        if mine is None:
            mine = await _new_referral(uow, user_id, referrer, now)
        if mine.referred_by != referrer and not await uow.points.link(user_id, referrer, now):
            raise ReferralRefused(reason=REFERRAL_ALREADY)
        await uow.commit()
    return referrer
