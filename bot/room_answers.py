"""Book presses on a hot on-sale are answered as they arrive (issue 13), not when their update's turn comes.

When thousands press Book within a second, their updates wait in the inbox to be handled a dozen chats at a time
(bot/inbox_worker.py), each with its transactions: the last press of a burst of 1,000 was answered ~25 s after it
was made (bench/surge.py), and Telegram shows a spinner on the button meanwhile. What the press needs at once is
only its callback answer, and that costs no message: :class:`RoomAnswers` answers a Book press on a session with a
queue (its room lines people up or draws a pre-queue, or the catalog made it hot) the moment the update is stored,
with a toast in the tourist's language (one small JSON POST each: bot/callback_answers.py); the update is handled
later as usual (the place is taken in arrival order, its message follows through the outbox). Telegram takes one
answer per query, so the handler's own answer to such a query is not sent: :class:`RoomAnswers` is also a request
middleware of the bot's session that drops it (and returns True as Telegram would). A query handled by another
replica than the one that received it (webhooks are spread) has its second answer refused by Telegram, which
:func:`handlers.tourist.messaging.answer_query` ignores.

Which sessions have a queue is read with one query, at most every :data:`REFRESH_S`, in the background: the decision
is made at once from the last list (before the first read, and for a date that became hot within the last second,
the press is answered by its handler, as before). Nothing here decides anything about a place or a seat.
:class:`RoomAnsweringWorker` is the :class:`~bot.inbox_worker.InboxWorker` that does this for what it receives
(polling and webhook alike): ``bot/runner.py`` builds it. With polling it answers from Telegram's JSON before the
batch is stored, then takes the batch's presses into their lines together (bot/room_intake.py); and it lets the
tourists whose turn it is (read with the list of queues) go ahead of everyone waiting for a slot (bot/slots.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from contextvars import ContextVar
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.callback_answers import CallbackAnswers
from bot.i18n import I18n
from bot.inbox import Inbox, chat_key
from bot.inbox_worker import IN_HAND, SWEEP_S, InboxWorker, UpdateFeeder
from bot.room_intake import Intake, RoomIntake
from bot.storage.reads import read_sessions
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.waiting_room import PlaceStatus, RoomStatus
from domain.ports import Clock, UnitOfWork
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.ui import N_

log = logging.getLogger(__name__)

REFRESH_S = 1.0  # how old the list of sessions with a queue may be
IN_FLIGHT = 32  # answers in flight at once (each is one short request)
REMEMBERED = 20_000  # queries answered here that are remembered (a burst's; a handler gets to them within minutes)
_OWN: ContextVar[bool] = ContextVar("room_answer_on_receipt", default=False)
_QUEUES = (RoomStatus.PRE_QUEUE.value, RoomStatus.OPEN.value)
_ADMITTED = PlaceStatus.ADMITTED.value
_PREFIX = BookCb.__prefix__ + BookCb.__separator__
# one toast, true for everyone who presses Book on a hot date: a new place, a place they have, or their turn
TOAST = N_("⏳ Many people are booking this date: you are in its queue. Your place is shown in the queue's message.")


def book_press(update: Update) -> tuple[int, str, str | None] | None:
    """(session id, query id, the tourist's language) of a Book press on a date; None for anything else."""
    query = update.callback_query
    if query is None or not query.data or not query.data.startswith(_PREFIX):
        return None
    try:
        data = BookCb.unpack(query.data)
    except (TypeError, ValueError):  # forged or stale: its handler answers it
        return None
    if data.action is not BookAction.START:
        return None
    return data.session, query.id, query.from_user.language_code


def raw_book_press(item: object) -> tuple[int, str, str | None] | None:
    """:func:`book_press` read from an update as Telegram sent it (plain JSON), before it is decoded or stored."""
    query = item.get("callback_query") if isinstance(item, dict) else None
    if not isinstance(query, dict):
        return None
    data, query_id = query.get("data"), query.get("id")
    if not isinstance(data, str) or not data.startswith(_PREFIX) or not isinstance(query_id, str):
        return None
    try:
        unpacked = BookCb.unpack(data)
    except (TypeError, ValueError):
        return None
    if unpacked.action is not BookAction.START:
        return None
    sender = query.get("from")
    language = sender.get("language_code") if isinstance(sender, dict) else None
    return unpacked.session, query_id, language if isinstance(language, str) else None


class RoomAnswers(BaseRequestMiddleware):
    """Answers the Book presses of dates with a queue as soon as they are received, and keeps the handlers from
    answering them a second time (see the module's docstring)."""

    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession], i18n: I18n, clock: Clock) -> None:
        self.bot, self.sessions, self.i18n, self.clock = bot, sessions, i18n, clock
        self._queues: frozenset[int] = frozenset()
        self._admitted: frozenset[int] = frozenset()  # tourists whose turn it is, as last read
        self._read_at = float("-inf")
        self._reading: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._answered: OrderedDict[str, None] = OrderedDict()  # the queries answered here, the newest last
        self._answers = CallbackAnswers(bot, IN_FLIGHT)  # one small JSON POST each (bot/callback_answers.py)
        bot.session.middleware(self)

    def received(self, updates: Iterable[Update]) -> None:
        """Answer the Book presses among ``updates`` whose date has a queue (decided now, from the last list)."""
        self._answer(filter(None, map(book_press, updates)))

    def arrived(self, raw: Iterable[object]) -> None:
        """:meth:`received` for updates as Telegram sent them, before they are stored: the answers go out while
        the batch is being committed (a press whose store fails is sent again by Telegram and not answered twice)."""
        self._answer(filter(None, map(raw_book_press, raw)))

    def in_response(self, updates: Iterable[Update]) -> dict[str, Any] | None:
        """The answer to the first Book press among ``updates`` that :meth:`received` would answer, as a Bot API
        call for the webhook's HTTP response (Telegram makes it: no request of ours at all; its outcome is not
        known, and the tourist's queue message follows anyway); None when there is none. It counts as answered."""
        queues = self.queues()
        for session_id, query_id, language in filter(None, map(book_press, updates)):
            if session_id in queues and query_id not in self._answered:
                self._remember(query_id)
                return {"method": "answerCallbackQuery", "callback_query_id": query_id, "text": self._toast(language)}
        return None

    def _answer(self, presses: Iterable[tuple[int, str, str | None]]) -> None:
        queues = self.queues()
        for session_id, query_id, language in presses:
            if session_id in queues and query_id not in self._answered:
                self._remember(query_id)
                self._spawn(self._answer_one(query_id, language))

    def _remember(self, query_id: str) -> None:
        self._answered[query_id] = None  # from now on the handler's answer is not sent
        while len(self._answered) > REMEMBERED:
            self._answered.popitem(last=False)

    def _toast(self, language: str | None) -> str:
        return self.i18n.translator(self.i18n.best(language)).gettext(TOAST)[:200]

    def answered(self, query_id: str) -> bool:
        return query_id in self._answered

    async def _answer_one(self, query_id: str, language: str | None) -> None:
        token = _OWN.set(True)
        try:  # a failed answer is logged there (rare: the tourist's message follows anyway)
            async with self._slots:
                await self._answers.answer(query_id, self._toast(language))
        finally:
            _OWN.reset(token)

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        """A handler's answer to a query answered here is not sent (Telegram would refuse a second one)."""
        if isinstance(method, AnswerCallbackQuery) and not _OWN.get() and method.callback_query_id in self._answered:
            return Response[TelegramType](ok=True, result=cast(TelegramType, True))
        return await make_request(bot, method)

    def queues(self) -> frozenset[int]:
        """The sessions whose Book presses go into a queue as last read; a read starts when that is older than
        :data:`REFRESH_S` (a press never waits for the database here)."""
        if time.monotonic() - self._read_at >= REFRESH_S and (self._reading is None or self._reading.done()):
            self._read_at = time.monotonic()
            self._reading = asyncio.create_task(self._read())
        return self._queues

    def admitted(self, user_id: int) -> bool:
        """Whether it is the tourist's turn on some date (as last read, with the list of queues): their taps go
        ahead of the others waiting to be handled (:class:`bot.slots.Slots`), since their turn has a window."""
        return user_id in self._admitted

    async def refreshed(self) -> frozenset[int]:
        """The list after a read made now (or the one under way)."""
        self._read_at = float("-inf")
        self.queues()
        if self._reading is not None:
            await asyncio.shield(self._reading)
        return self._queues

    async def _read(self) -> None:
        try:
            async with read_sessions(self.sessions)() as db:  # no write lock for a read (bot/storage/reads.py)
                rooms = list(
                    await db.scalars(select(WaitingRoomRow.session_id).where(WaitingRoomRow.status.in_(_QUEUES)))
                )
                hot = await db.scalars(
                    select(SessionRow.id).where(
                        SessionRow.hot.is_(True),
                        SessionRow.status == "scheduled",
                        SessionRow.seats_left > 0,
                        SessionRow.starts_at > self.clock.now(),
                    )
                )
                admitted = await db.scalars(  # in the open rooms only (ix_room_places_line), not every on-sale's
                    select(RoomPlaceRow.user_id).where(
                        RoomPlaceRow.session_id.in_(rooms), RoomPlaceRow.status == _ADMITTED
                    )
                )
                self._queues = frozenset([*rooms, *hot])
                self._admitted = frozenset(admitted)
        except (SQLAlchemyError, OSError) as error:  # the handlers answer meanwhile
            log.warning("the sessions with a queue cannot be read: %s", error)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Returns once every answer started has been made (or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._answers.close()


class RoomAnsweringWorker(InboxWorker):
    """The inbox worker that first answers the Book presses of hot dates it receives (:class:`RoomAnswers`), and
    takes a stored batch's presses into their lines together (bot/room_intake.py) instead of handling each."""

    def __init__(
        self,
        dp: UpdateFeeder,
        bot: Bot,
        inbox: Inbox,
        answers: RoomAnswers,
        sweep_s: float = SWEEP_S,
        uows: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        super().__init__(dp, bot, inbox, sweep_s)
        self.answers = answers
        self.urgent = self._urgent
        self._pressed: set[int] = set()  # chats whose Book press on a date with a queue goes to its handler
        self.intake = RoomIntake(inbox, uows or (lambda: SqlUnitOfWork(answers.sessions)), answers.clock)
        self._intakes: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()  # chats whose press the intake has in hand
        self._kicked: set[int] = set()  # of those, chats told to get going meanwhile

    async def accept(self, raw: list[dict[str, Any]], lane: AsyncConnection | None = None) -> list[Update]:
        self.answers.arrived(raw)  # not waiting for the store: see RoomAnswers.arrived
        room = 0 if self._stopping else IN_HAND - len(self._chains)
        fresh, claimed = await self.inbox.take(raw, self.bot, room, set(self._chains), lane)
        intake = self.intake.candidates(
            fresh, self.answers.queues(), set(self._chains), book_press, self.answers.answered
        )
        held = intake.updates
        self._held.update(chat_key(u) for u in held.values())  # no chain takes them meanwhile (the sweep, a kick)
        self.received([u for u in fresh if u.update_id not in held], [u for u in claimed if u.update_id not in held])
        if held:  # the polling asks for the next batch meanwhile
            mine = [u for u in claimed if u.update_id in held]
            task = asyncio.create_task(self._take_in(intake, mine))
            self._intakes.add(task)
            task.add_done_callback(self._intakes.discard)
        return fresh

    async def _take_in(self, intake: Intake, claimed: list[Update]) -> None:
        try:
            served = await self.intake.take_in(intake)
        finally:
            chats = {chat_key(u) for u in intake.updates.values()}
            self._held -= chats
            kicked, self._kicked = self._kicked & chats, self._kicked - chats
        rest = [u for u in intake.updates.values() if u.update_id not in served]
        self.received(rest, [u for u in claimed if u.update_id not in served])
        for chat in kicked:  # more came for it while its press was being taken in
            self._kick(chat)

    def _kick(self, chat: int, backlog: bool = True) -> None:
        if chat in self._held:  # its press is being taken in: it gets going after that
            self._kicked.add(chat)
            return
        super()._kick(chat, backlog)

    def received(self, updates: Iterable[Update], claimed: Iterable[Update] = ()) -> None:
        updates, claimed = list(updates), list(claimed)
        self.answers.received(updates)
        queues = self.answers.queues()
        for update in (*updates, *claimed):
            if (press := book_press(update)) is not None and press[0] in queues:
                if len(self._pressed) > REMEMBERED:  # chats whose chain was under way when pressed keep theirs
                    self._pressed.clear()
                self._pressed.add(chat_key(update))
        super().received(updates, claimed)

    def reply_for(self, updates: list[Update]) -> dict[str, Any] | None:
        return self.answers.in_response(updates)

    def _urgent(self, chat: int) -> bool:
        """A chat goes ahead of the others waiting for a slot when it is the tourist's turn (their window runs) or
        it brings a Book press on a date with a queue that the intake did not take: the room admits no one ranked
        behind a press not yet handled, and one that waited behind the admitted tourists' taps was handled only
        after the date sold out (the 300-tourist e2e under load)."""
        if chat in self._pressed:
            self._pressed.discard(chat)
            return True
        return self.answers.admitted(chat)

    async def sweep(self) -> None:
        self.answers.queues()  # kept fresh, so that the first presses of a burst find their date in it
        await super().sweep()

    async def idle(self) -> None:
        """Returns once every batch handed to the intake has been taken in (or handed to its handlers)."""
        while self._intakes:
            await asyncio.gather(*list(self._intakes), return_exceptions=True)

    async def stop(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout)
        await super().stop(timeout)
        await self.answers.stop()
