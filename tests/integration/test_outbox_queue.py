"""Claiming outbox rows: two senders at once never take the same row, and nothing is left behind. The sender on
top of it: several requests in flight, each chat's messages one at a time and in order, a 429 or a network error
deferring only that chat, nothing lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import CopyMessage, TelegramMethod
from aiogram.types import MessageId
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.i18n import I18n
from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.db import session_factory
from bot.storage.outbox import LEASE, OutboxQueue
from bot.storage.tables import OutboxRow
from domain.model.messages import OutboxKind
from tests.conftest import engine_twin
from tests.fakes import FixedClock

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KINDS = ["tourist.order_confirmed"]
TOKEN = "42:outbox-sender-test"


async def test_two_senders_share_the_rows_without_overlap(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(
            OutboxRow(
                kind=KINDS[0],
                chat_id=i,
                payload={"order_id": i},
                dedup_key=f"k{i}",
                status="pending",
                attempts=0,
                due_at=NOW,
                created_at=NOW,
            )
            for i in range(1, 301)
        )
    # each sender has its own engine and pool, as two processes would
    engines = [engine_twin(engine) for _ in range(2)]
    queues = [OutboxQueue(session_factory(e)) for e in engines]
    taken: list[list[int]] = [[], []]

    async def drain(index: int) -> None:
        while rows := await queues[index].claim(NOW, KINDS, 7):
            taken[index].extend(r.id for r in rows)
            await asyncio.sleep(0)

    await asyncio.gather(drain(0), drain(1))
    for e in engines:
        await e.dispose()
    assert set(taken[0]).isdisjoint(taken[1])
    assert sorted(taken[0] + taken[1]) == list(range(1, 301))


def row(
    id_: int, chat: int, due: datetime, attempts: int = 0, status: str = "pending", urgent: bool = False
) -> OutboxRow:
    return OutboxRow(
        urgent=urgent,
        id=id_,
        kind=KINDS[0],
        chat_id=chat,
        payload={"order_id": id_},
        dedup_key=f"order-{id_}",
        status=status,
        attempts=attempts,
        due_at=due,
        created_at=NOW,
    )


async def test_a_later_row_of_a_chat_never_overtakes_one_waiting_out_a_retry(engine) -> None:
    """Row 1 failed once and waits until +2 s; row 2 of the same chat was made meanwhile, due at once (the sender that
    deferred row 1 may have restarted and forgotten it): row 2 waits for row 1, and once both are due row 1 comes
    first. Another chat is not held up, nor is anyone by a message scheduled for later (never tried)."""
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(
            [
                row(1, 10, NOW + timedelta(seconds=2), attempts=1),
                row(2, 10, NOW - timedelta(seconds=1)),
                row(3, 20, NOW),
                row(4, 30, NOW + timedelta(hours=5)),  # scheduled for later
                row(5, 30, NOW),
            ]
        )
    queue = OutboxQueue(sessions)
    assert [c.id for c in await queue.claim(NOW, KINDS, 10)] == [3, 5]
    later = NOW + timedelta(seconds=3)
    assert [c.id for c in await queue.claim(later, KINDS, 10)] == [1, 2]  # in the order they were made


async def test_an_urgent_row_goes_ahead_of_the_queue_after_its_chat_s_earlier_rows(engine) -> None:
    """A backlog of 30 rows; then an urgent one (a waiting room's "your turn") for chat 7, which has two rows in the
    backlog and one made after: the first claim takes chat 7's two earlier rows and the urgent one, in that order,
    then fills up with the oldest of the rest; chat 7's later row stays behind its urgent one (taken by the sender
    that has chat 7 in hand). A row of chat 7 still
    waiting out a retry holds the urgent one back, as any row of its chat."""
    sessions = session_factory(engine)
    backlog = [row(i, 100 + i, NOW) for i in range(1, 31) if i not in (12, 25)]
    async with sessions() as db, db.begin():
        db.add_all([*backlog, row(12, 7, NOW), row(25, 7, NOW), row(31, 7, NOW, urgent=True), row(32, 7, NOW)])
    queue = OutboxQueue(sessions)
    first = await queue.claim(NOW, KINDS, 6)
    assert [c.id for c in first] == [12, 25, 31, 1, 2, 3]
    rest = [c.id for c in await queue.claim(NOW, KINDS, 100)]
    assert rest == [i for i in range(4, 31) if i not in (12, 25)]  # chat 7's later row waits: its others are out
    assert [c.id for c in await queue.claim(NOW, KINDS, 100, held_chats={7})] == [32]  # ... in this sender's hand

    async with sessions() as db, db.begin():
        db.add_all([row(40, 8, NOW + timedelta(seconds=2), attempts=1), row(41, 8, NOW, urgent=True), row(42, 9, NOW)])
    assert [c.id for c in await queue.claim(NOW, KINDS, 10)] == [42]
    assert [c.id for c in await queue.claim(NOW + timedelta(seconds=3), KINDS, 10)] == [40, 41]


async def test_a_row_in_flight_is_not_claimed_again_until_its_lease_ends(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add(
            OutboxRow(
                kind=KINDS[0],
                chat_id=1,
                payload={},
                dedup_key="one",
                status="pending",
                attempts=0,
                due_at=NOW,
                created_at=NOW,
            )
        )
    queue = OutboxQueue(sessions)
    [first] = await queue.claim(NOW, KINDS, 10)
    assert await queue.claim(NOW, KINDS, 10) == []
    [again] = await queue.claim(NOW.replace(minute=2), KINDS, 10)
    assert (again.id, again.attempts) == (first.id, 2)
    await queue.sent(again.id, NOW, 42)
    assert await queue.claim(NOW.replace(minute=10), KINDS, 10) == []


async def test_a_leased_row_outside_the_hand_holds_its_chat_until_the_lease_ends(engine) -> None:
    """Row 1 of chat 10 is leased (a run that failed left it so, or a sender that died); row 2 of the chat, made
    after, waits for the lease to end, while chat 20 goes on. The sender whose hand holds chat 10 (it sends the
    chat's rows one after the other) takes row 2 at once. When the lease ends, row 1 comes first."""
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(
            [
                row(1, 10, NOW + LEASE, attempts=1, status="sending"),
                row(2, 10, NOW),
                row(3, 20, NOW),
            ]
        )
    queue = OutboxQueue(sessions)
    assert [c.id for c in await queue.claim(NOW, KINDS, 10)] == [3]
    await queue.sent(3, NOW, 1)
    assert [c.id for c in await queue.claim(NOW, KINDS, 10, held_chats={30})] == []
    assert [c.id for c in await queue.claim(NOW, KINDS, 10, held_chats={10})] == [2]
    await queue.release([(2, NOW)], "given back")
    after_lease = NOW + LEASE + timedelta(seconds=1)
    assert [c.id for c in await queue.claim(after_lease, KINDS, 10)] == [1, 2]


# ---- the sender: several requests in flight, each chat in order ----------------------------------------------------


class SlowTelegram(BaseSession):
    """Answers ``copyMessage`` after ``delay`` seconds (a network round trip), recording when each request started
    and ended; ``fail`` holds, per chat, the errors its next requests raise (after the delay)."""

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__()
        self.delay = delay
        self.started: list[tuple[int, int]] = []  # (chat, the row's number) in the order requests left
        self.delivered: list[tuple[int, int]] = []  # (chat, the row's number) as Telegram accepted them
        self.flying: dict[int, int] = {}  # chat -> requests in flight now
        self.most_in_flight = 0
        self.most_per_chat = 0
        self.fail: dict[int, list[BaseException]] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        assert isinstance(method, CopyMessage)
        chat, number = int(method.chat_id), method.message_id
        self.started.append((chat, number))
        self.flying[chat] = self.flying.get(chat, 0) + 1
        self.most_in_flight = max(self.most_in_flight, sum(self.flying.values()))
        self.most_per_chat = max(self.most_per_chat, self.flying[chat])
        try:
            await asyncio.sleep(self.delay)
            if self.fail.get(chat):
                raise self.fail[chat].pop(0)
            self.delivered.append((chat, number))
            return MessageId(message_id=len(self.delivered))
        finally:
            self.flying[chat] -= 1

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        raise NotImplementedError
        yield b""


def copy_row(chat_id: int, number: int) -> OutboxRow:
    """A row whose message is a copy of message ``number`` (so the request says which row it is)."""
    return OutboxRow(
        kind=OutboxKind.TEAM_COPY.value,
        chat_id=chat_id,
        payload={"from_chat": 1, "message_id": number},
        dedup_key=f"copy:{chat_id}:{number}",
        status="pending",
        attempts=0,
        due_at=NOW,
        created_at=NOW,
    )


async def sender_on(
    sessions: async_sessionmaker, telegram: SlowTelegram, clock: FixedClock, **options: Any
) -> tuple[OutboxSender, Bot]:
    bot = Bot(token=TOKEN, session=telegram)
    return OutboxSender(bot, sessions, I18n("en"), clock, limits=Limits.unlimited(), **options), bot


async def all_rows(sessions: async_sessionmaker) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def test_requests_fly_together_but_each_chat_s_messages_one_after_another_in_order(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():  # four chats, five messages each, interleaved as they were written
        db.add_all(copy_row(chat, number) for number in range(5) for chat in (11, 12, 13, 14))
    telegram = SlowTelegram()
    sender, _bot = await sender_on(sessions, telegram, FixedClock(NOW), batch=7, concurrency=8)
    assert await sender.drain() == 20
    assert telegram.most_in_flight > 1  # several requests at once
    assert telegram.most_per_chat == 1  # never two for one chat
    for chat in (11, 12, 13, 14):
        assert [n for c, n in telegram.delivered if c == chat] == list(range(5))
    rows = await all_rows(sessions)
    assert {row.status for row in rows} == {"sent"}  # marked, in group commits
    assert all(row.sent_message_id is not None for row in rows)


async def test_a_429_for_one_chat_defers_that_chat_only(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(copy_row(chat, number) for number in range(3) for chat in (21, 22, 23))
    telegram = SlowTelegram()
    telegram.fail[21] = [
        TelegramRetryAfter(
            method=CopyMessage(chat_id=21, from_chat_id=1, message_id=0),
            message="Too Many Requests: retry after 30",
            retry_after=30,
        )
    ]
    clock = FixedClock(NOW)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sender, _bot = await sender_on(sessions, telegram, clock, sleep=sleep)
    assert await sender.drain() == 6  # the other chats' messages, in the same run
    assert slept == []  # nobody waited out the 30 s
    assert sorted(telegram.delivered) == [(chat, n) for chat in (22, 23) for n in range(3)]
    waiting = [row for row in await all_rows(sessions) if row.chat_id == 21]
    assert [(row.status, row.attempts) for row in waiting] == [("pending", 0)] * 3  # waiting is not failing
    assert all(row.due_at.replace(tzinfo=UTC) >= NOW + timedelta(seconds=30) for row in waiting)
    assert [row.due_at for row in waiting] == sorted(row.due_at for row in waiting)  # they come back in order
    clock.advance(seconds=31)
    assert await sender.drain() == 3
    assert [n for c, n in telegram.delivered if c == 21] == [0, 1, 2]


async def test_a_network_error_loses_nothing_and_doubles_nothing_and_keeps_the_order(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(copy_row(chat, number) for number in range(3) for chat in (31, 32))
    telegram = SlowTelegram()
    telegram.fail[31] = [
        TelegramNetworkError(
            method=CopyMessage(chat_id=31, from_chat_id=1, message_id=0),
            message="ClientConnectorError: connection reset",
        )
    ]
    clock = FixedClock(NOW)
    sender, _bot = await sender_on(sessions, telegram, clock)
    assert await sender.drain() == 3  # chat 32's; chat 31's first failed, its others wait behind it
    first, *others = [row for row in await all_rows(sessions) if row.chat_id == 31]
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "ClientConnectorError: connection reset")
    assert [(row.status, row.attempts) for row in others] == [("pending", 0)] * 2
    clock.advance(seconds=3)  # past the backoff of a first failure (2 s)
    assert await sender.drain() == 3
    assert [n for c, n in telegram.delivered if c == 31] == [0, 1, 2]  # each once, in order
    assert len(telegram.delivered) == 6
    assert {row.status for row in await all_rows(sessions)} == {"sent"}


class HangingTelegram(SlowTelegram):
    """:class:`SlowTelegram` whose failing requests first hang for ``hang_s`` (on the test's clock): a gateway that
    gives up after a while, longer than the sender's first pause (2 s)."""

    def __init__(self, clock: FixedClock, hang_s: float) -> None:
        super().__init__()
        self.clock, self.hang_s = clock, hang_s

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        assert isinstance(method, CopyMessage)
        if self.fail.get(int(method.chat_id)):
            self.clock.advance(seconds=self.hang_s)
        return await super().make_request(bot, method, timeout)


async def test_a_request_that_hangs_longer_than_the_pause_still_keeps_its_chat_s_order(engine) -> None:
    """The pause after a failure counts from the failure: a request that hung for 5 s, then failed, still holds its
    chat's later rows (in hand already) behind it, instead of freeing the chat at once (the faults e2e caught an
    organiser's booking requests arriving out of order this way)."""
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(copy_row(41, number) for number in range(3))
    clock = FixedClock(NOW)
    telegram = HangingTelegram(clock, hang_s=5)
    telegram.fail[41] = [
        TelegramServerError(method=CopyMessage(chat_id=41, from_chat_id=1, message_id=0), message="Gateway Timeout")
    ]
    sender, _bot = await sender_on(sessions, telegram, clock)
    assert await sender.drain() == 0  # the first failed; the others wait behind it
    assert [(row.status, row.attempts) for row in await all_rows(sessions)] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
    ]
    clock.advance(seconds=3)  # past the first pause (2 s), counted from the failure
    assert await sender.drain() == 3
    assert telegram.delivered == [(41, 0), (41, 1), (41, 2)]


async def test_a_long_hold_for_everyone_gives_the_rows_back_instead_of_keeping_them_past_their_lease(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(copy_row(chat, 0) for chat in (41, 42))
    ticks = [1000.0]
    limits = Limits(clock=lambda: ticks[0])
    limits.take(41)
    assert limits.flooded(41, 30)  # Telegram asked every chat to wait 30 s
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    telegram = SlowTelegram()
    sender = OutboxSender(
        Bot(token=TOKEN, session=telegram), sessions, I18n("en"), FixedClock(NOW), limits=limits, sleep=sleep
    )
    assert await sender.drain() == 0
    assert slept == [] and telegram.started == []
    rows = await all_rows(sessions)
    assert [(row.status, row.attempts) for row in rows] == [("pending", 0)] * 2
    assert all(row.due_at.replace(tzinfo=UTC) >= NOW + timedelta(seconds=29) for row in rows)


async def test_a_run_that_fails_gives_its_rows_back_and_its_chats_keep_their_order(engine, monkeypatch) -> None:
    """The first mark of a run fails (the database went away after Telegram took the message): the run ends with
    the error, the rows in hand go back untouched, and the row whose mark failed stays leased, so its chat's later
    rows wait for it. When the lease ends it goes again (at least once), then the chat's others, in order."""
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(copy_row(41, number) for number in range(3))
    telegram = SlowTelegram()
    clock = FixedClock(NOW)
    sender, _bot = await sender_on(sessions, telegram, clock)
    marks = sender.queue.sent_many
    failed: list[int] = []

    async def sent_many(rows, now):  # type: ignore[no-untyped-def]
        if not failed:
            failed.extend(row_id for row_id, _ in rows)
            raise ConnectionResetError("the database went away")
        await marks(rows, now)

    monkeypatch.setattr(sender.queue, "sent_many", sent_many)
    try:
        await sender.drain()
    except ConnectionResetError:
        pass
    else:
        raise AssertionError("the run's error was swallowed")
    assert telegram.delivered == [(41, 0)]
    rows = await all_rows(sessions)
    assert [(row.status, row.attempts) for row in rows] == [("sending", 1), ("pending", 0), ("pending", 0)]
    assert await sender.drain() == 0  # the chat waits for its leased row
    assert telegram.delivered == [(41, 0)]
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await sender.drain() == 3
    assert telegram.delivered == [(41, 0), (41, 0), (41, 1), (41, 2)]
