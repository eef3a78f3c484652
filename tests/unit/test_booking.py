"""Booking use cases through the in-memory fakes: place_order and cancel_order."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import (
    ConcurrentChange,
    InvalidAnswer,
    InvalidQuantity,
    InvalidTransition,
    NotAllowed,
    NotFound,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import BOOKING_CUTOFF, Choice, Hotel, Question, QuestionKind
from domain.model.messages import OutboxKind, OutboxMessage
from domain.model.orders import (
    CODE_ALPHABET,
    BookingStatus,
    PaymentStatus,
    TicketStatus,
)
from domain.use_cases import booking
from domain.use_cases.booking import PlaceOrder, cancel_order, check_answer, place_order
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}
TOURIST = 42
OTHER = 43


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, TOURIST, language="ru")
    add_user(uow.state, OTHER)
    return uow, seeded


def seats_left(uow: FakeUnitOfWork, session_id: int) -> int:
    return uow.state.sessions[session_id].seats_left


def saved(uow: FakeUnitOfWork) -> dict[str, Any]:
    return copy.deepcopy(vars(uow.state))


def cruise(seeded: Seeded, user_id: int = TOURIST, **changes: Any) -> PlaceOrder:
    values: dict[str, Any] = {
        "user_id": user_id,
        "session_id": seeded.session_id,
        "quantities": {"adult": 2, "child": 1},
        "answers": ANSWERS,
    }
    values.update(changes)
    return PlaceOrder(**values)


def walk(seeded: Seeded, user_id: int = TOURIST, **changes: Any) -> PlaceOrder:
    values: dict[str, Any] = {"user_id": user_id, "session_id": seeded.instant_session_id, "quantities": {"adult": 2}}
    values.update(changes)
    return PlaceOrder(**values)


# ---- place_order ------------------------------------------------------------------------------------------------


async def test_an_event_needing_confirmation_awaits_the_organiser(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)

    assert uow.committed
    assert order.id is not None
    assert len(order.code) == 6 and set(order.code) <= set(CODE_ALPHABET)
    assert (order.booking, order.payment, order.ticket) == (
        BookingStatus.AWAITING_ORGANISER,
        PaymentStatus.NOT_DUE,
        TicketStatus.NONE,
    )
    assert order.confirm_by == NOW + timedelta(minutes=10)
    assert order.pay_by is None
    assert order.hold_until == NOW + timedelta(minutes=15)
    assert (order.subtotal_minor, order.discount_percent, order.total_minor) == (11500, 0, 11500)
    assert order.seats == 3
    assert order.answers == ANSWERS
    assert order.language == "ru"
    assert (order.user_id, order.session_id, order.event_id) == (TOURIST, seeded.session_id, seeded.event_id)
    assert uow.state.orders[order.id] == order
    assert seats_left(uow, seeded.session_id) == 17

    assert uow.state.outbox == [
        OutboxMessage(
            kind=OutboxKind.BOOKING_REQUEST,
            chat_id=700001,
            payload={"order_id": order.id},
            due_at=NOW,
            dedup_key=f"organiser.booking_request:{order.id}",
        )
    ]
    [entry] = uow.state.audit
    assert (entry.action, entry.actor, entry.order_id, entry.at) == ("order.placed", "tourist", order.id, NOW)
    assert entry.after == {"booking": "awaiting_organiser", "payment": "not_due", "ticket": "none"}


async def test_an_instant_event_without_payments_is_paid_on_site(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded), NOW)

    assert uow.committed
    assert (order.booking, order.payment) == (BookingStatus.CONFIRMED, PaymentStatus.ON_SITE)
    assert order.confirm_by is None and order.pay_by is None
    assert order.total_minor == 3000
    assert seats_left(uow, seeded.instant_session_id) == 8
    # no organiser confirmation needed; the tourist's confirmation carries the check-in QR (their ticket), once
    [confirmed] = uow.state.outbox
    assert (confirmed.kind, confirmed.chat_id) == (OutboxKind.ORDER_CONFIRMED, order.user_id)
    assert confirmed.dedup_key == f"{OutboxKind.ORDER_CONFIRMED.value}:{order.stored_id}"
    assert [e.action for e in uow.state.audit] == ["order.placed"]


async def test_an_instant_event_with_payments_awaits_payment(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded, payments_enabled=True), NOW)

    assert (order.booking, order.payment) == (BookingStatus.CONFIRMED, PaymentStatus.AWAITING)
    assert order.pay_by == NOW + timedelta(minutes=30)
    assert order.confirm_by is None
    [invoice] = uow.state.outbox  # the tourist is asked to pay; no organiser is involved
    assert (invoice.kind, invoice.chat_id, invoice.payload) == (
        OutboxKind.INVOICE,
        order.user_id,
        {"order_id": order.id},
    )


async def test_payments_enabled_does_not_skip_the_organiser(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded, payments_enabled=True), NOW)
    assert (order.booking, order.payment, order.pay_by) == (
        BookingStatus.AWAITING_ORGANISER,
        PaymentStatus.NOT_DUE,
        None,
    )


async def test_the_user_the_update_already_read_is_not_read_again(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    known = uow.state.users[TOURIST]
    reads: list[int] = []
    original = uow.users.get

    async def counted(user_id: int):  # type: ignore[no-untyped-def]
        reads.append(user_id)
        return await original(user_id)

    uow.users.get = counted  # type: ignore[method-assign]
    order = await place_order(uow, cruise(seeded, user=known), NOW)
    assert reads == [] and order.language == "ru"
    someone_else = uow.state.users[OTHER]
    await place_order(uow, walk(seeded, user=someone_else), NOW)  # not this command's user: read as usual
    assert reads == [TOURIST]


async def test_partner_hotel_discount_in_the_same_region(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, 100, hotel_id=seeded.hotel_id)
    order = await place_order(uow, cruise(seeded, user_id=100, quantities={"adult": 1}), NOW)
    assert (order.subtotal_minor, order.discount_percent, order.total_minor) == (4500, 10, 4050)
    assert order.hotel_id == seeded.hotel_id


async def test_no_discount_from_a_hotel_in_another_region(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    uow.state.hotels[3] = Hotel(3, "tartu-inn", seeded.other_region_id, "Tartu Inn", 20)
    add_user(uow.state, 100, hotel_id=3)
    order = await place_order(uow, cruise(seeded, user_id=100, quantities={"adult": 1}), NOW)
    assert (order.discount_percent, order.total_minor) == (0, 4500)


async def test_no_discount_from_a_hotel_without_one(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, 100, hotel_id=seeded.plain_hotel_id)
    order = await place_order(uow, cruise(seeded, user_id=100, quantities={"adult": 1}), NOW)
    assert (order.discount_percent, order.total_minor) == (0, 4500)


async def test_answers_are_cleaned(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded, answers={"pickup": "  Pier \n 3 ", "lunch": " veg "}), NOW)
    assert order.answers == {"pickup": "Pier 3", "lunch": "veg"}


async def test_an_event_without_questions_needs_no_answers(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded), NOW)
    assert order.answers == {}


@pytest.mark.parametrize(
    ("answers", "question", "reason"),
    [
        ({"lunch": "fish"}, "pickup", "empty"),
        ({"pickup": "   ", "lunch": "fish"}, "pickup", "empty"),
        ({"pickup": "x" * 201, "lunch": "fish"}, "pickup", "too_long"),
        ({"pickup": "Pier 3", "lunch": "meat"}, "lunch", "unknown_choice"),
        ({"pickup": "Pier 3", "lunch": "Fish"}, "lunch", "unknown_choice"),
        ({"pickup": "Pier 3"}, "lunch", "unknown_choice"),
        ({"pickup": "Pier 3", "lunch": "fish", "shoe_size": "44"}, "shoe_size", "unknown_question"),
    ],
)
async def test_invalid_answers_are_refused_and_nothing_is_written(
    world: tuple[FakeUnitOfWork, Seeded], answers: dict[str, str], question: str, reason: str
) -> None:
    uow, seeded = world
    before = saved(uow)
    with pytest.raises(InvalidAnswer) as raised:
        await place_order(uow, cruise(seeded, answers=answers), NOW)
    assert raised.value.data["question"] == question
    assert raised.value.data["reason"] == reason
    assert not uow.committed
    assert saved(uow) == before


async def test_an_answer_of_exactly_the_limit_is_kept(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded, answers={"pickup": "x" * 200, "lunch": "fish"}), NOW)
    assert order.answers["pickup"] == "x" * 200


def test_too_long_reports_the_limit() -> None:
    question = Question(id="pickup", text={"en": "?"}, max_length=6)
    with pytest.raises(InvalidAnswer) as raised:
        check_answer(question, "abcdefg")
    assert raised.value.data == {"question": "pickup", "reason": "too_long", "limit": 6}
    assert check_answer(question, " abc \n  de ") == "abc de"  # whitespace collapsed before measuring


def test_an_optional_text_question_may_stay_empty() -> None:
    question = Question(id="notes", text={"en": "?"}, required=False)
    assert check_answer(question, "  ") == ""


def test_an_optional_choice_question_may_stay_empty() -> None:
    question = Question(
        id="lunch",
        text={"en": "?"},
        kind=QuestionKind.CHOICE,
        required=False,
        choices=(Choice("fish", {"en": "Fish"}),),
    )
    assert check_answer(question, "") == ""


async def test_sold_out_names_what_is_left_and_writes_nothing(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    before = saved(uow)
    with pytest.raises(SoldOut) as raised:
        await place_order(uow, cruise(seeded, session_id=seeded.small_session_id), NOW)
    assert raised.value.data == {"left": 2, "wanted": 3}
    assert not uow.committed
    assert saved(uow) == before

    await place_order(uow, cruise(seeded, session_id=seeded.small_session_id, quantities={"adult": 2}), NOW)
    assert seats_left(uow, seeded.small_session_id) == 0
    before = saved(uow)
    with pytest.raises(SoldOut) as raised:
        await place_order(
            uow, cruise(seeded, user_id=OTHER, session_id=seeded.small_session_id, quantities={"child": 1}), NOW
        )
    assert raised.value.data == {"left": 0, "wanted": 1}
    assert saved(uow) == before


@pytest.mark.parametrize("which", ["past_session_id", "cancelled_session_id"])
async def test_past_and_cancelled_sessions_are_not_bookable(world: tuple[FakeUnitOfWork, Seeded], which: str) -> None:
    uow, seeded = world
    before = saved(uow)
    with pytest.raises(SessionNotBookable):
        await place_order(uow, cruise(seeded, session_id=getattr(seeded, which)), NOW)
    assert saved(uow) == before


async def test_bookings_close_five_minutes_before_the_start(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    starts = uow.state.sessions[seeded.session_id].starts_at
    assert timedelta(minutes=5) == BOOKING_CUTOFF
    for now in (starts - BOOKING_CUTOFF, starts - timedelta(minutes=1), starts):
        with pytest.raises(SessionNotBookable):
            await place_order(uow, cruise(seeded), now)
    order = await place_order(uow, cruise(seeded), starts - BOOKING_CUTOFF - timedelta(seconds=1))
    assert order.booking is BookingStatus.AWAITING_ORGANISER


@pytest.mark.parametrize("quantities", [{}, {"adult": 0}, {"adult": -1}, {"senior": 1}, {"adult": 11}])
async def test_invalid_quantities_are_refused(world: tuple[FakeUnitOfWork, Seeded], quantities: dict) -> None:
    uow, seeded = world
    before = saved(uow)
    with pytest.raises(InvalidQuantity):
        await place_order(uow, cruise(seeded, quantities=quantities), NOW)
    assert saved(uow) == before


async def test_unknown_session_or_user_is_not_found(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    with pytest.raises(NotFound):
        await place_order(uow, cruise(seeded, session_id=999), NOW)
    with pytest.raises(NotFound):
        await place_order(uow, cruise(seeded, user_id=999), NOW)
    assert uow.state.orders == {}


async def test_a_taken_code_is_never_reused(
    world: tuple[FakeUnitOfWork, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, seeded = world
    codes = iter(["AAAAAA", "AAAAAA", "CCCCCC"])
    monkeypatch.setattr(booking, "new_order_code", lambda: next(codes))
    first = await place_order(uow, walk(seeded, quantities={"adult": 1}), NOW)
    second = await place_order(uow, walk(seeded, quantities={"adult": 1}), NOW)
    assert (first.code, second.code) == ("AAAAAA", "CCCCCC")


async def test_giving_up_on_codes_rolls_back(
    world: tuple[FakeUnitOfWork, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, seeded = world
    monkeypatch.setattr(booking, "new_order_code", lambda: "AAAAAA")
    await place_order(uow, walk(seeded, quantities={"adult": 1}), NOW)
    before = saved(uow)
    with pytest.raises(RuntimeError):
        await place_order(uow, walk(seeded, quantities={"adult": 1}), NOW)
    assert saved(uow) == before  # the seat taken before the failure went back


async def test_a_repeated_confirm_returns_the_same_order(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    first = await place_order(uow, cruise(seeded, request_key="screen-1"), NOW)
    before = saved(uow)
    again = await place_order(uow, cruise(seeded, request_key="screen-1"), NOW + timedelta(seconds=2))
    assert (again.id, again.code, again.request_key) == (first.id, first.code, "screen-1")
    assert saved(uow) == before  # no more seats, no second outbox row or audit entry
    assert seats_left(uow, seeded.session_id) == 17
    other = await place_order(uow, cruise(seeded, request_key="screen-2"), NOW)
    assert other.id != first.id
    assert seats_left(uow, seeded.session_id) == 14


async def test_a_repeated_confirm_after_the_cutoff_still_returns_the_order(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    """The order goes in before any look-up; a repeat that the checks refuse (the session closed for booking
    meanwhile) is answered with the order its screen placed, not with the refusal."""
    uow, seeded = world
    first = await place_order(uow, cruise(seeded, request_key="screen-1"), NOW)
    starts = uow.state.sessions[seeded.session_id].starts_at
    again = await place_order(uow, cruise(seeded, request_key="screen-1"), starts - BOOKING_CUTOFF)
    assert again.id == first.id
    with pytest.raises(SessionNotBookable):
        await place_order(uow, cruise(seeded, request_key="screen-2"), starts - BOOKING_CUTOFF)


async def test_someone_elses_request_key_is_not_allowed(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    await place_order(uow, cruise(seeded, request_key="screen-1"), NOW)
    before = saved(uow)
    with pytest.raises(NotAllowed):
        await place_order(uow, cruise(seeded, user_id=OTHER, request_key="screen-1"), NOW)
    assert saved(uow) == before


# ---- cancel_order -----------------------------------------------------------------------------------------------


async def test_the_tourist_cancels_an_unpaid_order(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)
    later = NOW + timedelta(minutes=3)

    cancelled = await cancel_order(uow, TOURIST, order.id, later)

    assert uow.committed
    assert (cancelled.booking, cancelled.payment) == (BookingStatus.CANCELLED, PaymentStatus.NOT_DUE)
    assert cancelled.cancelled_at == later
    assert uow.state.orders[order.id] == cancelled
    assert uow.state.orders[order.id].version == 1
    assert seats_left(uow, seeded.session_id) == 20
    assert uow.state.outbox[-1] == OutboxMessage(
        kind=OutboxKind.BOOKING_CANCELLED,
        chat_id=700001,
        payload={"order_id": order.id},
        due_at=later,
        dedup_key=f"organiser.booking_cancelled:{order.id}",
    )
    entry = uow.state.audit[-1]
    assert (entry.action, entry.order_id, entry.at) == ("order.cancelled_by_tourist", order.id, later)
    assert entry.before == {"booking": "awaiting_organiser", "payment": "not_due", "ticket": "none"}
    assert entry.after == {"booking": "cancelled", "payment": "not_due", "ticket": "none"}


async def test_a_paid_order_cancelled_becomes_refund_due(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)
    stored = uow.state.orders[order.id]
    stored.booking, stored.payment, stored.ticket = BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED

    cancelled = await cancel_order(uow, TOURIST, order.id, NOW)

    assert (cancelled.booking, cancelled.payment, cancelled.ticket) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUND_DUE,
        TicketStatus.VOIDED,
    )
    assert cancelled.total_minor == 11500
    assert seats_left(uow, seeded.session_id) == 20


async def test_cancelling_an_instant_order_tells_no_organiser(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded), NOW)
    await cancel_order(uow, TOURIST, order.id, NOW)
    assert [m.kind for m in uow.state.outbox] == [OutboxKind.ORDER_CONFIRMED]  # the tourist's own, from booking
    assert seats_left(uow, seeded.instant_session_id) == 10
    assert [e.action for e in uow.state.audit] == ["order.placed", "order.cancelled_by_tourist"]


@pytest.mark.parametrize("order_id", ["foreign", 999])
async def test_someone_elses_order_is_not_allowed(world: tuple[FakeUnitOfWork, Seeded], order_id: Any) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)
    before = saved(uow)
    with pytest.raises(NotAllowed):
        await cancel_order(uow, OTHER, order.id if order_id == "foreign" else order_id, NOW)
    assert not uow.committed
    assert saved(uow) == before


async def test_cancelling_twice_is_an_invalid_transition(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)
    await cancel_order(uow, TOURIST, order.id, NOW)
    before = saved(uow)
    with pytest.raises(InvalidTransition):
        await cancel_order(uow, TOURIST, order.id, NOW)
    assert saved(uow) == before
    assert seats_left(uow, seeded.session_id) == 20  # released once, not twice


async def test_no_cancelling_after_the_start(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, cruise(seeded), NOW)
    starts = uow.state.sessions[seeded.session_id].starts_at
    before = saved(uow)
    with pytest.raises(InvalidTransition):
        await cancel_order(uow, TOURIST, order.id, starts)
    assert saved(uow) == before


async def test_seats_released_by_a_cancel_can_be_booked_again(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    small = seeded.small_session_id
    order = await place_order(uow, cruise(seeded, session_id=small, quantities={"adult": 2}), NOW)
    with pytest.raises(SoldOut):
        await place_order(uow, cruise(seeded, user_id=OTHER, session_id=small, quantities={"adult": 1}), NOW)
    await cancel_order(uow, TOURIST, order.id, NOW)
    again = await place_order(uow, cruise(seeded, user_id=OTHER, session_id=small, quantities={"adult": 2}), NOW)
    assert again.user_id == OTHER
    assert seats_left(uow, small) == 0


# ---- the fakes keep the contracts the tests above rely on ------------------------------------------------------


async def test_fake_unit_of_work_rolls_back_unless_committed(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    async with uow:
        assert await uow.seats.reserve(seeded.session_id, 5)
        await uow.outbox.add(OutboxMessage(OutboxKind.BOOKING_REQUEST, 1, {}, NOW, "k"))
    assert not uow.committed
    assert seats_left(uow, seeded.session_id) == 20
    assert uow.state.outbox == []
    with pytest.raises(RuntimeError):
        await uow.orders.get(1)  # outside a transaction


async def test_fake_seats_and_outbox_and_versions(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded, quantities={"adult": 1}), NOW)
    async with uow:
        assert not await uow.seats.reserve(seeded.instant_session_id, 10)
        assert not await uow.seats.reserve(seeded.cancelled_session_id, 1)
        await uow.seats.release(seeded.instant_session_id, 5)
        await uow.outbox.add(OutboxMessage(OutboxKind.BOOKING_REQUEST, 1, {"n": 1}, NOW, "same"))
        await uow.outbox.add(OutboxMessage(OutboxKind.BOOKING_REQUEST, 1, {"n": 2}, NOW, "same"))
        first, second = await uow.orders.get(order.id), await uow.orders.get(order.id)
        await uow.orders.save(first)
        with pytest.raises(ConcurrentChange):
            await uow.orders.save(second)
        await uow.commit()
    assert seats_left(uow, seeded.instant_session_id) == 10  # never above capacity
    assert [m.payload for m in uow.state.outbox] == [{"order_id": order.stored_id, "instant": True}, {"n": 1}]
    assert uow.state.orders[order.id].version == 1


async def test_fake_orders_refuse_a_taken_code_or_request_key(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    order = await place_order(uow, walk(seeded, quantities={"adult": 1}, request_key="screen-1"), NOW)
    async with uow:
        assert (await uow.orders.by_request_key("screen-1")).id == order.id
        assert await uow.orders.by_request_key("screen-2") is None
        for code, key in ((order.code, None), ("AAAAAA", "screen-1")):
            clash = copy.deepcopy(order)
            clash.id, clash.code, clash.request_key = None, code, key
            with pytest.raises(ConcurrentChange):
                await uow.orders.add(clash)
