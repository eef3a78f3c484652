"""Conversation state (aiogram FSM) in the database: a booking in progress survives a restart or a deploy, and
replicas sharing the database share it. Redis is the alternative when configured (``REDIS_URL``).

Within an update handled by the inbox (bot/storage/update_scope.py) the state and data are read in one SELECT
without a transaction, served from that read for the rest of the update, and a change is written once, with the
inbox's mark, at its end; a change back to what was read writes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.storage.db import dialect_insert
from bot.storage.reads import engine_of, read_engine
from bot.storage.tables import FsmRow
from bot.storage.update_scope import CURRENT

Conversation = tuple[str | None, dict[str, Any]]


class SqlStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None) -> None:
        self.sessions = sessions
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._reader = read_engine(engine_of(sessions))

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

    async def _read(self, name: str) -> Conversation:
        scope = CURRENT.get()
        if scope is not None and f"fsm:{name}" in scope.read:
            state, data = scope.read[f"fsm:{name}"]
            return state, dict(data)
        async with self._reader.connect() as connection:
            row = (await connection.execute(select(FsmRow.state, FsmRow.data).where(FsmRow.key == name))).first()
        found: Conversation = (row[0], dict(row[1] or {})) if row else (None, {})
        if scope is not None:
            scope.read[f"fsm:{name}"] = found
            scope.read[f"fsm-stored:{name}"] = found
        return found[0], dict(found[1])

    async def _change(self, key: StorageKey, **values: Any) -> None:
        scope = CURRENT.get()
        if scope is None:
            await self._write(key, **values)
            return
        name = self._key(key)
        state, data = await self._read(name)
        changed: Conversation = (values.get("state", state), dict(values.get("data", data)))
        scope.read[f"fsm:{name}"] = changed
        if changed == scope.read[f"fsm-stored:{name}"]:
            scope.writes.pop(f"fsm:{name}", None)
        else:
            scope.writes[f"fsm:{name}"] = partial(_store, name, changed)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._change(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(self._key(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self._read(self._key(key)))[1]

    async def close(self) -> None:
        return None


async def _store(name: str, conversation: Conversation, db: AsyncConnection) -> None:
    """The conversation's row as it is now, in the caller's transaction: none for a conversation without state or
    data."""
    state, data = conversation
    if state is None and not data:
        await db.execute(delete(FsmRow).where(FsmRow.key == name))
        return
    statement = dialect_insert(db.dialect.name, FsmRow).values(key=name, state=state, data=data)
    await db.execute(statement.on_conflict_do_update(index_elements=[FsmRow.key], set_={"state": state, "data": data}))
