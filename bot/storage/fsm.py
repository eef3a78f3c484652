"""Conversation state (aiogram FSM) in the database: a booking in progress survives a restart or a deploy, and
replicas sharing the database share it. Redis is the alternative when configured (``REDIS_URL``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import FsmRow


class SqlStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None) -> None:
        self.sessions = sessions
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Change state or data; a conversation with neither keeps no row."""
        name = self._key(key)
        async with self.sessions() as db, db.begin():
            row = await db.get(FsmRow, name, with_for_update=True)
            new = row is None
            if row is None:
                row = FsmRow(key=name, state=None, data={})
            for field, value in values.items():
                setattr(row, field, value)
            empty = row.state is None and not row.data
            if new and not empty:
                db.add(row)
            elif not new and empty:
                await db.delete(row)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.sessions() as db:
            return await db.scalar(select(FsmRow.state).where(FsmRow.key == self._key(key)))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.sessions() as db:
            data = await db.scalar(select(FsmRow.data).where(FsmRow.key == self._key(key)))
        return dict(data) if data else {}

    async def close(self) -> None:
        return None
