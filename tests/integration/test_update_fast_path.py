"""The update path's fewer round trips (issue 11): an update stored and claimed in one transaction, the user read with
the conversation state, and the chat's next looked for only when there may be one (on SQLite); the guarantees of
bot/inbox.py stay: each update once, a chat's in order, a chat busy elsewhere left to its claimer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event, select

from bot.inbox import Inbox
from bot.inbox_worker import InboxWorker
from bot.replicas import Replica
from bot.storage.db import session_factory
from bot.storage.fsm import SqlStorage
from bot.storage.tables import InboxRow
from bot.storage.uow import SqlUnitOfWork
from bot.storage.update_scope import CURRENT, UpdateScope
from domain.model.users import User
from tests.fakes import FixedClock
from tests.integration.test_inbox import BOT, RecordingDispatcher, message


class Form(StatesGroup):
    step = State()


def raw(update_id: int, chat_id: int) -> dict[str, Any]:
    return message(update_id, chat_id).model_dump(mode="json", exclude_none=True, by_alias=True)


class Transactions:
    """Counts the transactions begun on an engine (both dialects: ``BEGIN`` is not a statement on PostgreSQL)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "begin", self._begin)

    def _begin(self, _connection) -> None:
        self.count += 1


async def rows(engine) -> dict[int, tuple[str, str | None]]:
    async with session_factory(engine)() as db:
        found = (await db.execute(select(InboxRow.update_id, InboxRow.status, InboxRow.claimed_by))).all()
    return {update_id: (status, claimer) for update_id, status, claimer in found}


async def test_an_update_is_stored_and_claimed_in_one_transaction_then_handled(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    dp = RecordingDispatcher()
    worker = InboxWorker(dp, BOT, inbox)
    transactions = Transactions(engine)

    fresh = await worker.accept([raw(1, 10)])

    assert [u.update_id for u in fresh] == [1]
    assert transactions.count == 1  # the store and the claim together
    assert await rows(engine) == {1: ("handling", inbox.replica_id)}  # claimed before its task even started
    await worker.settled(fresh)
    assert dp.finished == [1]
    assert (await rows(engine))[1][0] == "done"


async def test_a_batch_keeps_each_chat_in_order_and_leaves_nothing_behind(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    dp = RecordingDispatcher(delay=0.01)
    worker = InboxWorker(dp, BOT, inbox)

    first = await worker.accept([raw(1, 10), raw(2, 10), raw(3, 20)])
    later = await worker.accept([raw(4, 10), raw(5, 20)])  # arrive while the chats are in hand
    await worker.settled(first + later)

    assert [u for u in dp.finished if u in (1, 2, 4)] == [1, 2, 4]
    assert [u for u in dp.finished if u in (3, 5)] == [3, 5]
    assert sorted(dp.finished) == [1, 2, 3, 4, 5]  # each once
    assert await worker.wait_idle(5)
    assert {status for status, _ in (await rows(engine)).values()} == {"done"}


async def test_a_chat_busy_in_another_replica_is_not_claimed_on_arrival(engine) -> None:
    clock = FixedClock()
    other = Replica(engine)
    await other.connect()
    try:
        holder = Inbox(session_factory(engine), clock, other)
        await holder.store([message(1, 10)])
        assert (await holder.claim_next(10, BOT)).update_id == 1  # in hand over there

        me = Replica(engine)
        inbox = Inbox(session_factory(engine), clock, me)
        dp = RecordingDispatcher()
        worker = InboxWorker(dp, BOT, inbox)
        fresh = await worker.accept([raw(2, 10), raw(3, 20)])
        await worker.settled(fresh)

        assert dp.finished == [3]  # chat 10 waits for its update 1, handled elsewhere
        assert (await rows(engine))[2] == ("pending", None)
        await holder.finish(1, None, next_of=(10, BOT), claimer=other.id)  # that replica takes the chat's next
        assert (await rows(engine))[2] == ("handling", other.id)
    finally:
        await other.close()


async def test_the_user_comes_with_the_conversation_in_one_statement(engine) -> None:
    sessions = session_factory(engine)
    uow = SqlUnitOfWork(sessions)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with uow:
        await uow.users.add(User(id=42, language="de", created_at=now, first_name="Tess"))
        await uow.commit()
    storage = SqlStorage(sessions)
    await storage.set_state(StorageKey(bot_id=1, chat_id=42, user_id=42), Form.step)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    token = CURRENT.set(UpdateScope())
    try:
        assert await storage.get_state(StorageKey(bot_id=1, chat_id=42, user_id=42)) == Form.step.state
        async with uow.read():
            user = await uow.users.get(42)
        assert len(statements) == 1  # the state and the user together
        assert user is not None and (user.language, user.first_name) == ("de", "Tess")

        async with uow.read():
            assert await uow.users.get(7) is None  # someone else: read from the database
        assert len(statements) == 2

        async with uow:  # a write transaction always reads the database, and a change is not hidden by the read
            user = await uow.users.get(42)
            assert user is not None
            user.language = "et"
            await uow.users.save(user)
            await uow.commit()
        async with uow.read():
            again = await uow.users.get(42)
        assert again is not None and again.language == "et"
    finally:
        CURRENT.reset(token)


async def test_a_stranger_without_a_row_is_read_as_none_with_the_conversation(engine) -> None:
    storage = SqlStorage(session_factory(engine))
    uow = SqlUnitOfWork(session_factory(engine))
    token = CURRENT.set(UpdateScope())
    try:
        assert await storage.get_state(StorageKey(bot_id=1, chat_id=99, user_id=99)) is None
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        async with uow.read():
            assert await uow.users.get(99) is None
        assert statements == []  # known to be missing from the same read
    finally:
        CURRENT.reset(token)
