"""The SQLAlchemy unit of work (``domain.ports.UnitOfWork``): one AsyncSession per ``async with``, rolled back
unless committed."""

from __future__ import annotations

import asyncio
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.audit import SqlAuditRepository
from bot.storage.catalog import SqlCatalogRepository
from bot.storage.catalog_cache import CachedCatalogRepository, CachedOrganiserSettingsRepository, CatalogCache
from bot.storage.checkins import SqlCheckinRepository
from bot.storage.desk import SqlDeskRepository
from bot.storage.discount_codes import SqlDiscountCodeRepository
from bot.storage.favourites import SqlFavouriteRepository
from bot.storage.offers import SqlOfferRepository
from bot.storage.orders import SqlOrderRepository
from bot.storage.organiser_catalog import SqlOrganiserCatalogRepository
from bot.storage.organiser_settings import SqlOrganiserSettingsRepository
from bot.storage.outbox import SqlOutboxRepository
from bot.storage.payments import SqlPaymentRepository
from bot.storage.places import SqlPlaceRepository
from bot.storage.points import SqlPointsRepository
from bot.storage.questions import SqlQuestionRepository
from bot.storage.reads import read_sessions, writers_turn
from bot.storage.reminders import SqlReminderRepository
from bot.storage.seats import SqlSeatRepository
from bot.storage.users import SqlUserRepository
from bot.storage.waiting_room import SqlWaitingRoomRepository
from bot.storage.waitlist import SqlWaitlistRepository
from domain.discount_ports import DiscountCodeRepository
from domain.favourite_ports import FavouriteRepository
from domain.offer_ports import OfferRepository
from domain.place_ports import PlaceRepository
from domain.points_ports import PointsRepository
from domain.ports import (
    AuditRepository,
    CatalogRepository,
    CheckinRepository,
    DeskRepository,
    OrderRepository,
    OrganiserCatalogRepository,
    OrganiserSettingsRepository,
    OutboxRepository,
    PaymentRepository,
    QuestionRepository,
    ReminderRepository,
    SeatRepository,
    UserRepository,
    WaitingRoomRepository,
    WaitlistRepository,
)


class SqlUnitOfWork:
    """Re-enterable: each ``async with`` is a new transaction, so one instance serves a whole update;
    ``async with uow.read():`` is a block that only reads, without a transaction (bot/storage/reads.py).

    With a :class:`~bot.storage.catalog_cache.CatalogCache` the static catalog comes from memory. On SQLite the
    transactions of this process's units of work take turns (:func:`~bot.storage.reads.writers_turn`).
    The repositories are typed as the ports, so mypy checks that each SQL repository implements its port.
    """

    users: UserRepository
    catalog: CatalogRepository
    seats: SeatRepository
    orders: OrderRepository
    outbox: OutboxRepository
    audit: AuditRepository
    payments: PaymentRepository
    reminders: ReminderRepository
    questions: QuestionRepository
    desk: DeskRepository
    waitlist: WaitlistRepository
    rooms: WaitingRoomRepository
    checkins: CheckinRepository
    organiser_catalog: OrganiserCatalogRepository
    organiser_settings: OrganiserSettingsRepository
    discount_codes: DiscountCodeRepository
    offers: OfferRepository
    points: PointsRepository
    places: PlaceRepository
    favourites: FavouriteRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalog_cache: CatalogCache | None = None) -> None:
        self._sessions = sessions
        self._catalog_cache = catalog_cache
        self._session: AsyncSession | None = None
        self._reading = False
        self._turn: asyncio.Lock | None = None
        self._catalog_changed = False  # an organiser changed their catalog in this transaction (issue 14)

    def read(self) -> Self:
        """The next ``async with`` only reads: no transaction, no lock; a write in it fails."""
        self._reading = True
        return self

    async def __aenter__(self) -> Self:
        if self._session is not None:
            self._reading = False
            raise RuntimeError("unit of work is already open; nested transactions are not supported")
        reading, self._reading = self._reading, False
        if not reading and (turn := writers_turn(self._sessions)) is not None:
            await turn.acquire()
            self._turn = turn
        session = read_sessions(self._sessions)() if reading else self._sessions()
        self._session = session
        self.users = SqlUserRepository(session, reading)
        cache = self._catalog_cache
        self.catalog = CachedCatalogRepository(session, cache) if cache else SqlCatalogRepository(session)
        self.seats = SqlSeatRepository(session)
        self.orders = SqlOrderRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.audit = SqlAuditRepository(session)
        self.payments = SqlPaymentRepository(session)
        self.reminders = SqlReminderRepository(session)
        self.questions = SqlQuestionRepository(session)
        self.desk = SqlDeskRepository(session)
        self.waitlist = SqlWaitlistRepository(session)
        self.rooms = SqlWaitingRoomRepository(session)
        self.checkins = SqlCheckinRepository(session)
        self.organiser_settings = (
            CachedOrganiserSettingsRepository(session, cache, self._note_catalog_change)
            if cache
            else SqlOrganiserSettingsRepository(session)
        )
        self.discount_codes = SqlDiscountCodeRepository(session)
        self.offers = SqlOfferRepository(session)
        self.points = SqlPointsRepository(session)
        self.places = SqlPlaceRepository(session)
        self.favourites = SqlFavouriteRepository(session)
        self.organiser_catalog = SqlOrganiserCatalogRepository(session, self._note_catalog_change)
        self._catalog_changed = False
        await session.begin()
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self.session, None
        try:
            await session.rollback()  # a no-op after commit
        finally:
            await session.close()
            if (turn := self._turn) is not None:
                self._turn = None
                turn.release()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work is not open")
        return self._session

    def _note_catalog_change(self) -> None:
        self._catalog_changed = True

    async def commit(self) -> None:
        await self.session.commit()
        if self._catalog_changed and self._catalog_cache is not None:
            # this process's next booking sees the change at once (other processes within their refresh interval)
            self._catalog_cache.forget()
        self._catalog_changed = False

    async def rollback(self) -> None:
        await self.session.rollback()
