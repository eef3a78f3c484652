"""Payments through the in-memory fakes: the invoice payload, ticket codes, the pre-checkout check and recording
a successful payment exactly once per charge."""

from __future__ import annotations

import copy
import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import ConcurrentChange, NotFound, NotPayable
from domain.model.catalog import SessionStatus
from domain.model.messages import OutboxKind
from domain.model.orders import (
    CODE_ALPHABET,
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
)
from domain.model.payments import (
    INVOICE_PAYLOAD_PREFIX,
    PaymentOutcome,
    PaymentResult,
    invoice_payload,
    new_ticket_code,
    normalize_ticket_code,
    parse_invoice_payload,
)
from domain.use_cases import payments
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.payments import check_payable, record_payment
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
OTHER = 43
WALK_ADULT = 1500


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, TOURIST, language="de")
    add_user(uow.state, OTHER)
    return uow, seeded


async def payable(uow: FakeUnitOfWork, seeded: Seeded, seats: int = 2, user_id: int = TOURIST) -> Order:
    """An instant booking with payments on: confirmed, awaiting payment for 30 minutes."""
    return await place_order(
        uow,
        PlaceOrder(
            user_id=user_id, session_id=seeded.instant_session_id, quantities={"adult": seats}, payments_enabled=True
        ),
        NOW,
    )


async def pay(uow: FakeUnitOfWork, order: Order, charge: str = "tg-1", **changes: Any) -> PaymentOutcome:
    values: dict[str, Any] = {
        "order_id": order.id,
        "user_id": TOURIST,
        "telegram_charge_id": charge,
        "provider_charge_id": f"prov-{charge}",
        "total_minor": order.total_minor,
        "currency": order.currency,
        "now": NOW + timedelta(minutes=5),
    }
    values.update(changes)
    return await record_payment(uow, **values)


def stored(uow: FakeUnitOfWork, order: Order) -> Order:
    return uow.state.orders[order.id]


def outbox_of(uow: FakeUnitOfWork, kind: OutboxKind) -> list:
    return [m for m in uow.state.outbox if m.kind is kind]


def set_order(uow: FakeUnitOfWork, order: Order, **changes: object) -> None:
    current = uow.state.orders[order.id]
    uow.state.orders[order.id] = dataclasses.replace(current, **changes)


# ---- the invoice payload ---------------------------------------------------------------------------------------


def test_the_payload_names_the_order_and_reads_back() -> None:
    assert invoice_payload(17) == f"{INVOICE_PAYLOAD_PREFIX}17" == "order:17"
    assert parse_invoice_payload(invoice_payload(17)) == 17
    assert len(invoice_payload(2**62).encode()) <= 128  # Telegram's 1-128 bytes


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "",
        "order:",
        "order:abc",
        "order:0",
        "order:-1",
        "order:1.5",
        "order: 1",
        "ticket:1",
        "order:１２",
        "order:" + "9" * 40,
        "ORDER:1",
    ],
)
def test_anything_else_is_not_a_payload(payload: str | None) -> None:
    assert parse_invoice_payload(payload) is None


# ---- ticket codes ----------------------------------------------------------------------------------------------


def test_a_ticket_code_is_unguessable_and_easy_to_read_aloud() -> None:
    codes = {new_ticket_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        prefix, *groups = code.split("-")
        assert prefix == "TKT" and [len(g) for g in groups] == [3, 3, 3]
        assert all(c in CODE_ALPHABET for c in "".join(groups))
        assert len(code) <= 16  # orders.ticket_code is String(16)
    assert math.log2(len(CODE_ALPHABET) ** 9) >= 40


@pytest.mark.parametrize("typed", ["TKT-7KM-4XP-9RA", "tkt 7km 4xp 9ra", "7KM-4XP-9RA", "7km4xp9ra", " TKT7KM4XP9RA "])
def test_a_ticket_code_is_accepted_however_it_is_typed(typed: str) -> None:
    assert normalize_ticket_code(typed) == "TKT-7KM-4XP-9RA"


@pytest.mark.parametrize("typed", ["", "TKT-7KM-4XP", "TKT-7KM-4XP-9RA-A", "TKT-0KM-4XP-9RA", "K7M-A4X"])
def test_what_cannot_be_a_ticket_code_is_refused(typed: str) -> None:
    assert normalize_ticket_code(typed) is None


async def test_a_ticket_code_already_taken_is_not_issued_twice(world, monkeypatch) -> None:
    uow, seeded = world
    first = await payable(uow, seeded)
    second = await payable(uow, seeded, user_id=OTHER)
    set_order(uow, first, ticket_code="TKT-AAA-AAA-AAA")
    drawn = iter(["TKT-AAA-AAA-AAA", "TKT-CCC-CCC-CCC"])
    monkeypatch.setattr(payments, "new_ticket_code", lambda: next(drawn))
    outcome = await pay(uow, second, user_id=OTHER)
    assert outcome.result is PaymentResult.APPLIED
    assert stored(uow, second).ticket_code == "TKT-CCC-CCC-CCC"


# ---- the pre-checkout check ------------------------------------------------------------------------------------


async def test_an_order_awaiting_payment_is_payable(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    await check_payable(uow, order.id, TOURIST, 2 * WALK_ADULT, "EUR", NOW + timedelta(minutes=29))
    assert uow.commits == 1  # only the booking: the check writes nothing


async def refused(
    uow: FakeUnitOfWork,
    order_id: int,
    user_id: int = TOURIST,
    total: int = 2 * WALK_ADULT,
    currency: str = "EUR",
    now: datetime = NOW,
) -> str:
    with pytest.raises(NotPayable) as error:
        await check_payable(uow, order_id, user_id, total, currency, now)
    return error.value.reason


async def test_the_check_refuses_with_a_reason(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    assert await refused(uow, 999) == "unknown"
    assert await refused(uow, order.id, user_id=OTHER) == "not_yours"
    assert await refused(uow, order.id, total=2 * WALK_ADULT - 1) == "amount"
    assert await refused(uow, order.id, currency="USD") == "amount"
    set_order(uow, order, pay_by=None)
    assert await refused(uow, order.id, now=NOW + timedelta(days=1)) == "session_started"


async def test_past_the_pay_deadline_the_invoice_is_good_until_the_grace_after_the_reminder_ends(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    late = NOW + timedelta(minutes=35)  # past pay_by (30 min), not yet reminded: the seats are still held
    await check_payable(uow, order.id, TOURIST, 2 * WALK_ADULT, "EUR", late)
    set_order(uow, order, pay_reminded_at=late, hold_until=late + timedelta(minutes=15))  # the reminder's grace
    await check_payable(uow, order.id, TOURIST, 2 * WALK_ADULT, "EUR", late + timedelta(minutes=14))
    assert await refused(uow, order.id, now=late + timedelta(minutes=15)) == "expired"


@pytest.mark.parametrize(
    ("booking", "payment", "reason"),
    [
        (BookingStatus.CONFIRMED, PaymentStatus.PAID, "already_paid"),
        (BookingStatus.CANCELLED, PaymentStatus.NOT_DUE, "cancelled"),
        (BookingStatus.DECLINED, PaymentStatus.NOT_DUE, "declined"),
        (BookingStatus.EXPIRED, PaymentStatus.AWAITING, "expired"),
        (BookingStatus.NO_SHOW, PaymentStatus.AWAITING, "session_started"),
        (BookingStatus.AWAITING_ORGANISER, PaymentStatus.NOT_DUE, "not_due"),
        (BookingStatus.CONFIRMED, PaymentStatus.ON_SITE, "not_due"),
    ],
)
async def test_an_order_in_another_state_is_not_payable(world, booking, payment, reason) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    set_order(uow, order, booking=booking, payment=payment)
    assert await refused(uow, order.id) == reason


async def test_a_cancelled_session_is_not_payable(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    session = uow.state.sessions[seeded.instant_session_id]
    uow.state.sessions[session.id] = dataclasses.replace(session, status=SessionStatus.CANCELLED)
    assert await refused(uow, order.id) == "cancelled"


# ---- recording a payment ---------------------------------------------------------------------------------------


async def test_a_payment_pays_the_order_and_issues_the_ticket(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    outcome = await pay(uow, order)
    assert outcome.result is PaymentResult.APPLIED and outcome.reason is None
    paid = stored(uow, order)
    assert (paid.booking, paid.payment, paid.ticket) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
        TicketStatus.ISSUED,
    )
    assert paid.paid_at == NOW + timedelta(minutes=5)
    assert normalize_ticket_code(paid.ticket_code) == paid.ticket_code
    [payment] = uow.state.payments
    assert (
        payment.order_id,
        payment.telegram_charge_id,
        payment.provider_charge_id,
        payment.amount_minor,
        payment.currency,
        payment.applied,
    ) == (order.id, "tg-1", "prov-tg-1", 3000, "EUR", True)
    [ticket] = outbox_of(uow, OutboxKind.TICKET)
    assert (ticket.chat_id, ticket.payload) == (TOURIST, {"order_id": order.id})
    assert paid.stray_minor == 0 and [m.kind for m in uow.state.outbox] == [
        OutboxKind.INVOICE,
        OutboxKind.TICKET,
        OutboxKind.TICKET_CALENDAR,  # the .ics after the ticket (no map pin: the event is not on the map)
    ]
    audit = uow.state.audit[-1]
    assert audit.action == "payment.received" and audit.actor == f"user:{TOURIST}"
    assert audit.before["payment"] == "awaiting" and audit.after["payment"] == "paid"


async def test_the_same_charge_again_changes_nothing_and_sends_nothing(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    first = await pay(uow, order)
    before, commits = copy.deepcopy(vars(uow.state)), uow.commits
    again = await pay(uow, order)
    assert again.result is PaymentResult.DUPLICATE
    assert again.payment is not None and again.payment.applied
    assert again.order.ticket_code == first.order.ticket_code
    assert vars(uow.state) == before and uow.commits == commits


async def test_a_second_payment_keeps_the_order_paid_and_is_due_back(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    await pay(uow, order, "tg-1")
    code = stored(uow, order).ticket_code
    outcome = await pay(uow, order, "tg-2")
    assert (outcome.result, outcome.reason) == (PaymentResult.NOT_APPLIED, "already_paid")
    paid = stored(uow, order)
    assert (paid.payment, paid.ticket, paid.ticket_code) == (PaymentStatus.PAID, TicketStatus.ISSUED, code)
    assert [p.applied for p in uow.state.payments] == [True, False]
    assert len(outbox_of(uow, OutboxKind.TICKET)) == 1  # no second ticket
    assert paid.stray_minor == 3000  # due back: the operator desk shows it as a late-payment problem
    audit = uow.state.audit[-1]
    assert audit.action == "payment.not_applied" and audit.after["reason"] == "already_paid"
    assert (await pay(uow, order, "tg-2")).result is PaymentResult.DUPLICATE
    assert stored(uow, order).stray_minor == 3000  # a retry of the same charge is not counted twice


@pytest.mark.parametrize(
    ("booking", "reason"),
    [(BookingStatus.EXPIRED, "expired"), (BookingStatus.CANCELLED, "cancelled"), (BookingStatus.DECLINED, "declined")],
)
async def test_money_for_a_booking_that_is_gone_becomes_refund_due(world, booking, reason) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    set_order(uow, order, booking=booking)
    outcome = await pay(uow, order)
    assert (outcome.result, outcome.reason) == (PaymentResult.NOT_APPLIED, reason)
    late = stored(uow, order)
    assert (late.booking, late.payment, late.ticket, late.ticket_code) == (
        booking,
        PaymentStatus.REFUND_DUE,
        TicketStatus.NONE,
        None,
    )
    [payment] = uow.state.payments
    assert not payment.applied
    assert outbox_of(uow, OutboxKind.TICKET) == []
    assert late.stray_minor == 0  # the whole refund due is this money
    assert uow.state.audit[-1].after["reason"] == reason
    # a second late payment for the same order is due back on top
    await pay(uow, order, "tg-again")
    assert stored(uow, order).stray_minor == order.total_minor


async def test_a_payment_after_the_tourist_cancelled_is_refund_due(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    await cancel_order(uow, TOURIST, order.id, NOW + timedelta(minutes=1))
    outcome = await pay(uow, order)
    assert outcome.reason == "cancelled"
    assert stored(uow, order).payment is PaymentStatus.REFUND_DUE


async def test_a_wrong_amount_leaves_the_order_awaiting(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    outcome = await pay(uow, order, total_minor=100)
    assert (outcome.result, outcome.reason) == (PaymentResult.NOT_APPLIED, "amount")
    assert stored(uow, order).payment is PaymentStatus.AWAITING
    assert stored(uow, order).stray_minor == 100
    assert [p.amount_minor for p in uow.state.payments] == [100]


async def test_someone_else_s_money_does_not_touch_the_order(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    outcome = await pay(uow, order, user_id=OTHER)
    assert (outcome.result, outcome.reason) == (PaymentResult.NOT_APPLIED, "not_yours")
    assert stored(uow, order).payment is PaymentStatus.AWAITING


async def test_money_arriving_just_after_the_deadline_still_pays_held_seats(world) -> None:
    """The deadline is enforced at pre-checkout; a payment approved before it that lands a moment later, while the
    seats are still held (the expiry job has not run), pays the order."""
    uow, seeded = world
    order = await payable(uow, seeded)
    outcome = await pay(uow, order, now=NOW + timedelta(minutes=31))
    assert outcome.result is PaymentResult.APPLIED


async def test_an_unknown_order_writes_nothing(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    before = copy.deepcopy(vars(uow.state))
    with pytest.raises(NotFound):
        await pay(uow, dataclasses.replace(order, id=999))
    assert vars(uow.state) == before


async def test_a_concurrent_change_of_the_order_is_decided_again(world, monkeypatch) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    save = uow.orders.save
    calls = []

    async def racing_save(changed: Order) -> None:
        calls.append(changed.payment)
        if len(calls) == 1:
            raise ConcurrentChange(order=changed.id)
        await save(changed)

    monkeypatch.setattr(uow.orders, "save", racing_save)
    outcome = await pay(uow, order)
    assert outcome.result is PaymentResult.APPLIED
    assert len(calls) == 2
    assert len(uow.state.payments) == 1 and len(outbox_of(uow, OutboxKind.TICKET)) == 1


async def test_an_issued_ticket_code_is_kept(world) -> None:
    """The code belongs to the order, not the session: one already on the order (e.g. moved to another session)
    stays."""
    uow, seeded = world
    order = await payable(uow, seeded)
    set_order(uow, order, ticket_code="TKT-AAA-CCC-DDD")
    await pay(uow, order)
    assert stored(uow, order).ticket_code == "TKT-AAA-CCC-DDD"
