"""The operator's order changes on the in-memory fakes: every use case, its refusals, the audit entry, the outbox rows
and seats that are never oversold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import (
    HotelOutsideRegion,
    InvalidAmount,
    InvalidNote,
    InvalidQuantity,
    InvalidTransition,
    NoChange,
    NotFound,
    NothingOwed,
    PaidPriceUp,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import Hotel
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus, TicketStatus
from domain.model.payments import Payment
from domain.model.reminders import DueStatus
from domain.use_cases import order_changes as oc
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.payments import record_payment
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import ORGANISER_CHAT_ID, Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
ACTOR = "operator:4001"
ADULT = 4500
CHILD = 2500


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, TOURIST, language="de")
    return uow, seeded


async def awaiting(uow: FakeUnitOfWork, seeded: Seeded, adults: int = 2, session_id: int | None = None) -> Order:
    """A booking of the cruise waiting for the organiser."""
    return await place_order(
        uow,
        PlaceOrder(
            user_id=TOURIST,
            session_id=session_id or seeded.session_id,
            quantities={"adult": adults},
            answers={"pickup": "Hotel Viru", "lunch": "fish"},
        ),
        NOW,
    )


async def confirmed(uow: FakeUnitOfWork, seeded: Seeded, adults: int = 2) -> Order:
    order = await awaiting(uow, seeded, adults)
    return await oc.confirm_for_organiser(uow, order.id, ACTOR, NOW, payments_enabled=True)


async def paid(uow: FakeUnitOfWork, seeded: Seeded, adults: int = 2) -> Order:
    order = await confirmed(uow, seeded, adults)
    outcome = await record_payment(
        uow, order.id, TOURIST, "tg-1", "prov-1", order.total_minor, "EUR", NOW + timedelta(minutes=1)
    )
    assert outcome.order.payment is PaymentStatus.PAID
    return outcome.order


def stored(uow: FakeUnitOfWork, order: Order) -> Order:
    return uow.state.orders[order.id]


def sent(uow: FakeUnitOfWork, kind: OutboxKind) -> list:
    return [m for m in uow.state.outbox if m.kind is kind]


def audit(uow: FakeUnitOfWork, action: str) -> list:
    return [e for e in uow.state.audit if e.action == action]


def seats_left(uow: FakeUnitOfWork, session_id: int) -> int:
    return uow.state.sessions[session_id].seats_left


# ---- confirm / decline for the organiser ----------------------------------------------------------------------------


async def test_confirm_for_the_organiser_runs_the_organisers_path_and_tells_both(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded)
    done = await oc.confirm_for_organiser(uow, order.id, ACTOR, NOW, payments_enabled=True)
    assert (done.booking, done.payment) == (BookingStatus.CONFIRMED, PaymentStatus.AWAITING)
    assert stored(uow, order).pay_by == NOW + timedelta(minutes=30)
    assert [m.chat_id for m in sent(uow, OutboxKind.ORDER_CONFIRMED)] == [TOURIST]
    assert [m.chat_id for m in sent(uow, OutboxKind.INVOICE)] == [TOURIST]
    [told] = sent(uow, OutboxKind.ORGANISER_ORDER_CHANGED)
    assert (told.chat_id, told.payload["change"]) == (ORGANISER_CHAT_ID, oc.CONFIRMED)
    [entry] = audit(uow, "order.confirmed_for_organiser")
    assert entry.actor == ACTOR
    assert (entry.before["booking"], entry.after["booking"]) == ("awaiting_organiser", "confirmed")
    assert uow.state.reminders  # reminders before the session and the rating request
    with pytest.raises(InvalidTransition):
        await oc.confirm_for_organiser(uow, order.id, ACTOR, NOW, payments_enabled=True)
    assert len(sent(uow, OutboxKind.ORDER_CONFIRMED)) == 1


async def test_decline_for_the_organiser_frees_the_seats_and_gives_the_reason(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded, adults=3)
    assert seats_left(uow, seeded.session_id) == 17
    done = await oc.decline_for_organiser(uow, order.id, ACTOR, NOW, reason="  boat   broken ")
    assert done.booking is BookingStatus.DECLINED
    assert seats_left(uow, seeded.session_id) == 20
    [told] = sent(uow, OutboxKind.ORDER_DECLINED)
    assert told.payload["reason"] == "boat broken"
    assert audit(uow, "order.declined_for_organiser")[0].after["reason"] == "boat broken"
    with pytest.raises(InvalidTransition):
        await oc.decline_for_organiser(uow, order.id, ACTOR, NOW)
    assert seats_left(uow, seeded.session_id) == 20  # released once


async def test_unknown_orders_are_not_found(world) -> None:
    uow, _ = world
    with pytest.raises(NotFound):
        await oc.confirm_for_organiser(uow, 999, ACTOR, NOW, payments_enabled=False)
    with pytest.raises(NotFound):
        await oc.add_note(uow, 999, ACTOR, "hello", NOW)
    assert uow.state.audit == []


# ---- remind the tourist ----------------------------------------------------------------------------------------------


async def test_remind_the_tourist_to_pay_sends_a_nudge_and_a_fresh_invoice_each_time(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded)
    await oc.remind_tourist(uow, order.id, ACTOR, NOW + timedelta(minutes=40))
    await oc.remind_tourist(uow, order.id, ACTOR, NOW + timedelta(minutes=50))
    nudges = sent(uow, OutboxKind.TOURIST_NUDGE)
    assert [n.payload["what"] for n in nudges] == [oc.PAY, oc.PAY]
    assert len(sent(uow, OutboxKind.INVOICE)) == 3  # the first one and one per nudge
    assert len(audit(uow, "order.tourist_reminded")) == 2


async def test_remind_refuses_when_the_tourist_has_nothing_to_do(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded)
    with pytest.raises(InvalidTransition):
        await oc.remind_tourist(uow, order.id, ACTOR, NOW)
    assert sent(uow, OutboxKind.TOURIST_NUDGE) == []


# ---- cancel and refund -----------------------------------------------------------------------------------------------


async def test_cancel_a_paid_order_without_refund_leaves_refund_due_then_record_it(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    done = await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=False, reason="storm")
    assert (done.booking, done.payment, done.ticket) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUND_DUE,
        TicketStatus.VOIDED,
    )
    assert seats_left(uow, seeded.session_id) == 20
    assert oc.owed_minor(stored(uow, order)) == 2 * ADULT
    [told] = sent(uow, OutboxKind.ORDER_CHANGED)
    assert told.payload == {
        "order_id": order.id,
        "change": "cancelled",
        "reason": "storm",
        "refunded_minor": 0,
        "currency": "EUR",
    }
    assert sent(uow, OutboxKind.ORGANISER_ORDER_CHANGED)[-1].payload["change"] == oc.CANCELLED
    refunded = await oc.record_refund(uow, order.id, ACTOR, NOW)
    assert refunded.payment is PaymentStatus.REFUNDED
    assert (refunded.refunded_minor, oc.owed_minor(refunded)) == (2 * ADULT, 0)
    [money] = sent(uow, OutboxKind.ORDER_REFUNDED)
    assert money.payload["amount_minor"] == 2 * ADULT
    [entry] = audit(uow, "order.refund_recorded")
    assert (entry.before["payment"], entry.after["payment"]) == ("refund_due", "refunded")
    with pytest.raises(NothingOwed):
        await oc.record_refund(uow, order.id, ACTOR, NOW)


async def test_cancel_with_refund_records_it_in_the_same_transaction(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    done = await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=True)
    assert (done.booking, done.payment, done.refunded_minor) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUNDED,
        2 * ADULT,
    )
    assert [e.action for e in uow.state.audit[-2:]] == ["order.cancelled_by_operator", "order.refund_recorded"]
    [told] = sent(uow, OutboxKind.ORDER_CHANGED)
    assert told.payload["refunded_minor"] == 2 * ADULT
    assert sent(uow, OutboxKind.ORDER_REFUNDED) == []  # one message says both


async def test_cancel_an_unpaid_order_with_refund_just_cancels(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded)
    done = await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=True)
    assert (done.booking, done.payment, done.refunded_minor) == (BookingStatus.CANCELLED, PaymentStatus.NOT_DUE, 0)
    with pytest.raises(InvalidTransition):
        await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=False)
    assert seats_left(uow, seeded.session_id) == 20


async def test_cancel_refused_after_the_session_ended(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    later = uow.state.sessions[seeded.session_id].starts_at + timedelta(hours=4)
    with pytest.raises(InvalidTransition):
        await oc.cancel_order(uow, order.id, ACTOR, later, refund=True)
    assert stored(uow, order).booking is BookingStatus.CONFIRMED


async def test_a_partial_refund_of_a_refund_due_leaves_the_rest_owed(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=False)
    for bad in (0, -5, 2 * ADULT + 1):
        with pytest.raises(InvalidAmount):
            await oc.record_refund(uow, order.id, ACTOR, NOW, bad)
    part = await oc.record_refund(uow, order.id, ACTOR, NOW, 1000)
    assert part.payment is PaymentStatus.PARTIALLY_REFUNDED
    assert (part.refunded_minor, oc.owed_minor(part)) == (1000, 2 * ADULT - 1000)
    rest = await oc.record_refund(uow, order.id, ACTOR, NOW)
    assert rest.payment is PaymentStatus.REFUNDED
    assert (rest.refunded_minor, oc.owed_minor(rest)) == (2 * ADULT, 0)


async def test_stray_money_is_refunded_and_its_payments_marked(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    uow.state.payments.append(Payment(order.id, "tg-2", "prov-2", 2 * ADULT, "EUR", NOW, applied=False))
    uow.state.orders[order.id].stray_minor = 2 * ADULT
    done = await oc.record_refund(uow, order.id, ACTOR, NOW)
    assert (done.payment, done.stray_minor, done.refunded_minor) == (PaymentStatus.PAID, 0, 2 * ADULT)
    assert set(uow.state.refunded_payments) == {"tg-2"}  # the order's own payment is untouched


async def test_a_late_payment_on_a_cancelled_order_is_refunded_and_marked(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded)
    await oc.cancel_order(uow, order.id, ACTOR, NOW, refund=False)
    assert stored(uow, order).payment is PaymentStatus.NOT_DUE
    outcome = await record_payment(
        uow, order.id, TOURIST, "tg-late", "prov-late", order.total_minor, "EUR", NOW + timedelta(minutes=2)
    )
    assert outcome.order.payment is PaymentStatus.REFUND_DUE
    done = await oc.record_refund(uow, order.id, ACTOR, NOW + timedelta(minutes=3))
    assert (done.payment, oc.owed_minor(done), done.refunded_minor) == (PaymentStatus.REFUNDED, 0, 2 * ADULT)
    assert set(uow.state.refunded_payments) == {"tg-late"}


# ---- the ticket ------------------------------------------------------------------------------------------------------


async def test_reissue_the_ticket_voids_the_old_code_and_sends_the_new_one(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded)
    old = order.ticket_code
    done = await oc.reissue_ticket(uow, order.id, ACTOR, NOW)
    assert done.ticket_code and done.ticket_code != old
    assert done.ticket is TicketStatus.ISSUED
    tickets = sent(uow, OutboxKind.TICKET)
    assert len(tickets) == 2 and tickets[0].dedup_key != tickets[1].dedup_key  # the first ticket, then the new one
    [change] = sent(uow, OutboxKind.ORDER_CHANGED)
    assert change.payload["old_ticket_code"] == old
    [entry] = audit(uow, "order.ticket_reissued")
    assert (entry.before["ticket_code"], entry.after["ticket_code"]) == (old, done.ticket_code)


async def test_reissue_refused_without_an_issued_ticket(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded)
    with pytest.raises(InvalidTransition):
        await oc.reissue_ticket(uow, order.id, ACTOR, NOW)


# ---- another session -------------------------------------------------------------------------------------------------


async def test_change_session_moves_the_seats_keeps_the_ticket_and_moves_the_reminders(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded, adults=2)
    code = order.ticket_code
    done = await oc.change_session(uow, order.id, seeded.small_session_id, ACTOR, NOW)
    assert done.session_id == seeded.small_session_id and done.ticket_code == code
    assert (seats_left(uow, seeded.session_id), seats_left(uow, seeded.small_session_id)) == (20, 0)
    reminders = {r.kind: r.status for r in uow.state.reminders if r.order_id == order.id}
    assert all(
        status is DueStatus.SKIPPED for kind, status in reminders.items() if kind.endswith(f"@{seeded.session_id}")
    )
    assert any(
        kind.endswith(f"@{seeded.small_session_id}") and status is DueStatus.PENDING
        for kind, status in reminders.items()
    )
    [told] = sent(uow, OutboxKind.ORDER_CHANGED)
    assert told.payload["from_session_id"] == seeded.session_id
    assert sent(uow, OutboxKind.ORGANISER_ORDER_CHANGED)[-1].payload["change"] == oc.SESSION
    [entry] = audit(uow, "order.session_changed")
    assert (entry.before["session_id"], entry.after["session_id"]) == (seeded.session_id, seeded.small_session_id)


async def test_change_session_never_oversells_and_checks_the_target(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded, adults=3)
    with pytest.raises(SoldOut):
        await oc.change_session(uow, order.id, seeded.small_session_id, ACTOR, NOW)
    with pytest.raises(SessionNotBookable):
        await oc.change_session(uow, order.id, seeded.cancelled_session_id, ACTOR, NOW)
    with pytest.raises(SessionNotBookable):
        await oc.change_session(uow, order.id, seeded.past_session_id, ACTOR, NOW)
    with pytest.raises(NotFound):
        await oc.change_session(uow, order.id, seeded.instant_session_id, ACTOR, NOW)  # another event
    with pytest.raises(NoChange):
        await oc.change_session(uow, order.id, seeded.session_id, ACTOR, NOW)
    assert stored(uow, order).session_id == seeded.session_id
    assert (seats_left(uow, seeded.session_id), seats_left(uow, seeded.small_session_id)) == (17, 2)
    assert audit(uow, "order.session_changed") == []


# ---- quantities ------------------------------------------------------------------------------------------------------


async def test_quantities_of_an_unpaid_order_reprice_and_take_seats_with_a_fresh_invoice(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded, adults=2)
    done = await oc.change_quantities(uow, order.id, {"adult": 2, "child": 1}, ACTOR, NOW)
    assert done.total_minor == 2 * ADULT + CHILD and done.seats == 3
    assert seats_left(uow, seeded.session_id) == 17
    assert len(stored(uow, order).items) == 2
    assert len(sent(uow, OutboxKind.INVOICE)) == 2  # the first and the re-priced one
    [entry] = audit(uow, "order.quantities_changed")
    assert (entry.before["items"], entry.after["items"]) == ({"adult": 2}, {"adult": 2, "child": 1})
    assert sent(uow, OutboxKind.ORGANISER_ORDER_CHANGED)[-1].payload["change"] == oc.QUANTITIES


async def test_a_paid_order_only_gets_cheaper(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded, adults=3)
    with pytest.raises(PaidPriceUp):
        await oc.change_quantities(uow, order.id, {"adult": 4}, ACTOR, NOW)
    assert seats_left(uow, seeded.session_id) == 17
    done = await oc.change_quantities(uow, order.id, {"adult": 1, "child": 1}, ACTOR, NOW)
    assert done.total_minor == ADULT + CHILD
    assert done.partial_refund_minor == 3 * ADULT - (ADULT + CHILD)
    assert done.payment is PaymentStatus.PAID
    assert seats_left(uow, seeded.session_id) == 18
    assert oc.owed_minor(done) == done.partial_refund_minor
    refunded = await oc.record_refund(uow, order.id, ACTOR, NOW)
    assert (refunded.payment, refunded.partial_refund_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 0)


async def test_quantities_never_oversell_and_refuse_nonsense(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded, adults=1, session_id=seeded.small_session_id)
    with pytest.raises(SoldOut):
        await oc.change_quantities(uow, order.id, {"adult": 3}, ACTOR, NOW)
    for bad in ({"adult": 0}, {"dragon": 1}, {"adult": -1}, {"adult": 11}):
        with pytest.raises(InvalidQuantity):
            await oc.change_quantities(uow, order.id, bad, ACTOR, NOW)
    with pytest.raises(NoChange):
        await oc.change_quantities(uow, order.id, {"adult": 1}, ACTOR, NOW)
    assert seats_left(uow, seeded.small_session_id) == 1
    assert stored(uow, order).seats == 1
    done = await oc.change_quantities(uow, order.id, {"adult": 2}, ACTOR, NOW)
    assert done.seats == 2 and seats_left(uow, seeded.small_session_id) == 0


# ---- the hotel -------------------------------------------------------------------------------------------------------


async def test_a_partner_hotel_after_payment_makes_a_partial_refund_due(world) -> None:
    uow, seeded = world
    order = await paid(uow, seeded, adults=2)
    done = await oc.set_hotel(uow, order.id, seeded.hotel_id, ACTOR, NOW)
    assert (done.hotel_id, done.discount_percent) == (seeded.hotel_id, 10)
    assert done.total_minor == 8100 and done.partial_refund_minor == 900
    assert sent(uow, OutboxKind.ORDER_CHANGED)[-1].payload["refund_due_minor"] == 900
    with pytest.raises(PaidPriceUp):  # removing the discount would charge more after payment
        await oc.set_hotel(uow, order.id, None, ACTOR, NOW)
    [entry] = audit(uow, "order.hotel_set")
    assert (entry.before["total_minor"], entry.after["total_minor"]) == (9000, 8100)


async def test_an_unpaid_order_gets_the_new_price_and_a_fresh_invoice(world) -> None:
    uow, seeded = world
    order = await confirmed(uow, seeded, adults=2)
    await oc.set_hotel(uow, order.id, seeded.hotel_id, ACTOR, NOW)
    done = await oc.set_hotel(uow, order.id, None, ACTOR, NOW)
    assert (done.total_minor, done.partial_refund_minor, done.hotel_id) == (9000, 0, None)
    invoices = sent(uow, OutboxKind.INVOICE)
    assert len(invoices) == 3 and len({m.dedup_key for m in invoices}) == 3


async def test_a_hotel_outside_the_events_region_is_refused(world) -> None:
    uow, seeded = world
    uow.state.hotels[3] = Hotel(3, "tartu-inn", seeded.other_region_id, "Tartu Inn", 20)
    order = await confirmed(uow, seeded)
    with pytest.raises(HotelOutsideRegion):
        await oc.set_hotel(uow, order.id, 3, ACTOR, NOW)
    with pytest.raises(NotFound):
        await oc.set_hotel(uow, order.id, 99, ACTOR, NOW)
    assert stored(uow, order).hotel_id is None and stored(uow, order).total_minor == 9000


# ---- the note --------------------------------------------------------------------------------------------------------


async def test_a_note_is_audited_and_told_to_nobody(world) -> None:
    uow, seeded = world
    order = await awaiting(uow, seeded)
    before = list(uow.state.outbox)
    await oc.add_note(uow, order.id, ACTOR, "  called the tourist, will pay cash  ", NOW)
    [entry] = audit(uow, "order.note")
    assert (entry.actor, entry.after) == (ACTOR, {"note": "called the tourist, will pay cash"})
    assert uow.state.outbox == before
    for bad in ("   ", "x" * (oc.NOTE_MAX_LENGTH + 1)):
        with pytest.raises(InvalidNote):
            await oc.add_note(uow, order.id, ACTOR, bad, NOW)
    assert len(audit(uow, "order.note")) == 1
