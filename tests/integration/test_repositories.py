"""The SQL repositories through SqlUnitOfWork, on SQLite and on PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import AuditRow, HotelRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import ConcurrentChange
from domain.model.catalog import Confirmation, QuestionKind, SessionStatus
from domain.model.messages import AuditEntry, OutboxKind, OutboxMessage
from domain.model.orders import (
    BookingStatus,
    Order,
    OrderItem,
    PaymentStatus,
    TicketStatus,
)
from domain.model.users import User
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from tests.seed import Seeded, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
OTHER = 43

UowFactory = Callable[[], SqlUnitOfWork]


@pytest.fixture
async def seeded(sessions: async_sessionmaker) -> Seeded:
    return await seed_catalog(sessions, NOW)


async def seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


async def count(sessions: async_sessionmaker, column) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count(column)))


def make_order(seeded: Seeded, code: str, user_id: int = TOURIST, created_at: datetime = NOW) -> Order:
    return Order(
        code=code,
        user_id=user_id,
        session_id=seeded.session_id,
        event_id=seeded.event_id,
        currency="EUR",
        items=[OrderItem("adult", 2, 4500), OrderItem("child", 1, 2500)],
        subtotal_minor=11500,
        discount_percent=10,
        total_minor=10350,
        created_at=created_at,
        hold_until=created_at + timedelta(minutes=15),
        language="ru",
        hotel_id=seeded.hotel_id,
        answers={"pickup": "Отель «Телеграф»", "lunch": "fish"},
        confirm_by=created_at + timedelta(minutes=10),
    )


# ---- unit of work -----------------------------------------------------------------------------------------------


async def test_an_uncommitted_unit_of_work_rolls_back(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    async with uow:
        await uow.users.add(User(TOURIST, "en", NOW))
        assert await uow.users.get(TOURIST) is not None
    async with uow:  # re-enterable: a new transaction
        assert await uow.users.get(TOURIST) is None

    class HandlerFailed(Exception):
        pass

    async def add_then_fail() -> None:
        async with uow:
            await uow.users.add(User(TOURIST, "en", NOW))
            raise HandlerFailed

    with pytest.raises(HandlerFailed):
        await add_then_fail()
    async with uow:
        assert await uow.users.get(TOURIST) is None
        await uow.users.add(User(TOURIST, "en", NOW))
        await uow.commit()
    async with uow_factory() as other:
        assert await other.users.get(TOURIST) is not None


async def test_explicit_rollback_and_no_nesting(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    async with uow:
        await uow.users.add(User(TOURIST, "en", NOW))
        await uow.rollback()
        with pytest.raises(RuntimeError):
            async with uow:
                pass
    async with uow:
        assert await uow.users.get(TOURIST) is None
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session


# ---- users ------------------------------------------------------------------------------------------------------


async def test_users_crud(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        assert await uow.users.get(TOURIST) is None
        await uow.users.add(User(TOURIST, "ru", NOW, first_name="Анна", username="anna"))
        await uow.commit()

    async with uow_factory() as uow:
        user = await uow.users.get(TOURIST)
        assert user == User(TOURIST, "ru", NOW, first_name="Анна", username="anna")
        user.phone, user.hotel_id, user.region_id, user.language = (
            "+37255550001",
            seeded.hotel_id,
            seeded.region_id,
            "et",
        )
        user.blocked_bot = True
        await uow.users.save(user)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(TOURIST) == user
        await uow.users.delete(TOURIST)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(TOURIST) is None


async def test_telegram_ids_beyond_32_bits(uow_factory: UowFactory) -> None:
    big = 7_000_000_000
    async with uow_factory() as uow:
        await uow.users.add(User(big, "en", NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.users.get(big)).id == big


# ---- catalog ----------------------------------------------------------------------------------------------------


async def test_catalog_lookups(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        assert [r.code for r in await uow.catalog.regions()] == ["tallinn", "tartu"]
        region = await uow.catalog.region(seeded.region_id)
        assert (region.code, region.timezone, region.name["ru"]) == ("tallinn", "Europe/Tallinn", "Таллин")
        assert await uow.catalog.region(999) is None

        event = await uow.catalog.event(seeded.event_id)
        assert await uow.catalog.event_by_code("islands-cruise") == event
        assert await uow.catalog.event_by_code("nope") is None
        assert (event.category, event.confirmation, event.currency, event.languages) == (
            "sea",
            Confirmation.REQUIRED,
            "EUR",
            ("en", "ru"),
        )
        assert event.duration == timedelta(hours=3)
        assert event.ticket_type("adult").price_minor == 4500
        assert event.ticket_type("child").price_minor == 2500
        assert event.title["et"] == "Saarte kruiis" and event.meeting_point["ru"] == "Причал 3"
        assert (await uow.catalog.event(seeded.instant_event_id)).confirmation is Confirmation.INSTANT

        organiser = await uow.catalog.organiser(seeded.organiser_id)
        assert (organiser.chat_id, organiser.language, organiser.phone) == (700001, "et", "+3725550001")
        assert (organiser.confirm_within, organiser.pay_within, organiser.hold) == (
            timedelta(minutes=10),
            timedelta(minutes=30),
            timedelta(minutes=15),
        )
        assert [q.id for q in organiser.questions] == ["pickup", "lunch"]
        lunch = organiser.questions[1]
        assert lunch.kind is QuestionKind.CHOICE and [c.id for c in lunch.choices] == ["fish", "veg"]
        assert (await uow.catalog.organiser(seeded.instant_organiser_id)).questions == ()

        hotel = await uow.catalog.hotel(seeded.hotel_id)
        assert (hotel.name, hotel.region_id, hotel.discount_percent) == ("Hotel Telegraaf", seeded.region_id, 10)
        assert await uow.catalog.hotel(999) is None


async def test_catalog_session(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        session = await uow.catalog.session(seeded.session_id)
        assert (session.event_id, session.capacity, session.seats_left) == (seeded.event_id, 20, 20)
        assert session.starts_at == NOW + timedelta(days=2) and session.starts_at.tzinfo is not None
        assert (await uow.catalog.session(seeded.cancelled_session_id)).status is SessionStatus.CANCELLED
        assert await uow.catalog.session(999) is None


async def test_upcoming_sessions_exclude_cancelled_and_past(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        upcoming = await uow.catalog.upcoming_sessions(seeded.event_id, NOW, 10)
        assert [s.id for s in upcoming] == [seeded.session_id, seeded.small_session_id]
        assert [s.starts_at for s in upcoming] == [NOW + timedelta(days=2), NOW + timedelta(days=3)]
        assert [s.id for s in await uow.catalog.upcoming_sessions(seeded.event_id, NOW, 1)] == [seeded.session_id]
        later = await uow.catalog.upcoming_sessions(seeded.event_id, NOW + timedelta(days=2), 10)
        assert [s.id for s in later] == [seeded.small_session_id]  # strictly after
        assert await uow.catalog.upcoming_sessions(999, NOW, 10) == []


async def test_categories_in_a_window(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        week = (NOW, NOW + timedelta(days=7))
        assert await uow.catalog.categories(seeded.region_id, *week) == [("city", 1), ("sea", 1)]
        assert await uow.catalog.categories(seeded.region_id, NOW + timedelta(days=1, hours=1), week[1]) == [("sea", 1)]
        # only the cancelled session in the window: nothing to show
        assert await uow.catalog.categories(seeded.region_id, NOW + timedelta(days=3, hours=1), week[1]) == []
        assert await uow.catalog.categories(seeded.other_region_id, *week) == []


async def test_event_summaries(uow_factory: UowFactory, seeded: Seeded) -> None:
    week = (NOW, NOW + timedelta(days=7))
    async with uow_factory() as uow:
        summaries, total = await uow.catalog.event_summaries(seeded.region_id, *week, None, 0, 10)
        assert total == 2
        walk, cruise = summaries
        assert (walk.event.code, walk.next_start, walk.sessions_in_window, walk.seats_left, walk.price_from_minor) == (
            "old-town-walk",
            NOW + timedelta(days=1),
            1,
            10,
            1500,
        )
        # the past and the cancelled sessions do not count
        assert (cruise.event.code, cruise.next_start, cruise.sessions_in_window, cruise.seats_left) == (
            "islands-cruise",
            NOW + timedelta(days=2),
            2,
            20,  # the first session's own seats, not the sum of the window's
        )
        assert cruise.price_from_minor == 2500

        sea, sea_total = await uow.catalog.event_summaries(seeded.region_id, *week, "sea", 0, 10)
        assert ([s.event.code for s in sea], sea_total) == (["islands-cruise"], 1)
        none, none_total = await uow.catalog.event_summaries(seeded.region_id, *week, "museum", 0, 10)
        assert (list(none), none_total) == ([], 0)

        page, page_total = await uow.catalog.event_summaries(seeded.region_id, *week, None, 1, 1)
        assert ([s.event.code for s in page], page_total) == (["islands-cruise"], 2)
        page, page_total = await uow.catalog.event_summaries(seeded.region_id, *week, None, 2, 1)
        assert (list(page), page_total) == ([], 2)

        # a window that starts before the past session includes it
        earlier, _ = await uow.catalog.event_summaries(
            seeded.region_id, NOW - timedelta(hours=2), week[1], "sea", 0, 10
        )
        assert (earlier[0].next_start, earlier[0].sessions_in_window) == (NOW - timedelta(hours=1), 3)
        # the end of the window is exclusive
        edge, edge_total = await uow.catalog.event_summaries(
            seeded.region_id, NOW, NOW + timedelta(days=1), None, 0, 10
        )
        assert (list(edge), edge_total) == ([], 0)
        assert await uow.catalog.event_summaries(seeded.other_region_id, *week, None, 0, 10) == ([], 0)


async def _add_hotels(sessions: async_sessionmaker, region_id: int, *names: str) -> None:
    async with sessions() as db, db.begin():
        db.add_all(
            HotelRow(
                code=f"r{region_id}-h{i}",
                region_id=region_id,
                name=name,
                search_name=name.casefold(),
                discount_percent=0,
            )
            for i, name in enumerate(names)
        )


@pytest.mark.parametrize(
    ("needle", "found"),
    [
        ("telegraaf", ["Hotel Telegraaf"]),
        ("TELEGRAAF", ["Hotel Telegraaf"]),
        ("graaf", ["Hotel Telegraaf"]),
        ("Телеграф", ["Отель «Телеграф»"]),
        ("телеграф", ["Отель «Телеграф»"]),
        ("ТЕЛЕГРАФ", ["Отель «Телеграф»"]),
        ("STRASSE", ["Gästehaus Straße"]),
        ("straße", ["Gästehaus Straße"]),
        ("GÄSTE", ["Gästehaus Straße"]),
        ("100%", ["100% Hostel"]),
        ("%", ["100% Hostel"]),
        ("r_s", ["Under_score Inn"]),
        ("_", ["Under_score Inn"]),
        ("Hotel_Telegraaf", []),  # an unescaped _ would match the space
        ("Hotel%Telegraaf", []),  # an unescaped % would match anything
        ("back\\slash", ["Back\\slash House"]),
        ("\\", ["Back\\slash House"]),
        ("nowhere", []),
    ],
)
async def test_search_hotels(
    uow_factory: UowFactory, sessions: async_sessionmaker, seeded: Seeded, needle: str, found: list[str]
) -> None:
    await _add_hotels(
        sessions,
        seeded.region_id,
        "Отель «Телеграф»",
        "Gästehaus Straße",
        "100% Hostel",
        "Under_score Inn",
        "Back\\slash House",
    )
    await _add_hotels(sessions, seeded.other_region_id, "Tartu Telegraaf")  # another region: never found
    async with uow_factory() as uow:
        assert [h.name for h in await uow.catalog.search_hotels(seeded.region_id, needle, 10)] == found


async def test_search_hotels_orders_by_name_and_limits(
    uow_factory: UowFactory, sessions: async_sessionmaker, seeded: Seeded
) -> None:
    async with uow_factory() as uow:
        assert [h.name for h in await uow.catalog.search_hotels(seeded.region_id, "", 10)] == [
            "Harbour Inn",
            "Hotel Telegraaf",
        ]
        assert [h.name for h in await uow.catalog.search_hotels(seeded.region_id, "h", 1)] == ["Harbour Inn"]
        assert await uow.catalog.search_hotels(seeded.other_region_id, "", 10) == []


# ---- seats ------------------------------------------------------------------------------------------------------


async def test_seats_reserve_only_what_is_left_and_release_up_to_capacity(
    uow_factory: UowFactory, sessions: async_sessionmaker, seeded: Seeded
) -> None:
    small = seeded.small_session_id  # capacity 2
    async with uow_factory() as uow:
        assert not await uow.seats.reserve(small, 3)
        assert await uow.seats.reserve(small, 2)
        assert not await uow.seats.reserve(small, 1)
        assert not await uow.seats.reserve(seeded.cancelled_session_id, 1)
        assert not await uow.seats.reserve(999, 1)
        await uow.commit()
    assert await seats_left(sessions, small) == 0
    async with uow_factory() as uow:
        await uow.seats.release(small, 1)
        await uow.commit()
    assert await seats_left(sessions, small) == 1
    async with uow_factory() as uow:
        await uow.seats.release(small, 5)
        await uow.commit()
    assert await seats_left(sessions, small) == 2  # never above capacity
    async with uow_factory() as uow:
        assert await uow.seats.reserve(small, 1)
    assert await seats_left(sessions, small) == 2  # not committed


# ---- orders -----------------------------------------------------------------------------------------------------


async def test_orders_add_get_save(uow_factory: UowFactory, seeded: Seeded) -> None:
    order = make_order(seeded, "K7MA4X")
    async with uow_factory() as uow:
        added = await uow.orders.add(order)
        await uow.commit()
    assert added is order and order.id is not None and order.version == 0

    async with uow_factory() as uow:
        stored = await uow.orders.get(order.id)
        assert stored == order
        assert await uow.orders.code_exists("K7MA4X")
        assert not await uow.orders.code_exists("K7MA4Y")
        assert await uow.orders.get(999) is None

        stored.booking, stored.payment, stored.ticket = BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED
        stored.pay_by = NOW + timedelta(minutes=30)
        await uow.orders.save(stored)
        assert stored.version == 1
        await uow.commit()

    async with uow_factory() as uow:
        again = await uow.orders.get(order.id)
        assert again == stored
        assert (again.booking, again.payment, again.ticket, again.version) == (
            BookingStatus.CONFIRMED,
            PaymentStatus.PAID,
            TicketStatus.ISSUED,
            1,
        )
        assert again.items == [OrderItem("adult", 2, 4500), OrderItem("child", 1, 2500)]


async def test_saving_a_stale_order_is_a_concurrent_change(uow_factory: UowFactory, seeded: Seeded) -> None:
    async with uow_factory() as uow:
        order = await uow.orders.add(make_order(seeded, "K7MA4X"))
        await uow.commit()

    async with uow_factory() as uow:  # read by one update ...
        stale = await uow.orders.get(order.id)
    async with uow_factory() as uow:  # ... changed by another one ...
        fresh = await uow.orders.get(order.id)
        fresh.booking = BookingStatus.CONFIRMED
        await uow.orders.save(fresh)
        await uow.commit()
    async with uow_factory() as uow:  # ... so the first one's write is refused
        stale.booking = BookingStatus.CANCELLED
        with pytest.raises(ConcurrentChange):
            await uow.orders.save(stale)
    assert stale.version == 0

    async with uow_factory() as uow:  # two copies in one transaction: only the first save wins
        first, second = await uow.orders.get(order.id), await uow.orders.get(order.id)
        await uow.orders.save(first)
        with pytest.raises(ConcurrentChange):
            await uow.orders.save(second)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(order.id)
        assert (stored.booking, stored.version) == (BookingStatus.CONFIRMED, 2)


async def test_orders_by_request_key_and_unique_clashes(uow_factory: UowFactory, seeded: Seeded) -> None:
    order = make_order(seeded, "K7MA4X")
    order.request_key = "screen-1"
    async with uow_factory() as uow:
        await uow.orders.add(order)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.orders.by_request_key("screen-1")
        assert (found.id, found.request_key, found.items) == (order.id, "screen-1", order.items)
        assert await uow.orders.by_request_key("screen-2") is None

    for code, key in (("K7MA4X", None), ("K7MA4Y", "screen-1")):  # the same code, the same booking screen
        clash = make_order(seeded, code)
        clash.request_key = key
        with pytest.raises(ConcurrentChange):
            async with uow_factory() as uow:
                await uow.orders.add(clash)
    async with uow_factory() as uow:
        assert [o.code for o in await uow.orders.all_for_user(TOURIST)] == ["K7MA4X"]


async def test_a_clash_leaves_the_transaction_usable(uow_factory: UowFactory, seeded: Seeded) -> None:
    """A taken code or request key writes nothing and aborts nothing: the same transaction reads the other order,
    adds this one under another code, and commits (place_order draws codes this way instead of a look-up each)."""
    first = make_order(seeded, "K7MA4X")
    first.request_key = "screen-1"
    async with uow_factory() as uow:
        await uow.orders.add(first)
        await uow.commit()
    async with uow_factory() as uow:
        clash = make_order(seeded, "K7MA4X")
        with pytest.raises(ConcurrentChange):
            await uow.orders.add(clash)
        assert (await uow.orders.by_request_key("screen-1")).id == first.id
        clash.code = "K7MA4Y"
        await uow.orders.add(clash)
        await uow.outbox.add(OutboxMessage(OutboxKind.INVOICE, TOURIST, {"order_id": clash.id}, NOW, "clash:1"))
        await uow.commit()
    async with uow_factory() as uow:
        assert sorted(o.code for o in await uow.orders.all_for_user(TOURIST)) == ["K7MA4X", "K7MA4Y"]
        assert (await uow.orders.get(clash.id)).items == clash.items


async def test_orders_for_user_newest_first_with_pagination(uow_factory: UowFactory, seeded: Seeded) -> None:
    codes = ["AAAAAA", "CCCCCC", "DDDDDD", "EEEEEE", "FFFFFF"]
    async with uow_factory() as uow:
        for i, code in enumerate(codes):
            await uow.orders.add(make_order(seeded, code, created_at=NOW + timedelta(minutes=i)))
        await uow.orders.add(make_order(seeded, "HHHHHH", user_id=OTHER))
        await uow.commit()

    async with uow_factory() as uow:
        page, total = await uow.orders.for_user(TOURIST, 0, 2)
        assert ([o.code for o in page], total) == (["FFFFFF", "EEEEEE"], 5)
        page, total = await uow.orders.for_user(TOURIST, 2, 2)
        assert ([o.code for o in page], total) == (["DDDDDD", "CCCCCC"], 5)
        page, total = await uow.orders.for_user(TOURIST, 4, 2)
        assert ([o.code for o in page], total) == (["AAAAAA"], 5)
        assert all(o.items and o.seats == 3 for o in page)
        assert await uow.orders.for_user(999, 0, 2) == ([], 0)
        assert sorted(o.code for o in await uow.orders.all_for_user(TOURIST)) == codes
        assert [o.code for o in await uow.orders.all_for_user(OTHER)] == ["HHHHHH"]


# ---- outbox and audit -------------------------------------------------------------------------------------------


async def test_outbox_is_deduplicated(uow_factory: UowFactory, sessions: async_sessionmaker) -> None:
    message = OutboxMessage(OutboxKind.BOOKING_REQUEST, 700001, {"order_id": 1}, NOW, "booking_request:1")
    async with uow_factory() as uow:
        await uow.outbox.add(message)
        await uow.outbox.add(message)
        await uow.commit()
    async with uow_factory() as uow:  # a retry of the same change in another transaction
        await uow.outbox.add(
            OutboxMessage(OutboxKind.BOOKING_REQUEST, 700001, {"order_id": 2}, NOW, "booking_request:1")
        )
        await uow.outbox.add(
            OutboxMessage(OutboxKind.BOOKING_CANCELLED, 700001, {"order_id": 1}, NOW, "booking_cancelled:1")
        )
        await uow.commit()
    async with uow_factory() as uow:  # not committed: not there
        await uow.outbox.add(OutboxMessage(OutboxKind.TOURIST_QUESTION, 1, {}, NOW, "question:1:1"))

    async with sessions() as db:
        rows = list(await db.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    assert [(r.dedup_key, r.payload, r.status, r.attempts, r.chat_id) for r in rows] == [
        ("booking_request:1", {"order_id": 1}, "pending", 0, 700001),
        ("booking_cancelled:1", {"order_id": 1}, "pending", 0, 700001),
    ]
    assert rows[0].kind == "organiser.booking_request" and rows[0].due_at == NOW


async def test_a_shown_message_is_recorded_as_sent_once_and_found_but_never_claimed(
    uow_factory: UowFactory, sessions: async_sessionmaker
) -> None:
    """``record_shown``: the order card a handler showed (message 77) is found by ``sent_messages`` for redrawing;
    recording it again changes nothing; the sender never claims it."""
    from bot.storage.outbox import OutboxQueue

    shown = OutboxMessage(OutboxKind.ORDER_CARD, 1001, {"order_id": 5}, NOW, "tourist.order_card:5:77")
    async with uow_factory() as uow:
        await uow.outbox.record_shown(shown, 77)
        await uow.outbox.record_shown(shown, 77)
        await uow.commit()
    async with uow_factory() as uow:
        assert list(await uow.outbox.sent_messages("tourist.order_card:5")) == [(1001, 77)]
        assert list(await uow.outbox.sent_messages("tourist.order_card:50")) == []
    assert await OutboxQueue(sessions).claim(NOW + timedelta(days=1), [OutboxKind.ORDER_CARD.value], 10) == []
    async with sessions() as db:
        [row] = list(await db.scalars(select(OutboxRow)))
    assert (row.status, row.sent_message_id, row.attempts) == ("sent", 77, 0)


async def test_audit_entries_are_stored(uow_factory: UowFactory, sessions: async_sessionmaker) -> None:
    async with uow_factory() as uow:
        await uow.audit.add(AuditEntry(NOW, "user:42", "order.placed", 7, {}, {"booking": "confirmed"}))
        await uow.commit()
    async with sessions() as db:
        row = await db.scalar(select(AuditRow))
    assert (row.at, row.actor, row.action, row.order_id, row.before, row.after) == (
        NOW,
        "user:42",
        "order.placed",
        7,
        {},
        {"booking": "confirmed"},
    )


# ---- time -------------------------------------------------------------------------------------------------------


async def test_datetimes_round_trip_as_aware_utc(uow_factory: UowFactory, seeded: Seeded) -> None:
    tallinn_winter = timezone(timedelta(hours=2))
    local = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=tallinn_winter)
    async with uow_factory() as uow:
        await uow.users.add(User(TOURIST, "en", local))
        order = await uow.orders.add(make_order(seeded, "K7MA4X", created_at=local))
        await uow.commit()
    async with uow_factory() as uow:
        user = await uow.users.get(TOURIST)
        stored = await uow.orders.get(order.id)
    for value in (user.created_at, stored.created_at, stored.hold_until, stored.confirm_by):
        assert value.utcoffset() == timedelta(0)
    assert user.created_at == local
    assert user.created_at.replace(tzinfo=None) == datetime(2026, 12, 1, 10, 30, 15, 123456)
    assert stored.hold_until == local + timedelta(minutes=15)
    assert stored.pay_by is None and stored.cancelled_at is None


async def test_naive_datetimes_are_refused(uow_factory: UowFactory) -> None:
    with pytest.raises((ValueError, StatementError)):
        async with uow_factory() as uow:
            await uow.users.add(User(TOURIST, "en", datetime(2026, 12, 1, 12, 0)))


# ---- the use cases on the real storage --------------------------------------------------------------------------


async def test_place_and_cancel_an_order(uow_factory: UowFactory, sessions: async_sessionmaker, seeded: Seeded) -> None:
    await seed_user(sessions, TOURIST, hotel_id=seeded.hotel_id)
    order = await place_order(
        uow_factory(), PlaceOrder(TOURIST, seeded.session_id, {"adult": 1}, {"pickup": "Pier", "lunch": "veg"}), NOW
    )
    assert (order.booking, order.total_minor) == (BookingStatus.AWAITING_ORGANISER, 4050)
    assert await seats_left(sessions, seeded.session_id) == 19
    cancelled = await cancel_order(uow_factory(), TOURIST, order.id, NOW)
    assert cancelled.booking is BookingStatus.CANCELLED
    assert await seats_left(sessions, seeded.session_id) == 20
    assert await count(sessions, OutboxRow.id) == 2
