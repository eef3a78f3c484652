"""A small, known catalog written straight into the tables, for integration and handler tests.

The same rows become entities in memory in :func:`tests.fakes.build_catalog`, through the storage's own row mappers.
Times are relative to ``now`` so the catalog is always "upcoming" from the test's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import (
    Base,
    EventRow,
    HotelRow,
    OrganiserRow,
    RegionRow,
    SessionRow,
    UserRow,
)
from domain.model.users import User

# The tests' default "now": the same instant as tests.conftest.FixedClock.
DEFAULT_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

TALLINN_NAME = {"en": "Tallinn", "ru": "Таллин", "de": "Tallinn", "et": "Tallinn"}
TARTU_NAME = {"en": "Tartu", "ru": "Тарту", "de": "Tartu", "et": "Tartu"}

HOTEL_NAME = "Hotel Telegraaf"
HOTEL_DISCOUNT = 10
PLAIN_HOTEL_NAME = "Harbour Inn"

ORGANISER_CHAT_ID = 700001
ORGANISER_PHONE = "+3725550001"
INSTANT_ORGANISER_CHAT_ID = 700002

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "pickup",
        "kind": "text",
        "required": True,
        "max_length": 200,
        "text": {
            "en": "Where shall we pick you up?",
            "ru": "Откуда вас забрать?",
            "de": "Wo holen wir Sie ab?",
            "et": "Kust teid peale võtta?",
        },
    },
    {
        "id": "lunch",
        "kind": "choice",
        "required": True,
        "max_length": 200,
        "text": {
            "en": "Which lunch would you like?",
            "ru": "Какой обед вы хотите?",
            "de": "Welches Mittagessen möchten Sie?",
            "et": "Millist lõunasööki soovite?",
        },
        "choices": [
            {"id": "fish", "text": {"en": "Fish", "ru": "Рыба", "de": "Fisch", "et": "Kala"}},
            {"id": "veg", "text": {"en": "Vegetarian", "ru": "Вегетарианский", "de": "Vegetarisch", "et": "Taimetoit"}},
        ],
    },
]

CRUISE_TITLE = {"en": "Islands cruise", "ru": "Круиз по островам", "de": "Inselkreuzfahrt", "et": "Saarte kruiis"}
CRUISE_DESCRIPTION = {
    "en": "Three hours among the islands of Tallinn Bay.",
    "ru": "Три часа среди островов Таллинского залива.",
    "de": "Drei Stunden zwischen den Inseln der Tallinner Bucht.",
    "et": "Kolm tundi Tallinna lahe saarte vahel.",
}
CRUISE_MEETING_POINT = {"en": "Pier 3", "ru": "Причал 3", "de": "Pier 3", "et": "Kai 3"}
CRUISE_PRICES = [{"code": "adult", "price_minor": 4500}, {"code": "child", "price_minor": 2500}]

WALK_TITLE = {
    "en": "Old Town walk",
    "ru": "Прогулка по Старому городу",
    "de": "Altstadtrundgang",
    "et": "Vanalinna jalutuskäik",
}
WALK_DESCRIPTION = {
    "en": "Two hours through the medieval Old Town.",
    "ru": "Два часа по средневековому Старому городу.",
    "de": "Zwei Stunden durch die mittelalterliche Altstadt.",
    "et": "Kaks tundi läbi keskaegse vanalinna.",
}
WALK_MEETING_POINT = {"en": "Town Hall Square", "ru": "Ратушная площадь", "de": "Rathausplatz", "et": "Raekoja plats"}
WALK_PRICES = [{"code": "adult", "price_minor": 1500}]

MINUTE = 60
HOUR = 3600
DAY = 86400

# Session start offsets from ``now``, shared with the in-memory builder.
SESSION_IN = timedelta(days=2)
SMALL_SESSION_IN = timedelta(days=3)
INSTANT_SESSION_IN = timedelta(days=1)
PAST_SESSION_IN = timedelta(hours=-1)
CANCELLED_SESSION_IN = timedelta(days=4)


@dataclass(frozen=True, slots=True)
class Seeded:
    region_id: int
    other_region_id: int
    hotel_id: int
    plain_hotel_id: int
    organiser_id: int
    instant_organiser_id: int
    event_id: int
    instant_event_id: int
    session_id: int
    small_session_id: int
    instant_session_id: int
    past_session_id: int
    cancelled_session_id: int


class CatalogRows:
    """The known catalog as table rows: two regions, two hotels, two organisers, two events, five sessions.

    :meth:`batches` hands them out in the order their foreign keys need: a batch's rows point at the ids of the
    batches before it, so each batch must have its ids (a flush, or :func:`tests.fakes.build_catalog` numbering them)
    before the next is built. :meth:`seeded` then tells the ids.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now

    def batches(self) -> Iterator[list[Base]]:
        now = self.now
        self.tallinn = RegionRow(code="tallinn", timezone="Europe/Tallinn", name=TALLINN_NAME)
        self.tartu = RegionRow(code="tartu", timezone="Europe/Tallinn", name=TARTU_NAME)
        yield [self.tallinn, self.tartu]

        self.hotel = _hotel("telegraaf", self.tallinn.id, HOTEL_NAME, HOTEL_DISCOUNT)
        self.plain_hotel = _hotel("harbour-inn", self.tallinn.id, PLAIN_HOTEL_NAME, 0)
        self.organiser = OrganiserRow(
            code="baltic-boats",
            name="Baltic Boats",
            chat_id=ORGANISER_CHAT_ID,
            language="et",
            phone=ORGANISER_PHONE,
            confirm_within_s=10 * MINUTE,
            pay_within_s=30 * MINUTE,
            hold_s=15 * MINUTE,
            reminders_s=[DAY, 2 * HOUR],
            questions=QUESTIONS,
        )
        self.instant_organiser = OrganiserRow(
            code="old-town-guides",
            name="Old Town Guides",
            chat_id=INSTANT_ORGANISER_CHAT_ID,
            language="en",
            phone=None,
            confirm_within_s=10 * MINUTE,
            pay_within_s=30 * MINUTE,
            hold_s=15 * MINUTE,
            reminders_s=[DAY, 2 * HOUR],
            questions=[],
        )
        yield [self.hotel, self.plain_hotel, self.organiser, self.instant_organiser]

        self.cruise = EventRow(
            code="islands-cruise",
            organiser_id=self.organiser.id,
            region_id=self.tallinn.id,
            category="sea",
            title=CRUISE_TITLE,
            description=CRUISE_DESCRIPTION,
            meeting_point=CRUISE_MEETING_POINT,
            duration_s=3 * HOUR,
            languages=["en", "ru"],
            currency="EUR",
            prices=CRUISE_PRICES,
            confirmation="required",
        )
        self.walk = EventRow(
            code="old-town-walk",
            organiser_id=self.instant_organiser.id,
            region_id=self.tallinn.id,
            category="city",
            title=WALK_TITLE,
            description=WALK_DESCRIPTION,
            meeting_point=WALK_MEETING_POINT,
            duration_s=2 * HOUR,
            languages=["en", "de"],
            currency="EUR",
            prices=WALK_PRICES,
            confirmation="instant",
        )
        yield [self.cruise, self.walk]

        cruise, walk = self.cruise.id, self.walk.id
        self.session = _session(cruise, now + SESSION_IN, 20)
        self.small = _session(cruise, now + SMALL_SESSION_IN, 2)
        self.instant = _session(walk, now + INSTANT_SESSION_IN, 10)
        self.past = _session(cruise, now + PAST_SESSION_IN, 20)
        self.cancelled = _session(cruise, now + CANCELLED_SESSION_IN, 20, status="cancelled")
        yield [self.session, self.small, self.instant, self.past, self.cancelled]

    def seeded(self) -> Seeded:
        return Seeded(
            region_id=self.tallinn.id,
            other_region_id=self.tartu.id,
            hotel_id=self.hotel.id,
            plain_hotel_id=self.plain_hotel.id,
            organiser_id=self.organiser.id,
            instant_organiser_id=self.instant_organiser.id,
            event_id=self.cruise.id,
            instant_event_id=self.walk.id,
            session_id=self.session.id,
            small_session_id=self.small.id,
            instant_session_id=self.instant.id,
            past_session_id=self.past.id,
            cancelled_session_id=self.cancelled.id,
        )


async def seed_catalog(sessions: async_sessionmaker, now: datetime) -> Seeded:
    """Insert the known catalog (:class:`CatalogRows`)."""
    catalog = CatalogRows(now)
    async with sessions() as db, db.begin():
        for batch in catalog.batches():
            db.add_all(batch)
            await db.flush()
        return catalog.seeded()


def _hotel(code: str, region_id: int, name: str, discount: int) -> HotelRow:
    return HotelRow(code=code, region_id=region_id, name=name, search_name=name.casefold(), discount_percent=discount)


def _session(event_id: int, starts_at: datetime, capacity: int, status: str = "scheduled") -> SessionRow:
    return SessionRow(event_id=event_id, starts_at=starts_at, capacity=capacity, seats_left=capacity, status=status)


async def seed_user(
    sessions: async_sessionmaker,
    user_id: int,
    language: str = "en",
    now: datetime = DEFAULT_NOW,
    hotel_id: int | None = None,
    *,
    first_name: str | None = "Test",
    username: str | None = None,
    phone: str | None = None,
    region_id: int | None = None,
) -> User:
    """Insert a tourist; with a hotel, their region is the hotel's (as ``set_hotel`` does)."""
    async with sessions() as db, db.begin():
        if hotel_id is not None and region_id is None:
            hotel = await db.get(HotelRow, hotel_id)
            region_id = hotel.region_id if hotel else None
        user = User(
            id=user_id,
            language=language,
            created_at=now,
            first_name=first_name,
            username=username,
            phone=phone,
            hotel_id=hotel_id,
            region_id=region_id,
        )
        db.add(
            UserRow(
                id=user.id,
                language=user.language,
                created_at=user.created_at,
                first_name=user.first_name,
                username=user.username,
                phone=user.phone,
                hotel_id=user.hotel_id,
                region_id=user.region_id,
                blocked_bot=False,
            )
        )
    return user


async def seed_users(
    sessions: async_sessionmaker,
    user_ids: Iterable[int],
    now: datetime = DEFAULT_NOW,
    languages: Mapping[int, str] | None = None,
) -> None:
    """Many tourists in one transaction (for concurrency tests and benchmarks), in English unless ``languages``
    says otherwise."""
    async with sessions() as db, db.begin():
        db.add_all(
            UserRow(
                id=uid,
                language=(languages or {}).get(uid, "en"),
                created_at=now,
                first_name=None,
                username=None,
                phone=None,
                hotel_id=None,
                region_id=None,
                blocked_bot=False,
            )
            for uid in user_ids
        )
