"""What the organiser screens' handler tests share (issue 14): the organiser routers in the production router list,
the organiser's chat in English (the seeded organiser reads Estonian; English keeps the assertions readable), and
the rows the screens change."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import AuditRow, OrganiserRow, OutboxRow, SessionRow
from tests.handlers.chat import Chat
from tests.seed import ORGANISER_CHAT_ID
from tests.telegram.recorder import RecordingSession


def wire_organiser_routers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bot.app.routers()`` with ``handlers.organiser.router`` after the booking answers, where the application puts
    it (a no-op once it is there)."""
    import bot.app
    from handlers import organiser

    original = bot.app.routers

    def routers() -> list[Any]:
        found = original()
        if organiser.router not in found:
            found.insert(2, organiser.router)
        return found

    monkeypatch.setattr(bot.app, "routers", routers)


def organiser_chat(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    return Chat(dp, bot, recorder, ORGANISER_CHAT_ID, language_code="en", first_name="Kapten")


async def session_row(sessions: async_sessionmaker, session_id: int) -> SessionRow:
    async with sessions() as db:
        row = await db.get(SessionRow, session_id)
        assert row is not None
        return row


async def sessions_of(sessions: async_sessionmaker, event_id: int) -> list[SessionRow]:
    async with sessions() as db:
        return list(await db.scalars(select(SessionRow).where(SessionRow.event_id == event_id)))


async def organiser_row(sessions: async_sessionmaker, organiser_id: int) -> OrganiserRow:
    async with sessions() as db:
        row = await db.get(OrganiserRow, organiser_id)
        assert row is not None
        return row


async def audit_actions(sessions: async_sessionmaker) -> list[tuple[str, str]]:
    async with sessions() as db:
        return [(r.actor, r.action) for r in await db.scalars(select(AuditRow).order_by(AuditRow.id))]


async def outbox_rows(sessions: async_sessionmaker, kind: str) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id)))
