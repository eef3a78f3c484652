"""Conversation state (aiogram FSM) in the database: a booking in progress survives a restart or a deploy, and
replicas sharing the database share it. Redis is the alternative when configured (``REDIS_URL``).

Within an update handled by the inbox (bot/storage/update_scope.py) the state and data are read in one SELECT
without a transaction, served from that read for the rest of the update, and a change is written once, with the
inbox's mark, at its end; a change back to what was read writes nothing. In a private chat that SELECT reads the user
too (one statement for both: every update needs both, aiogram's FSM middleware first), for the user middleware."""

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
from sqlalchemy import BigInteger, String, Table, bindparam, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.storage.db import dialect_insert
from bot.storage.reads import engine_of, read_engine
from bot.storage.tables import FsmRow, UserRow
from bot.storage.update_scope import CURRENT, remember_user

Conversation = tuple[str | None, dict[str, Any]]

_FSM: Table = FsmRow.__table__  # type: ignore[assignment]
_USERS: Table = UserRow.__table__  # type: ignore[assignment]
_ANCHOR = select(literal(1).label("one")).subquery("anchor")  # one row, whichever of the two exists
_CONVERSATION_AND_USER = select(
    _FSM.c.key.label("fsm_key"), _FSM.c.state.label("fsm_state"), _FSM.c.data.label("fsm_data"), *_USERS.c
).select_from(
    _ANCHOR.outerjoin(_FSM, _FSM.c.key == bindparam("name", type_=String)).outerjoin(
        _USERS, _USERS.c.id == bindparam("user_id", type_=BigInteger)
    )
)


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

    async def _read(self, key: StorageKey) -> Conversation:
        name = self._key(key)
        scope = CURRENT.get()
        if scope is not None and f"fsm:{name}" in scope.read:
            state, data = scope.read[f"fsm:{name}"]
            return state, dict(data)
        found: Conversation = (None, {})
        async with self._reader.connect() as connection:
            if scope is not None and key.chat_id == key.user_id:  # a private chat: its user, in the same statement
                both = (await connection.execute(_CONVERSATION_AND_USER, {"name": name, "user_id": key.user_id})).one()
                remember_user(key.user_id, both if both.id is not None else None)
                if both.fsm_key is not None:
                    found = (both.fsm_state, dict(both.fsm_data or {}))
            else:
                row = (await connection.execute(select(FsmRow.state, FsmRow.data).where(FsmRow.key == name))).first()
                if row is not None:
                    found = (row[0], dict(row[1] or {}))
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
        state, data = await self._read(key)
        changed: Conversation = (values.get("state", state), dict(values.get("data", data)))
        scope.read[f"fsm:{name}"] = changed
        if changed == scope.read[f"fsm-stored:{name}"]:
            scope.writes.pop(f"fsm:{name}", None)
        else:
            scope.writes[f"fsm:{name}"] = partial(_store, name, changed)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._change(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self._read(key))[1]

    async def close(self) -> None:
        return None


async def _store(name: str, conversation: Conversation, db: AsyncConnection) -> None:
    """The conversation's row as it is now, in the caller's transaction: none for a conversation without state or
    data."""
    state, data = conversation
    if state is None and not data:
        await db.execute(_FORGET, {"name": name})
        return
    await db.execute(_upsert(db.dialect.name), {"key": name, "state": state, "data": data})


_FORGET = delete(_FSM).where(_FSM.c.key == bindparam("name"))
_UPSERTS: dict[str, Any] = {}  # per dialect, built once (see bot/storage/db.py's dialect_insert)


def _upsert(dialect: str) -> Any:
    if (statement := _UPSERTS.get(dialect)) is None:
        insert = dialect_insert(dialect, _FSM)
        statement = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=[_FSM.c.key], set_={"state": insert.excluded.state, "data": insert.excluded.data}
        )
    return statement
