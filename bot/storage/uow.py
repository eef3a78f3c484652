"""The SQLAlchemy unit of work: one AsyncSession per ``async with``, rolled back unless committed."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.desk import SqlDeskRepository
from bot.storage.questions import SqlQuestionRepository
from bot.storage.repositories import (
    SqlAuditRepository,
    SqlCatalogRepository,
    SqlOrderRepository,
    SqlOutboxRepository,
    SqlPaymentRepository,
    SqlReminderRepository,
    SqlSeatRepository,
    SqlUserRepository,
)


class SqlUnitOfWork:
    """Re-enterable: each ``async with`` is a new transaction, so one instance serves a whole update."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("unit of work is already open; nested transactions are not supported")
        session = self._sessions()
        self._session = session
        self.users = SqlUserRepository(session)
        self.catalog = SqlCatalogRepository(session)
        self.seats = SqlSeatRepository(session)
        self.orders = SqlOrderRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.audit = SqlAuditRepository(session)
        self.payments = SqlPaymentRepository(session)
        self.reminders = SqlReminderRepository(session)
        self.questions = SqlQuestionRepository(session)
        self.desk = SqlDeskRepository(session)
        await session.begin()
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        try:
            await session.rollback()  # a no-op after commit
        finally:
            await session.close()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work is not open")
        return self._session

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
