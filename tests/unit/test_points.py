"""Loyalty points on the fakes (issue 15): the pure rules, earning on attended orders by the catalog's rule (once),
the referral bonus (once, both sides), points taken back (never below zero), and a hypothesis run of random sequences
of the real use cases (book with points, pay, cancel, refund, attend) after which the ledger adds up."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.model.orders import ENDINGS, BookingStatus, PaymentStatus
from domain.model.points import (
    NotEnoughPoints,
    PointsEntry,
    PointsOverLimit,
    PointsReason,
    PointsRule,
    Referral,
    ReferralRefused,
    check_redemption,
    check_referral,
    earned_points,
    referral_token_of,
    reversal,
    usable_points,
)
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.checkin import settle_attendances
from domain.use_cases.deadlines import expire_overdue, remind_unpaid
from domain.use_cases.order_changes import decline_for_organiser, record_refund
from domain.use_cases.payments import record_payment
from domain.use_cases.points import PAID, settle_points_in_tx
from tests.fake_points import ORGANISER, REGION
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
GUEST = 42
FRIEND = 43
GRANT = 3000
ANSWERS = {"pickup": "Viru", "lunch": "fish"}


def world(percent: int = 5, bonus: int = 500) -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, GUEST)
    add_user(uow.state, FRIEND)
    uow.state.points_rules[(REGION, seeded.region_id)] = PointsRule(percent, bonus)
    return uow, seeded


def grant(uow: FakeUnitOfWork, user_id: int, amount: int) -> None:
    uow.state.points_ledger.append(
        PointsEntry(user_id, amount, PointsReason.REFERRAL, NOW, friend_id=-len(uow.state.points_ledger) - 1)
    )


def balance(uow: FakeUnitOfWork, user_id: int) -> int:
    return sum(e.amount for e in uow.state.points_ledger if e.user_id == user_id)


def entries(uow: FakeUnitOfWork, user_id: int, reason: PointsReason) -> list[PointsEntry]:
    return [e for e in uow.state.points_ledger if e.user_id == user_id and e.reason is reason]


async def pay(uow: FakeUnitOfWork, order_id: int, now: datetime) -> None:
    order = uow.state.orders[order_id]
    await record_payment(
        uow, order_id, order.user_id or 0, f"tg-{order_id}", f"pr-{order_id}", order.total_minor, order.currency, now
    )


async def attend(uow: FakeUnitOfWork, session_id: int, now: datetime) -> None:
    """Every confirmed order of the session is checked in, then the attendance job runs (twice: idempotent)."""
    async with uow:
        for order in list(uow.state.orders.values()):
            if order.session_id == session_id and order.booking is BookingStatus.CONFIRMED:
                await uow.checkins.mark_checked_in(order.stored_id, now, "organiser:1")
        await uow.commit()
    await settle_attendances(uow, now)
    await settle_attendances(uow, now)


# ---- the rules -----------------------------------------------------------------------------------------------------


def test_the_pure_rules() -> None:
    assert earned_points(4999, 5) == 249 and earned_points(-10, 5) == 0
    assert usable_points(4500, 10_000) == 2250 and usable_points(4500, 100) == 100
    assert check_redemption(100, 4500, 100) == 100
    with pytest.raises(NotEnoughPoints):
        check_redemption(101, 4500, 100)
    with pytest.raises(PointsOverLimit):
        check_redemption(2251, 4500, 10_000)
    with pytest.raises(PointsOverLimit):
        check_redemption(-1, 4500, 10_000)
    assert reversal(300, 120) == 120 and reversal(300, -5) == 0 and reversal(300, 1000) == 300
    assert referral_token_of("ref-abc23") == "abc23" and referral_token_of("ev-kihnu") is None
    assert referral_token_of("ref-") is None and referral_token_of("ref-a/b") is None
    for args, reason in [
        ((1, None, NOW, False, NOW), "unknown"),
        ((1, 1, NOW, False, NOW), "self"),
        ((1, 2, NOW, True, NOW), "not_new"),
        ((1, 2, NOW - timedelta(days=2), False, NOW), "not_new"),
    ]:
        with pytest.raises(ReferralRefused) as refused:
            check_referral(*args)
        assert refused.value.data["reason"] == reason
    assert check_referral(1, 2, NOW - timedelta(hours=1), False, NOW) == 2


# ---- earning ---------------------------------------------------------------------------------------------------------


async def test_an_attended_order_earns_once_by_the_rule() -> None:
    uow, seeded = world(percent=5)
    order = await place_order(
        uow, PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 2}, payments_enabled=True), NOW
    )
    await pay(uow, order.stored_id, NOW)
    await attend(uow, seeded.instant_session_id, NOW + timedelta(days=2))
    [earned] = entries(uow, GUEST, PointsReason.EARNED)
    assert earned.amount == 3000 * 5 // 100 and earned.order_id == order.id
    assert uow.state.orders[order.stored_id].booking is BookingStatus.ATTENDED
    assert any(a.action == "order.attended" and a.after.get("points_earned") == 150 for a in uow.state.audit)


async def test_the_organisers_percentage_replaces_the_regions() -> None:
    uow, seeded = world(percent=5)
    organiser_id = uow.state.events[seeded.instant_event_id].organiser_id
    uow.state.points_rules[(ORGANISER, organiser_id)] = PointsRule(10, 0)
    order = await place_order(
        uow, PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 1}, payments_enabled=True), NOW
    )
    await pay(uow, order.stored_id, NOW)
    await attend(uow, seeded.instant_session_id, NOW + timedelta(days=2))
    assert [e.amount for e in entries(uow, GUEST, PointsReason.EARNED)] == [150]


async def test_a_no_show_or_an_unpaid_order_earns_nothing() -> None:
    uow, seeded = world()
    order = await place_order(
        uow, PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 1}, payments_enabled=True), NOW
    )
    await pay(uow, order.stored_id, NOW)
    await settle_attendances(uow, NOW + timedelta(days=2))  # nobody checked in: a no-show
    assert uow.state.orders[order.stored_id].booking is BookingStatus.NO_SHOW
    assert balance(uow, GUEST) == 0


async def test_a_referral_pays_both_once_after_the_first_attended_booking() -> None:
    uow, seeded = world(percent=0, bonus=500)
    uow.state.referrals[FRIEND] = Referral(FRIEND, "tok", referred_by=GUEST, linked_at=NOW)
    for day in (0, 1):  # two attended bookings
        order = await place_order(
            uow,
            PlaceOrder(FRIEND, seeded.instant_session_id, {"adult": 1}, payments_enabled=True, request_key=f"k{day}"),
            NOW,
        )
        await pay(uow, order.stored_id, NOW)
    await attend(uow, seeded.instant_session_id, NOW + timedelta(days=2))
    assert [(e.amount, e.friend_id) for e in entries(uow, FRIEND, PointsReason.REFERRAL)] == [(500, GUEST)]
    assert [(e.amount, e.friend_id) for e in entries(uow, GUEST, PointsReason.REFERRAL)] == [(500, FRIEND)]


async def test_earned_points_taken_back_never_make_the_balance_negative() -> None:
    uow, seeded = world(percent=10)
    order = await place_order(
        uow, PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 2}, payments_enabled=True), NOW
    )
    await pay(uow, order.stored_id, NOW)
    await attend(uow, seeded.instant_session_id, NOW + timedelta(days=2))
    assert balance(uow, GUEST) == 300
    grant(uow, GUEST, -250)  # spent 250 of them meanwhile
    refunded = dataclasses.replace(uow.state.orders[order.stored_id], payment=PaymentStatus.REFUNDED)
    for _ in range(2):
        async with uow:
            await settle_points_in_tx(uow, refunded, NOW + timedelta(days=3))
            await uow.commit()
    assert [e.amount for e in entries(uow, GUEST, PointsReason.REVERSED)] == [-50]
    assert balance(uow, GUEST) == 0


async def test_a_declined_or_expired_booking_gives_its_points_back_once() -> None:
    uow, seeded = world()
    grant(uow, GUEST, 2000)
    cruise = PlaceOrder(GUEST, seeded.session_id, {"adult": 1}, ANSWERS, request_key="a", points=1000)
    declined = await place_order(uow, cruise, NOW)
    assert balance(uow, GUEST) == 1000
    await decline_for_organiser(uow, declined.stored_id, "operator:1", NOW)
    assert balance(uow, GUEST) == 2000

    walk = PlaceOrder(
        GUEST, seeded.instant_session_id, {"adult": 2}, payments_enabled=True, request_key="b", points=500
    )
    expired = await place_order(uow, walk, NOW)
    assert balance(uow, GUEST) == 1500 and uow.state.orders[expired.stored_id].total_minor == 2500
    for hours in (1, 2, 3):  # past the pay deadline: reminded, then expired (the job runs again: nothing more)
        await remind_unpaid(uow, NOW + timedelta(hours=hours))
        await expire_overdue(uow, NOW + timedelta(hours=hours))
    assert uow.state.orders[expired.stored_id].booking is BookingStatus.EXPIRED
    assert balance(uow, GUEST) == 2000
    assert [e.amount for e in entries(uow, GUEST, PointsReason.RETURNED)] == [1000, 500]


# ---- the ledger adds up after any sequence of the real use cases -----------------------------------------------------

Step = tuple[str, int, int]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["book", "book", "pay", "cancel", "refund", "attend"]),
        st.integers(min_value=0, max_value=5),  # which order / which session
        st.sampled_from([0, 0, 100, 500, 750, 1500, 4000]),  # points asked for (some beyond the limit or balance)
    ),
    max_size=10,
)


async def _run(steps: list[Step]) -> None:
    uow, seeded = world(percent=5)
    grant(uow, GUEST, GRANT)
    base = uow.state.sessions[seeded.instant_session_id]
    sessions = [base.id]
    for day in (2, 4):
        extra = dataclasses.replace(base, id=100 + day, starts_at=base.starts_at + timedelta(days=day))
        uow.state.sessions[extra.id] = extra
        sessions.append(extra.id)
    now = NOW
    for number, (action, index, points) in enumerate(steps):
        orders = sorted(uow.state.orders)
        try:
            if action == "book":
                cmd = PlaceOrder(
                    GUEST,
                    sessions[index % 3],
                    {"adult": 1 + index % 2},
                    payments_enabled=True,
                    request_key=f"r{number}",
                    points=points,
                )
                await place_order(uow, cmd, now)
            elif orders and action == "pay":
                await pay(uow, orders[index % len(orders)], now)
            elif orders and action == "cancel":
                await cancel_order(uow, GUEST, orders[index % len(orders)], now)
            elif orders and action == "refund":
                await record_refund(uow, orders[index % len(orders)], "operator:1", now)
            elif action == "attend":
                now += timedelta(days=2)
                for session_id in sessions:
                    await attend(uow, session_id, now)
        except DomainError:
            pass  # refused (not enough points, nothing owed, not bookable any more...): nothing may have changed
        _check(uow)


def _check(uow: FakeUnitOfWork) -> None:
    ledger = uow.state.points_ledger
    assert balance(uow, GUEST) >= 0
    keys = Counter((e.order_id, e.reason) for e in ledger if e.order_id is not None)
    assert all(count == 1 for count in keys.values()), keys
    expected = GRANT
    for order in uow.state.orders.values():
        expected -= order.points_used
        if order.booking in ENDINGS:
            expected += order.points_used
        if order.booking is BookingStatus.ATTENDED and order.payment in PAID:
            expected += earned_points(order.total_minor, 5)
        assert order.total_minor == order.subtotal_minor - order.points_used - order.code_discount_minor
        assert order.points_used <= order.subtotal_minor // 2
        redeemed = [e for e in ledger if e.order_id == order.id and e.reason is PointsReason.REDEEMED]
        assert [e.amount for e in redeemed] == ([-order.points_used] if order.points_used else [])
    assert balance(uow, GUEST) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_the_ledger_adds_up_after_any_sequence(steps: list[Step]) -> None:
    asyncio.run(_run(steps))
