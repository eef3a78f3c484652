"""What the bot last set on Telegram about itself (``bot_profile``, migration 0014): read all at once at a start, or
one by key; remembered after Telegram said yes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.db import changed_rows
from bot.storage.tables import BotProfileRow


class BotProfileStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def values(self, prefix: str) -> Mapping[str, str]:
        """Every remembered value whose key starts with ``prefix``."""
        async with self.sessions() as db:
            rows = await db.scalars(select(BotProfileRow).where(BotProfileRow.key.startswith(prefix, autoescape=True)))
            return {row.key: row.value for row in rows}

    async def value(self, key: str) -> str | None:
        async with self.sessions() as db:
            return await db.scalar(select(BotProfileRow.value).where(BotProfileRow.key == key))

    async def remember(self, key: str, value: str, now: datetime) -> None:
        """Upsert: another replica remembering the same key at the same moment is no error (one of the equal values
        stays)."""
        try:
            async with self.sessions() as db, db.begin():
                statement = update(BotProfileRow).where(BotProfileRow.key == key).values(value=value, set_at=now)
                if not await changed_rows(db, statement):
                    db.add(BotProfileRow(key=key, value=value, set_at=now))
        except IntegrityError:
            async with self.sessions() as db, db.begin():
                await db.execute(update(BotProfileRow).where(BotProfileRow.key == key).values(value=value, set_at=now))
