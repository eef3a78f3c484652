"""Conversation state in the database (the default FSM storage): it survives a restart and replicas share it."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from bot.storage.db import session_factory
from bot.storage.fsm import SqlStorage
from bot.storage.tables import FsmRow
from tests.conftest import engine_twin


class Form(StatesGroup):
    step = State()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


async def test_state_and_data_round_trip(engine) -> None:
    storage = SqlStorage(session_factory(engine))
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    await storage.set_state(KEY, Form.step)
    await storage.set_data(KEY, {"draft": "ab12", "qty": {"adult": 2}})
    assert await storage.get_state(KEY) == Form.step.state
    assert await storage.update_data(KEY, {"q": 1}) == {"draft": "ab12", "qty": {"adult": 2}, "q": 1}
    assert await storage.get_data(StorageKey(bot_id=1, chat_id=43, user_id=43)) == {}  # others are separate


async def test_another_process_sees_it_and_clearing_leaves_no_row(engine) -> None:
    await SqlStorage(session_factory(engine)).set_state(KEY, Form.step)
    other = engine_twin(engine)  # a restarted process, or another replica
    try:
        storage = SqlStorage(session_factory(other))
        assert await storage.get_state(KEY) == Form.step.state
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
    finally:
        await other.dispose()
    async with session_factory(engine)() as db:
        assert await db.scalar(select(func.count()).select_from(FsmRow)) == 0
