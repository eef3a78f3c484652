"""Profile use cases through the in-memory fakes: registration, phone, hotel, forgetting a tourist."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidPhone, NotFound
from domain.model.messages import OutboxKind
from domain.model.orders import (
    BookingStatus,
    Order,
    OrderItem,
    PaymentStatus,
    TicketStatus,
)
from domain.model.users import mask_phone, normalize_phone
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.profile import (
    Forgotten,
    delete_personal_data,
    register_user,
    set_hotel,
    set_language,
    set_phone,
    set_region,
)
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
OTHER = 43
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    return fake_world(NOW)


def saved(uow: FakeUnitOfWork) -> dict[str, Any]:
    return copy.deepcopy(vars(uow.state))


# ---- register_user ----------------------------------------------------------------------------------------------


async def test_first_contact_creates_the_user(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _ = world
    user = await register_user(uow, TOURIST, "ru", "Anna", "anna", NOW)
    assert uow.committed
    assert (user.id, user.language, user.first_name, user.username, user.created_at) == (
        TOURIST,
        "ru",
        "Anna",
        "anna",
        NOW,
    )
    assert user.phone is None and user.hotel_id is None and not user.blocked_bot
    assert uow.state.users[TOURIST] == user


async def test_registering_again_keeps_the_user_and_writes_nothing(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _ = world
    await register_user(uow, TOURIST, "ru", "Anna", "anna", NOW)
    commits = uow.commits
    uow.opened.clear()
    again = await register_user(uow, TOURIST, "de", "Anna", "anna", NOW + timedelta(days=1))
    assert uow.commits == commits
    assert uow.opened == ["read"]  # every update calls this: a known user costs one read, no transaction
    assert (again.language, again.created_at) == ("ru", NOW)  # the chosen language is not overwritten


async def test_changed_names_are_refreshed(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _ = world
    await register_user(uow, TOURIST, "ru", "Anna", "anna", NOW)
    user = await register_user(uow, TOURIST, "ru", "Anne", None, NOW + timedelta(days=1))
    assert uow.committed
    assert (user.first_name, user.username, user.created_at) == ("Anne", None, NOW)
    assert uow.state.users[TOURIST] == user


async def test_language_and_region(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, TOURIST)
    await set_language(uow, TOURIST, "et")
    await set_region(uow, TOURIST, seeded.other_region_id)
    user = uow.state.users[TOURIST]
    assert (user.language, user.region_id) == ("et", seeded.other_region_id)
    with pytest.raises(NotFound):
        await set_language(uow, 999, "et")


# ---- set_phone --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+372 5555 0001", "+37255550001"),
        ("37255550001", "+37255550001"),  # Telegram shares contacts without the plus
        (" +49 151 12345678 ", "+4915112345678"),
        ("+7 (916) 123-45-67", "+79161234567"),
        ("14155552671", "+14155552671"),
    ],
)
async def test_a_valid_phone_is_stored_as_e164(world: tuple[FakeUnitOfWork, Seeded], raw: str, e164: str) -> None:
    uow, _ = world
    add_user(uow.state, TOURIST)
    user = await set_phone(uow, TOURIST, raw)
    assert user.phone == e164
    assert uow.state.users[TOURIST].phone == e164


@pytest.mark.parametrize("raw", ["", "   ", "12345", "+372 1", "phone", "+999 123456789", "0037255550001x"])
async def test_an_invalid_phone_is_refused_and_not_stored(world: tuple[FakeUnitOfWork, Seeded], raw: str) -> None:
    uow, _ = world
    add_user(uow.state, TOURIST, phone="+37255550001")
    with pytest.raises(InvalidPhone):
        await set_phone(uow, TOURIST, raw)
    assert uow.state.users[TOURIST].phone == "+37255550001"


@given(st.text(max_size=30))
def test_normalize_phone_returns_e164_or_refuses(raw: str) -> None:
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        return
    assert phone.startswith("+") and phone[1:].isdigit() and len(phone) <= 16
    assert normalize_phone(phone) == phone


def test_mask_phone() -> None:
    assert mask_phone("+37255550001") == "+372••••••01"
    assert mask_phone(None) == ""
    assert mask_phone("") == ""


# ---- set_hotel --------------------------------------------------------------------------------------------------


async def test_choosing_a_hotel_moves_the_tourist_to_its_region(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, TOURIST, region_id=seeded.other_region_id)
    user = await set_hotel(uow, TOURIST, seeded.hotel_id)
    assert (user.hotel_id, user.region_id) == (seeded.hotel_id, seeded.region_id)
    assert uow.state.users[TOURIST] == user


async def test_clearing_the_hotel_keeps_the_region(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, TOURIST, hotel_id=seeded.hotel_id)
    user = await set_hotel(uow, TOURIST, None)
    assert (user.hotel_id, user.region_id) == (None, seeded.region_id)


async def test_an_unknown_hotel_is_not_found(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _ = world
    add_user(uow.state, TOURIST)
    before = saved(uow)
    with pytest.raises(NotFound):
        await set_hotel(uow, TOURIST, 999)
    assert saved(uow) == before


# ---- delete_personal_data ---------------------------------------------------------------------------------------


def _past_order(seeded: Seeded, code: str) -> Order:
    return Order(
        code=code,
        user_id=TOURIST,
        session_id=seeded.past_session_id,
        event_id=seeded.event_id,
        currency="EUR",
        items=[OrderItem("adult", 1, 4500)],
        subtotal_minor=4500,
        discount_percent=0,
        total_minor=4500,
        created_at=NOW - timedelta(days=3),
        hold_until=NOW - timedelta(days=3),
        language="en",
        booking=BookingStatus.CONFIRMED,
        payment=PaymentStatus.PAID,
        ticket=TicketStatus.ISSUED,
        answers=dict(ANSWERS),
        hotel_id=seeded.hotel_id,
    )


async def test_forgetting_a_tourist(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, TOURIST, hotel_id=seeded.hotel_id, phone="+37255550001", first_name="Anna")
    add_user(uow.state, OTHER)
    unpaid = await place_order(uow, PlaceOrder(TOURIST, seeded.session_id, {"adult": 2}, ANSWERS), NOW)
    on_site = await place_order(uow, PlaceOrder(TOURIST, seeded.instant_session_id, {"adult": 1}), NOW)
    paid = await place_order(uow, PlaceOrder(TOURIST, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    stored = uow.state.orders[paid.id]
    stored.booking, stored.payment, stored.ticket = BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED
    async with uow:
        past = await uow.orders.add(_past_order(seeded, "PASTXX"))
        await uow.commit()
    others = await place_order(uow, PlaceOrder(OTHER, seeded.session_id, {"adult": 1}, ANSWERS), NOW)
    assert uow.state.sessions[seeded.session_id].seats_left == 17
    later = NOW + timedelta(hours=1)

    forgotten = await delete_personal_data(uow, TOURIST, later)

    assert uow.committed
    assert forgotten == Forgotten(cancelled=(unpaid.code, on_site.code), kept=(paid.code,))
    assert TOURIST not in uow.state.users
    assert OTHER in uow.state.users

    orders = uow.state.orders
    for order_id in (unpaid.id, on_site.id, paid.id, past.id):
        order = orders[order_id]
        assert (order.user_id, order.answers, order.hotel_id) == (None, {}, None)
    # unpaid upcoming: cancelled, their seats back on sale, the organiser told
    assert (orders[unpaid.id].booking, orders[unpaid.id].payment) == (BookingStatus.CANCELLED, PaymentStatus.NOT_DUE)
    assert (orders[on_site.id].booking, orders[on_site.id].payment) == (BookingStatus.CANCELLED, PaymentStatus.NOT_DUE)
    assert uow.state.sessions[seeded.session_id].seats_left == 19  # only the other tourist's seat is taken
    assert uow.state.sessions[seeded.instant_session_id].seats_left == 10
    assert any(
        m.kind is OutboxKind.BOOKING_CANCELLED and m.payload == {"order_id": unpaid.id} for m in uow.state.outbox
    )
    # paid upcoming: kept, anonymous
    assert (orders[paid.id].booking, orders[paid.id].payment, orders[paid.id].ticket) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
        TicketStatus.ISSUED,
    )
    assert uow.state.sessions[seeded.small_session_id].seats_left == 1
    # the past order stays as it was, anonymous
    assert (orders[past.id].booking, orders[past.id].payment) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)
    # amounts (with the partner-hotel discount they got) are kept for accounting
    assert [(orders[o.id].total_minor, orders[o.id].currency, orders[o.id].code) for o in (unpaid, paid, past)] == [
        (8100, "EUR", unpaid.code),
        (4050, "EUR", paid.code),
        (4500, "EUR", "PASTXX"),
    ]
    # someone else's order is untouched
    assert orders[others.id].user_id == OTHER and orders[others.id].answers == ANSWERS

    actions = [(e.action, e.order_id) for e in uow.state.audit if e.at == later]
    assert ("order.cancelled_on_data_deletion", unpaid.id) in actions
    assert ("order.cancelled_on_data_deletion", on_site.id) in actions
    assert sorted(i for a, i in actions if a == "order.anonymized") == sorted([unpaid.id, on_site.id, paid.id, past.id])
    assert all("Anna" not in repr(e) and "37255550001" not in repr(e) for e in uow.state.audit)


async def test_forgetting_a_tourist_without_orders(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _ = world
    add_user(uow.state, TOURIST)
    assert await delete_personal_data(uow, TOURIST, NOW) == Forgotten((), ())
    assert uow.state.users == {}


async def test_a_paid_then_partially_refunded_order_is_kept(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, TOURIST)
    order = await place_order(uow, PlaceOrder(TOURIST, seeded.instant_session_id, {"adult": 1}), NOW)
    stored = uow.state.orders[order.id]
    stored.payment, stored.ticket = PaymentStatus.PARTIALLY_REFUNDED, TicketStatus.ISSUED
    forgotten = await delete_personal_data(uow, TOURIST, NOW)
    assert forgotten.kept == (order.code,)
    assert uow.state.orders[order.id].booking is BookingStatus.CONFIRMED
