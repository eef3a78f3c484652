"""Offers on SQLite and PostgreSQL: the segment query (each part, and together; never the opted-out or blocked), the
delivery job in batches (one transaction each, paced due times, sent at the end, never twice, also with two passes
at once), a guest's current offers and the opt-out, and what they received deleted with their data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.offer_tables import OfferDeliveryRow, OfferRow
from bot.storage.tables import OrderRow, OutboxRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.offers import OFFERS_PER_SECOND, EmptySegment, OfferStatus, Segment
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.offers import SendOffer, deliver_offers, send_offer, set_offers
from tests.seed import Seeded, seed_catalog, seed_user, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EN_TALLINN, RU_HOTEL, DE_TARTU, SEA_BOOKER, OLD_BOOKER, OFF, BLOCKED = 1, 2, 3, 4, 5, 6, 7
MANY = list(range(100, 220))  # 120 guests
ANSWERS = {"pickup": "Viru", "lunch": "fish"}


@pytest.fixture
async def world(sessions: async_sessionmaker) -> Seeded:
    seeded = await seed_catalog(sessions, NOW)
    await seed_user(sessions, EN_TALLINN, "en", NOW, region_id=seeded.region_id)
    await seed_user(sessions, RU_HOTEL, "ru", NOW, seeded.hotel_id)
    await seed_user(sessions, DE_TARTU, "de", NOW, region_id=seeded.other_region_id)
    await seed_user(sessions, SEA_BOOKER, "en", NOW)
    await seed_user(sessions, OLD_BOOKER, "et", NOW)
    await seed_user(sessions, OFF, "ru", NOW, seeded.hotel_id)
    await seed_user(sessions, BLOCKED, "ru", NOW, seeded.hotel_id)
    for user_id, event_session, answers in (
        (SEA_BOOKER, seeded.session_id, ANSWERS),
        (OLD_BOOKER, seeded.instant_session_id, {}),
    ):
        cmd = PlaceOrder(user_id=user_id, session_id=event_session, quantities={"adult": 1}, answers=answers)
        await place_order(SqlUnitOfWork(sessions), cmd, NOW)
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.user_id == OLD_BOOKER).values(created_at=NOW - timedelta(40)))
        await db.execute(update(UserRow).where(UserRow.id == BLOCKED).values(blocked_bot=True))
    assert await set_offers(SqlUnitOfWork(sessions), OFF, False)
    return seeded


async def reached(sessions: async_sessionmaker, segment: Segment) -> list[int]:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        count = await uow.offers.reach(segment, NOW)
        probe = SendOffer(actor="t", texts={"en": "x"}, days=1, segment=segment)
        offer = await uow.offers.add(_offer(probe))
        guests = list(await uow.offers.next_guests(offer, NOW, 1000))
    assert count == len(guests)
    return guests


def _offer(cmd: SendOffer):  # an unsaved offer for the segment, to read its guests with
    from domain.model.offers import Offer

    return Offer(texts=cmd.texts, segment=cmd.segment, created_at=NOW, valid_until=NOW + timedelta(1), created_by="t")


async def test_each_part_of_a_segment_and_their_combination(sessions: async_sessionmaker, world: Seeded) -> None:
    everyone = [EN_TALLINN, RU_HOTEL, DE_TARTU, SEA_BOOKER, OLD_BOOKER]  # not OFF, not BLOCKED
    assert await reached(sessions, Segment()) == everyone
    assert await reached(sessions, Segment(region_ids=(world.region_id,))) == [EN_TALLINN, RU_HOTEL]  # hotel's region
    assert await reached(sessions, Segment(languages=("ru", "de"))) == [RU_HOTEL, DE_TARTU]
    assert await reached(sessions, Segment(hotel_ids=(world.hotel_id,))) == [RU_HOTEL]
    assert await reached(sessions, Segment(categories=("SEA",))) == [SEA_BOOKER]
    assert await reached(sessions, Segment(categories=("sea", "city"))) == [SEA_BOOKER, OLD_BOOKER]
    assert await reached(sessions, Segment(booked_within_days=30)) == [SEA_BOOKER]
    assert await reached(sessions, Segment(booked_within_days=60)) == [SEA_BOOKER, OLD_BOOKER]
    assert await reached(sessions, Segment(languages=("en",), booked_within_days=30)) == [SEA_BOOKER]
    assert await reached(sessions, Segment(languages=("de",), region_ids=(world.region_id,))) == []


async def test_an_empty_segment_stores_nothing(sessions: async_sessionmaker, world: Seeded) -> None:
    cmd = SendOffer(actor="operator:1", texts={"en": "Hi"}, days=3, segment=Segment(languages=("fi",)))
    with pytest.raises(EmptySegment):
        await send_offer(SqlUnitOfWork(sessions), cmd, NOW)
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(OfferRow)) == 0


async def test_a_large_segment_is_delivered_in_paced_batches_once(sessions: async_sessionmaker, world: Seeded) -> None:
    await seed_users(sessions, MANY, NOW)
    cmd = SendOffer(actor="operator:1", texts={"en": "Hi", "de": "Hallo"}, days=3, segment=Segment(languages=("en",)))
    offer = await send_offer(SqlUnitOfWork(sessions), cmd, NOW)
    expected = sorted([EN_TALLINN, SEA_BOOKER, *MANY])
    passes = [len((await deliver_offers(SqlUnitOfWork(sessions), NOW, 50)).done) for _ in range(5)]
    assert passes == [50, 50, 22, 0, 0]
    async with sessions() as db:
        row = await db.get(OfferRow, offer.id)
        assert row is not None and row.status == OfferStatus.SENT.value and row.recipients == len(expected)
        offers = select(OutboxRow.chat_id, OutboxRow.due_at).where(OutboxRow.kind == "tourist.offer")
        rows = (await db.execute(offers.order_by(OutboxRow.due_at))).all()
        delivered = sorted(await db.scalars(select(OfferDeliveryRow.user_id)))
    assert sorted(chat for chat, _due in rows) == expected == delivered
    assert rows[0][1] == NOW
    assert rows[-1][1] == NOW + timedelta(seconds=(len(expected) - 1) / OFFERS_PER_SECOND)  # paced, never a burst


async def test_two_passes_at_once_never_enqueue_a_guest_twice(sessions: async_sessionmaker, world: Seeded) -> None:
    await seed_users(sessions, MANY, NOW)
    cmd = SendOffer(actor="operator:1", texts={"en": "Hi"}, days=3, segment=Segment())
    await send_offer(SqlUnitOfWork(sessions), cmd, NOW)
    for _ in range(4):
        await asyncio.gather(*(deliver_offers(SqlUnitOfWork(sessions), NOW, 40) for _ in range(2)))
    async with sessions() as db:
        chats = list(await db.scalars(select(OutboxRow.chat_id).where(OutboxRow.kind == "tourist.offer")))
    assert len(chats) == len(set(chats)) == 5 + len(MANY)


async def test_a_guest_sees_current_offers_and_turns_them_off(sessions: async_sessionmaker, world: Seeded) -> None:
    cmd = SendOffer(actor="operator:1", texts={"en": "Hi"}, days=3, segment=Segment(languages=("ru",)))
    offer = await send_offer(SqlUnitOfWork(sessions), cmd, NOW)
    await deliver_offers(SqlUnitOfWork(sessions), NOW)
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert [o.id for o in await uow.offers.for_guest(RU_HOTEL, NOW, 5)] == [offer.id]
        assert await uow.offers.for_guest(RU_HOTEL, NOW + timedelta(days=3), 5) == []
        assert await uow.offers.for_guest(EN_TALLINN, NOW, 5) == []
        assert await uow.offers.received(offer.stored_id, RU_HOTEL)
        assert await uow.offers.opted_out(OFF) and not await uow.offers.opted_out(RU_HOTEL)
        assert not await uow.offers.set_opted_out(999, True)  # nobody we know
        await uow.users.delete(RU_HOTEL)  # the guest's data deleted: what they received goes with it
        await uow.commit()
    async with sessions() as db:
        assert (await db.scalars(select(OfferDeliveryRow))).all() == []
