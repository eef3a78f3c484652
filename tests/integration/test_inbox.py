"""The update inbox: stored before confirmed, repeats dropped, pending ones handled again, one chat in order (also
across replicas sharing the database); an update aiogram cannot decode is kept as failed and confirmed, and the bot
carries on; a transient database failure hands the update back instead of failing it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.inbox import Inbox
from bot.inbox_worker import InboxPolling, InboxWorker
from bot.storage.db import session_factory
from bot.storage.fsm import SqlStorage
from bot.storage.tables import FsmRow, InboxRow
from tests.fakes import FixedClock

BOT = Bot("123456:AAE_test-token-for-tripdesk-000000")


def message(update_id: int, chat_id: int, text: str = "hi") -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_764_000_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "T"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
                "text": text,
            },
        }
    )


class RecordingDispatcher:
    """Stands in for the Dispatcher: records which updates it was fed, taking ``delay`` for each."""

    def __init__(self, delay: float = 0.0, fail: set[int] | None = None) -> None:
        self.delay, self.fail = delay, fail or set()
        self.started: list[int] = []
        self.finished: list[int] = []

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.started.append(update.update_id)
        await asyncio.sleep(self.delay)
        if update.update_id in self.fail:
            raise RuntimeError("handler crashed")
        self.finished.append(update.update_id)


async def test_a_repeated_delivery_is_stored_once(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    assert [u.update_id for u in await inbox.store([message(1, 10), message(2, 10)])] == [1, 2]
    assert [u.update_id for u in await inbox.store([message(2, 10), message(3, 10)])] == [3]


async def statuses(engine) -> dict[int, str]:
    async with session_factory(engine)() as db:
        rows = (await db.execute(select(InboxRow.update_id, InboxRow.status))).all()
    return dict(rows)


async def sweep_once(worker: InboxWorker) -> None:
    """One pass of the worker's sweep, and the updates it found handled."""
    await worker.sweep()
    assert await worker.wait_idle(10)


async def test_pending_updates_are_handled_again_and_marked(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    await inbox.store([message(1, 10), message(2, 11)])  # stored by a process that died before handling them
    dp = RecordingDispatcher(fail={2})
    worker = InboxWorker(dp, BOT, Inbox(session_factory(engine), FixedClock()))  # the next start
    await sweep_once(worker)
    assert dp.finished == [1]
    assert await statuses(engine) == {1: "done", 2: "failed"}  # a crashed handler is failed, not retried forever


async def test_one_chat_in_order_other_chats_alongside(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    updates = [message(1, 10), message(2, 10), message(3, 20), message(4, 10)]
    await inbox.store(updates)
    dp = RecordingDispatcher(delay=0.05)
    worker = InboxWorker(dp, BOT, inbox)
    await worker.handle(updates)
    chat_10 = [i for i in dp.finished if i != 3]
    assert chat_10 == [1, 2, 4]
    assert dp.started.index(3) < dp.finished.index(2)  # chat 20 did not wait for chat 10
    assert await worker.wait_idle(1) and set((await statuses(engine)).values()) == {"done"}


async def test_handled_updates_are_forgotten_after_a_while(engine) -> None:
    clock = FixedClock(datetime(2026, 11, 30, tzinfo=UTC))
    inbox = Inbox(session_factory(engine), clock)
    await inbox.store([message(1, 10)])
    await inbox.finish(1, None)
    await inbox.forget_before(clock.now() + timedelta(days=1))
    assert [u.update_id for u in await inbox.store([message(1, 10)])] == [1]  # forgotten, so new again


# ---- a poison update: one aiogram cannot decode ---------------------------------------------------------------


class TelegramQueue(BaseSession):
    """Telegram's side of ``getUpdates``, answered as raw JSON through aiogram's own decoding (``check_response``):
    an update is forgotten once a call carries a higher offset; ``stop`` is set when the queue has been drained."""

    def __init__(self, updates: list[dict[str, Any]], stop: asyncio.Event, drops: int = 0) -> None:
        super().__init__()
        self.updates, self.stop, self.drops = list(updates), stop, drops
        self.offsets: list[int | None] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if method.__api_method__ == "deleteWebhook":  # polling starts by making sure no webhook is set
            return True
        assert method.__api_method__ == "getUpdates", method
        if self.drops:  # the network is gone for a while
            self.drops -= 1
            raise TelegramNetworkError(method, "ClientConnectorError: Cannot connect to host api.telegram.org:443")
        offset = getattr(method, "offset", None)
        self.offsets.append(offset)
        if offset is not None:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self.stop.set()
            await asyncio.sleep(0)
        content = json.dumps({"ok": True, "result": self.updates})
        return self.check_response(bot=bot, method=method, status_code=200, content=content).result

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        raise NotImplementedError
        yield b""


def poison(update_id: int) -> dict[str, Any]:
    """A message aiogram's models refuse (no chat, a date that is no date): as a newer Bot API or a bug might send."""
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": "yesterday", "text": "?", "from": {"id": 10, "is_bot": False}},
    }


async def test_a_poison_update_is_kept_as_failed_and_the_others_are_handled(engine, caplog) -> None:
    sessions = session_factory(engine)
    inbox = Inbox(sessions, FixedClock())
    good = [message(101, 10, "first"), message(103, 10, "last")]
    raw = [good[0].model_dump(mode="json", exclude_none=True, by_alias=True), poison(102)]
    raw.append(good[1].model_dump(mode="json", exclude_none=True, by_alias=True))
    stop = asyncio.Event()
    telegram = TelegramQueue(raw, stop)
    bot = Bot(BOT.token, session=telegram)
    dp = RecordingDispatcher()
    worker = InboxWorker(dp, bot, inbox)
    with caplog.at_level(logging.ERROR, logger="bot.inbox"):
        await asyncio.wait_for(InboxPolling(bot, inbox, worker).run(stop), 10)
        await worker.wait_idle(10)

    assert dp.finished == [101, 103]  # the good ones of the batch are handled
    assert telegram.offsets[-1] == 104  # confirmed past the poison one: Telegram forgets it
    async with sessions() as db:
        row = await db.get(InboxRow, 102)
    assert row is not None and row.status == "failed"
    assert row.payload == poison(102)  # the raw JSON, for a developer
    assert "message" in (row.last_error or "")
    [report] = [r for r in caplog.records if "102" in r.getMessage()]
    assert "cannot be decoded" in report.getMessage() and report.exc_info is None  # one line, no traceback

    # a restart: nothing pending, and Telegram does not send it again
    again = asyncio.Event()
    restarted = TelegramQueue(telegram.updates, again)
    dp_again = RecordingDispatcher()
    worker_again = InboxWorker(dp_again, Bot(BOT.token, session=restarted), inbox)
    await asyncio.wait_for(InboxPolling(worker_again.bot, inbox, worker_again).run(again), 10)
    await sweep_once(worker_again)
    assert restarted.updates == [] and dp_again.started == []


async def test_a_pending_update_that_no_longer_decodes_is_failed_at_start(engine) -> None:
    sessions = session_factory(engine)
    inbox = Inbox(sessions, FixedClock())
    await inbox.store([message(1, 10), message(2, 10)])
    async with sessions() as db, db.begin():  # stored by an older version, unreadable by this one
        await db.execute(update(InboxRow).where(InboxRow.update_id == 1).values(payload=poison(1)))
    dp = RecordingDispatcher()
    await sweep_once(InboxWorker(dp, BOT, inbox))
    assert dp.finished == [2]  # the chat goes on after it
    async with sessions() as db:
        row = await db.get(InboxRow, 1)
    assert row is not None and row.status == "failed" and row.payload == poison(1)


async def test_a_network_that_drops_is_retried_with_one_line_per_attempt(engine, caplog, monkeypatch) -> None:
    monkeypatch.setattr("bot.inbox_worker.BACKOFF", (0.01,))
    stop = asyncio.Event()
    raw = [message(1, 10).model_dump(mode="json", exclude_none=True, by_alias=True)]
    telegram = TelegramQueue(raw, stop, drops=3)
    dp = RecordingDispatcher()
    bot = Bot(BOT.token, session=telegram)
    inbox = Inbox(session_factory(engine), FixedClock())
    worker = InboxWorker(dp, bot, inbox)
    with caplog.at_level(logging.WARNING, logger="bot.inbox_worker"):
        await asyncio.wait_for(InboxPolling(bot, inbox, worker).run(stop), 10)
        await worker.wait_idle(10)
    assert dp.finished == [1]
    lines = [r for r in caplog.records if r.name == "bot.inbox_worker"]
    assert len(lines) == 3 and all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert "Cannot connect to host" in lines[0].getMessage()


async def test_the_polling_stores_on_a_connection_of_its_own_and_takes_a_new_one_after_a_failure(
    engine, monkeypatch, caplog
) -> None:
    """A batch's store never queues for the pool behind the handlers: the polling keeps one connection for it; one
    that failed (the database restarted under it) is closed, and the batch is stored on a new one."""
    monkeypatch.setattr("bot.inbox_worker.BACKOFF", (0.01,))
    stop = asyncio.Event()
    raw = [message(1, 10).model_dump(mode="json", exclude_none=True, by_alias=True)]
    bot = Bot(BOT.token, session=TelegramQueue(raw, stop))
    inbox = Inbox(session_factory(engine), FixedClock())
    dp = RecordingDispatcher()
    worker = InboxWorker(dp, bot, inbox)
    lanes: list[object] = []
    take = inbox.take

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        lane = args[4] if len(args) > 4 else kwargs.get("lane")
        lanes.append(lane)
        if len(lanes) == 1:
            raise OperationalError("INSERT INTO inbox", None, ConnectionResetError("the server closed the connection"))
        return await take(*args, **kwargs)

    monkeypatch.setattr(inbox, "take", failing_once)
    with caplog.at_level(logging.WARNING, logger="bot.inbox_worker"):
        await asyncio.wait_for(InboxPolling(bot, inbox, worker).run(stop), 10)
        await worker.wait_idle(10)
    assert dp.finished == [1]
    assert all(isinstance(lane, AsyncConnection) for lane in lanes) and lanes[0] is not lanes[1]
    assert all(lane.closed for lane in lanes)  # the failed one at once, the other when the polling ended
    assert [r.getMessage()[:22] for r in caplog.records] == ["storing updates failed"]


class ConversationDispatcher:
    """Stands in for the Dispatcher: each update reads the conversation several times and changes it as told."""

    def __init__(self, storage: SqlStorage, changes: dict[int, dict[str, Any]]) -> None:
        self.storage, self.changes = storage, changes
        self.seen: list[tuple[str | None, dict[str, Any]]] = []

    async def feed_update(self, bot: Bot, update: Update) -> None:
        key = StorageKey(bot_id=1, chat_id=10, user_id=10)
        for _ in range(3):  # the FSM middleware, a filter, the handler: one read between them
            state, data = await self.storage.get_state(key), await self.storage.get_data(key)
        self.seen.append((state, data))
        change = self.changes.get(update.update_id, {})
        if "state" in change:
            await self.storage.set_state(key, change["state"])
        if "data" in change:
            await self.storage.set_data(key, change["data"])


async def test_the_conversation_is_read_once_per_update_and_written_with_the_done_mark(engine) -> None:
    sessions = session_factory(engine)
    inbox = Inbox(sessions, FixedClock())
    storage = SqlStorage(sessions)
    dp = ConversationDispatcher(
        storage,
        {
            1: {"state": "Form:step", "data": {"draft": "ab"}},
            2: {},  # reads only
            3: {"state": "Form:step", "data": {"draft": "ab"}},  # the same again: nothing to write
            4: {"state": None, "data": {}},  # cleared: the row goes
        },
    )
    worker = InboxWorker(dp, BOT, inbox)
    statements: list[str] = []
    sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for update_id in (1, 2, 3, 4):
        [fresh] = await inbox.store([message(update_id, 10)])
        statements.clear()
        await worker.handle([fresh])
        fsm_reads = [s for s in statements if s.startswith("SELECT") and "fsm_state" in s]
        fsm_writes = [s for s in statements if "fsm_state" in s and not s.startswith("SELECT")]
        assert len(fsm_reads) == 1, update_id
        assert len(fsm_writes) == (0 if update_id in (2, 3) else 1), (update_id, fsm_writes)
        begins = [s for s in statements if s.startswith("BEGIN")]
        assert len(begins) <= 2  # the claim, then one transaction: the state's change with the inbox's mark
    assert dp.seen == [
        (None, {}),
        ("Form:step", {"draft": "ab"}),
        ("Form:step", {"draft": "ab"}),
        ("Form:step", {"draft": "ab"}),
    ]
    assert await storage.get_state(StorageKey(bot_id=1, chat_id=10, user_id=10)) is None
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(FsmRow)) == 0
        assert set(await db.scalars(select(InboxRow.status))) == {"done"}


async def test_a_failed_update_keeps_its_conversation_change_and_is_marked_failed(engine) -> None:
    sessions = session_factory(engine)
    inbox = Inbox(sessions, FixedClock())
    storage = SqlStorage(sessions)

    class Failing(ConversationDispatcher):
        async def feed_update(self, bot: Bot, update: Update) -> None:
            await super().feed_update(bot, update)
            raise RuntimeError("handler crashed")

    worker = InboxWorker(Failing(storage, {1: {"state": "Form:step"}}), BOT, inbox)
    [fresh] = await inbox.store([message(1, 10)])
    await worker.handle([fresh])
    assert await storage.get_state(StorageKey(bot_id=1, chat_id=10, user_id=10)) == "Form:step"
    async with sessions() as db:
        assert await db.scalar(select(InboxRow.status)) == "failed"
