"""Surge benchmark (issue 13): N tourists press Book within one second on a hot session of S seats.

Prints figures, asserts nothing about time, finishes by itself (a wall-clock cap bounds the run).

    .venv/bin/python bench/surge.py [--tourists 10000] [--seats 500] [--postgres URL] [--room-rate 26]
                                    [--prefill 0.5] [--never 0.05] [--window 60] [--pre-queue S] [--cap 1500]

SQLite always runs (a migrated file in a temporary directory); with ``--postgres URL`` PostgreSQL runs after it (a
throw-away schema, as ``bench/common.py``'s ``scratch_postgres``). The catalog is ``tests/seed.py``'s; its cruise's
first date (organiser confirmation required, two questions: pickup as text, lunch as a choice) gets ``--seats``
seats, ``hot`` and an admission window of ``--window`` seconds (the catalog's default is 5 minutes; a shorter one
only makes the run shorter: those who never book hold a seat for one window). With ``--pre-queue S`` the sale
opens S seconds after the first press (every press lands in the pre-queue, drawn once at the opening); without it
the sale is open when they press.

**The bot** is what ``tripdesk run`` builds in polling mode (bot/runner.py): ``build_bot`` (aiohttp to the emulator,
the retry middleware), ``build_dispatcher`` with the database FSM and ``build_throttle``'s throttle, its startup
hook, ``InboxPolling`` storing each ``getUpdates`` batch with ``Inbox.accept`` and handing it to the
``RoomAnsweringWorker`` (the ``InboxWorker`` that first answers the Book presses of hot dates: bot/room_answers.py;
its sweep running too), and the leader's duties: the real ``OutboxSender`` (``build_sender_bot``)
and ``build_scheduler`` with the deadline, desk and waiting-room jobs (``WaitingRoomJobs`` with
``RoomSettings(desk_chat_id=..., messages_per_s=--room-rate)``; the runner uses the default, 26).

**Telegram** is the sandbox emulator (``sandbox.server.Emulator``) in this process, on its own event loop in a
thread of its own (bench/outbox.py's ``EmulatorThread``), with Telegram's limits on (``sandbox/limits.py``: 30
messages a second overall, 1 a second per chat; like Telegram it does not count edits and callback answers). Its
world has the N tourists (languages en, ru, de, et in turn), the organiser and the operators' group.

**The tourists** live on the emulator's loop, as clients would: each has the cruise's date card (a bot message with
its Book button) in the chat, and is a user the bot knows, in their language (they opened the event through it);
at its moment within the first second (spread evenly, in a shuffled order) each presses Book
(``World.user_presses``: a real callback query, delivered by ``getUpdates``). Then, as a person would,
with a pause of 0.5-2 s before every tap: a share ``--prefill`` prepares the booking while waiting ("Prepare my
booking": Next, the pickup as text, a lunch, Confirm: "ready"), so that their turn is one tap on "Book now"; a
share ``--never`` never books when their turn comes; the rest book by the short path when it comes ("Book now",
+1 adult, Next, pickup, lunch, Confirm). Everyone waits until their turn or "sold out".

**Figures** (from the emulator's call log and the database, after the run):

* oversold: seats in the session's orders beyond its capacity (must be 0), and the seats left;
* press -> callback answer of the Book press, p50 / p99 / max (goal p99 <= 2 s), and how many were never answered;
* position messages: the time from the first press until every tourist who got a place had a message of the room
  showing it (the handler's, or one the room sent), against the physical bound: one message each at 30/s;
* sold out: the time from the sell-out (the room's audit entry) until everyone still in line was told, against
  one message each at 30/s; both as a ratio (goal <= 1.2x);
* bookings per second from the first admission to the last order; who booked (one tap, short path), who never;
* admission order: the order in which places were admitted against the room's line (by rank), against the order of
  the presses (the arrival at Telegram), and with a pre-queue against the recorded seed's draw;
* what the bot sent: messages and edits a second (Telegram counts both toward its 30; the emulator only the
  messages), 429 answers, failed updates.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import scratch_postgres
from bench.outbox import EmulatorThread
from bot.app import build_bot, build_dispatcher
from bot.config import load_settings
from bot.inbox import Inbox
from bot.inbox_worker import InboxPolling
from bot.outbox import OutboxSender
from bot.ratelimit import Limits as SenderLimits
from bot.ratelimit import SpendHandlerSends
from bot.room_answers import RoomAnsweringWorker, RoomAnswers
from bot.sender_session import build_sender_bot
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import AuditRow, InboxRow, OrderItemRow, OrderRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from bot.throttle import build_throttle
from domain.model.waiting_room import LATE_RANK_BASE, draw_order, late_rank
from domain.use_cases.waiting_room import RoomSettings
from handlers.tourist.callbacks import BookAction, BookCb, RoomAction, WaitAction, WaitCb
from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.world import World
from scheduler.jobs import DeadlineJobs, DeskJobs, RunningJobs, WaitingRoomJobs, build_scheduler, stop_scheduler
from tests.seed import ORGANISER_CHAT_ID, seed_catalog, seed_users

TOKEN = "424242:bench-surge-token-AAAAAAAAAAAAAAAAAAAAAAAAA"
OPERATOR_CHAT_ID = -1001000000777
FIRST_USER = 7_000_000
LANGUAGES = ("en", "ru", "de", "et")
PICKUP = "Hotel Telegraaf, lobby"
TELEGRAM_RATE = 30.0  # messages a second overall: the physical bound
PAUSE = (0.5, 2.0)  # seconds a person takes before a tap
PREPARE_AFTER = (2.0, 15.0)  # seconds after their place's message before a preparer starts
START_LEAD = 1.0  # seconds from starting the tourists' tasks to the first press (see Crowd.start)
STEP_TIMEOUT = 120.0  # a step's answer not seen within this: the tourist gives up (counted)
REFRESH, PREPARE, BOOK_NOW = "wr:" + RoomAction.REFRESH.value, "wr:" + RoomAction.PREPARE.value, "wr:k:"


# ---- the tourists (on the emulator's loop) ---------------------------------------------------------------------


@dataclass
class Tourist:
    id: int
    order: int  # the position of their press in the schedule (0 = first)
    kind: str  # prefill | short | never
    press_at: float  # seconds after the start of the surge
    card_id: int = 0
    book_query: str = ""
    pressed: float | None = None  # world clock (time.time)
    arrival: int | None = None  # the position of their press among the presses as they reached Telegram
    update_id: int | None = None  # their Book press's update (a place ranked by another press was taken anew)
    prepared: bool = False
    turn_at: float | None = None
    confirmed: float | None = None
    gave_up: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    seen: set[tuple[int, str, int]] = field(default_factory=set)


class Crowd:
    """The tourists and their lives; a watcher wakes a tourist when their chat changed."""

    def __init__(self, world: World, tourists: list[Tourist], session_id: int, seed: int) -> None:
        self.world, self.tourists, self.session_id = world, {t.id: t for t in tourists}, session_id
        self.rng = random.Random(seed)
        self.stopping = False
        self.active = 0  # tourists in the middle of a flow (not waiting for their turn)
        self.book = BookCb(action=BookAction.START, session=session_id).pack()
        self.sold_out = WaitCb(action=WaitAction.ASK, id=session_id).pack()
        self.tasks: list[asyncio.Task[None]] = []

    def cards(self) -> None:
        """The date's card in every tourist's chat, as the bot showed it when they opened the event."""
        markup = {"inline_keyboard": [[{"text": "🎟 Book", "callback_data": self.book}]]}
        for tourist in self.tourists.values():
            chat = self.world.chat(tourist.id)
            card = self.world.store_message(
                chat, self.world.bot_user, {"text": "Islands cruise", "reply_markup": markup}
            )
            tourist.card_id = card.id

    async def start(self) -> None:
        for tourist in self.tourists.values():  # events made on this loop
            tourist.changed = asyncio.Event()
        # The schedule starts once every tourist's task has taken its first step (creating and starting 10,000
        # takes a tenth of a second or more on a busy loop): a task that found its moment already past would press
        # at once, in the order of the tasks, not of the schedule.
        self.started = time.time() + START_LEAD
        self.arrivals = itertools.count()
        self.tasks = [asyncio.create_task(self._watch())]
        self.tasks += [asyncio.create_task(self._life(t)) for t in self.tourists.values()]

    async def stop(self) -> None:
        self.stopping = True
        for tourist in self.tourists.values():
            tourist.changed.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _watch(self) -> None:
        since = self.world.version
        while not self.stopping:
            await self.world.changed(0.5)
            await asyncio.sleep(0.02)  # one scan of the chats for many changes
            now = self.world.version
            for chat in self.world.changed_chats(since):
                if (tourist := self.tourists.get(chat)) is not None:
                    tourist.changed.set()
            since = now

    def _button(self, tourist: Tourist, wanted: Callable[[str], bool]) -> tuple[int, str] | None:
        """The newest bot message's button matching ``wanted`` that this tourist has not pressed as shown."""
        for message in reversed(list(self.world.chat(tourist.id).messages.values())):
            if message.sender_id == tourist.id or message.deleted:
                continue
            for row in (message.data.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data") or ""
                    if wanted(data) and (message.id, data, len(message.edits)) not in tourist.seen:
                        return message.id, data
        return None

    def _has(self, tourist: Tourist, prefix: str) -> bool:
        return self._button(tourist, lambda d: d.startswith(prefix)) is not None

    async def _wait(self, tourist: Tourist, ready: Callable[[], Any], timeout: float | None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stopping:
            tourist.changed.clear()
            if value := ready():
                return value
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            try:
                await asyncio.wait_for(tourist.changed.wait(), left)
            except TimeoutError:
                return None
        return None

    async def _pause(self, span: tuple[float, float] = PAUSE) -> None:
        await asyncio.sleep(self.rng.uniform(*span))

    async def _press(self, tourist: Tourist, wanted: Callable[[str], bool], what: str) -> bool:
        """Press the newest matching button once it is shown, and wait for the callback answer."""
        found = await self._wait(tourist, lambda: self._button(tourist, wanted), STEP_TIMEOUT)
        if found is None:
            tourist.gave_up = tourist.gave_up or f"no {what} button"
            return False
        message_id, data = found
        message = self.world.chat(tourist.id).messages[message_id]
        tourist.seen.add((message_id, data, len(message.edits)))
        query = await self.world.user_presses(tourist.id, tourist.id, message_id, data)
        answered = await self._wait(tourist, lambda: self.world.callback_queries[query].answered, STEP_TIMEOUT)
        if not answered:
            tourist.gave_up = tourist.gave_up or f"no answer to {what}"
        return bool(answered)

    async def _send(self, tourist: Tourist, text: str) -> None:
        await self.world.user_sends(tourist.id, text)

    async def _booking(self, tourist: Tourist, add_adult: bool) -> bool:
        """The booking screens from the tickets on: (+1 adult), Next, the pickup, a lunch, Confirm."""
        s = self.session_id
        steps: list[tuple[str, str]] = []
        if add_adult:
            steps.append(("press", BookCb(action=BookAction.INC, session=s, value=0).pack()))
        steps += [
            ("press", BookCb(action=BookAction.NEXT, session=s).pack()),
            ("text", PICKUP),
            ("press", BookCb(action=BookAction.CHOICE, session=s, value=self.rng.randrange(2)).pack()),
            ("press", BookCb(action=BookAction.CONFIRM, session=s).pack()),
        ]
        for kind, value in steps:
            if self.stopping:
                return False
            await self._pause()
            if kind == "text":
                await self._send(tourist, value)
            elif not await self._press(tourist, value.__eq__, value):
                return False
        return True

    async def _life(self, tourist: Tourist) -> None:
        await asyncio.sleep(max(0.0, self.started + tourist.press_at - time.time()))
        tourist.pressed = self.world.clock()
        tourist.arrival = next(self.arrivals)
        tourist.seen.add((tourist.card_id, self.book, 0))
        tourist.book_query = await self.world.user_presses(tourist.id, tourist.id, tourist.card_id, self.book)
        made = self.world.bot.updates[-1] if self.world.bot.updates else {}  # the press made it: no await between
        if made.get("callback_query", {}).get("id") == tourist.book_query:
            tourist.update_id = made["update_id"]
        turn_or_end = self._turn_or_end(tourist)
        if tourist.kind == "prefill":
            shown = await self._wait(tourist, lambda: self._has(tourist, PREPARE) or turn_or_end(), None)
            if shown and not turn_or_end():
                await self._pause(PREPARE_AFTER)
                if not turn_or_end():
                    self.active += 1
                    try:
                        ok = await self._press(tourist, lambda d: d.startswith(PREPARE), "prepare")
                        tourist.prepared = ok and await self._booking(tourist, add_adult=False)
                    finally:
                        self.active -= 1
        if not await self._wait(tourist, turn_or_end, None) or not self._has(tourist, BOOK_NOW):
            return  # sold out (or the run ended)
        tourist.turn_at = self.world.clock()
        if tourist.kind == "never":
            return
        self.active += 1
        try:
            await self._pause()
            if not await self._press(tourist, lambda d: d.startswith(BOOK_NOW), "book now"):
                return
            if tourist.prepared or await self._booking(tourist, add_adult=True):
                tourist.confirmed = self.world.clock()
        finally:
            self.active -= 1

    def _turn_or_end(self, tourist: Tourist) -> Callable[[], bool]:
        def ready() -> bool:
            return self._has(tourist, BOOK_NOW) or self._has(tourist, self.sold_out)

        return ready


# ---- the bot, as bot/runner.py runs it ---------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    engine: AsyncEngine
    cleanup: Callable[[], Awaitable[None]]


class RunningBot:
    """``_serve``/``_run``/``Duties`` of bot/runner.py in polling mode, without the replica's leadership."""

    def __init__(self, backend: Backend, api_url: str, room_rate: float) -> None:
        self.backend = backend
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(backend.engine)
        self.settings = load_settings(
            bot_token=TOKEN,
            telegram_api_url=api_url,
            database_url=backend.engine.url.render_as_string(hide_password=False),
            operator_chat_id=OPERATOR_CHAT_ID,
            admin_ids=(42,),
        )
        self.room_rate = room_rate
        self.stop_event = asyncio.Event()

    async def start(self) -> None:
        settings = self.settings
        self.bot = build_bot(settings, TOKEN)
        self.throttle = build_throttle(settings.redis_url)
        self.dp = dp = build_dispatcher(settings, self.sessions, throttle=self.throttle)
        self.inbox = Inbox(self.sessions, dp["clock"])
        answers = RoomAnswers(self.bot, self.sessions, dp["i18n"], dp["clock"])
        self.worker = RoomAnsweringWorker(  # as bot/runner.py builds it
            dp, self.bot, self.inbox, answers, uows=lambda: SqlUnitOfWork(self.sessions, dp["catalog_cache"])
        )
        self.workflow = {**dp.workflow_data, "dispatcher": dp, "bots": [self.bot]}
        await dp.emit_startup(bot=self.bot, **self.workflow)
        limits = SenderLimits()  # as bot/runner.py's Duties: the handlers' messages spend the sender's buckets
        self.bot.session.middleware(SpendHandlerSends(limits))
        self.sender = OutboxSender(
            build_sender_bot(settings, TOKEN),
            self.sessions,
            dp["i18n"],
            dp["clock"],
            desk_timezone=settings.desk_timezone,
            catalog_cache=dp["catalog_cache"],
            limits=limits,
        )

        def uows() -> SqlUnitOfWork:
            return SqlUnitOfWork(self.sessions, dp["catalog_cache"])

        room_settings = RoomSettings(desk_chat_id=settings.operator_chat_id, messages_per_s=self.room_rate)
        self.running = RunningJobs()
        self.scheduler = build_scheduler(
            self.sender.drain,
            settings.scheduler_interval_s,
            DeadlineJobs(uows, dp["clock"]),
            desk_jobs=DeskJobs(uows, dp["clock"], settings.desk),
            room_jobs=WaitingRoomJobs(uows, dp["clock"], room_settings),
            running=self.running,
        )
        self.scheduler.start()
        polling = InboxPolling(self.bot, self.inbox, self.worker, dp.resolve_used_update_types())
        self.tasks = [
            asyncio.create_task(self.worker.run(self.stop_event), name="inbox-sweep"),
            asyncio.create_task(polling.run(self.stop_event), name="polling"),
        ]

    async def stop(self) -> None:
        self.stop_event.set()
        await self.worker.stop(6.0)
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(self.sender.stop(6.0), stop_scheduler(self.scheduler, self.running, 2.0))
        await self.sender.bot.session.close()
        await self.dp.emit_shutdown(bot=self.bot, **self.workflow)
        await self.dp.storage.close()
        await self.throttle.close()
        await self.bot.session.close()


# ---- the run -------------------------------------------------------------------------------------------------------


class BotProcess:
    """The bot in a process of its own (``--bot-child``), as it runs in production: Telegram is not in its process.

    In one process, the emulator, the 10,000 tourists' clients and the bot shared one interpreter lock on this
    2-CPU machine; the bot got less than one CPU. The child builds ``RunningBot`` on the same database (SQLite's
    file, or PostgreSQL's scratch schema), says ``ready`` once its startup hook ran, and stops when its standard
    input closes; then it prints its warnings counted by kind and its CPU time as one JSON line.
    """

    def __init__(self, backend: Backend, api_url: str, args: argparse.Namespace) -> None:
        self.backend, self.api_url, self.args = backend, api_url, args
        self.logs: Counter[str] = Counter()
        self.cpu = 0.0

    async def start(self) -> None:
        url = self.backend.engine.url.render_as_string(hide_password=False)
        command = [sys.executable, __file__, "--bot-child", url, "--api-url", self.api_url]
        command += ["--room-rate", str(self.args.room_rate)]
        if self.backend.engine.dialect.name == "postgresql":
            async with self.backend.engine.connect() as conn:  # the scratch schema, set by bench/common.py
                command += ["--schema", str(await conn.scalar(text("SHOW search_path")))]
        if self.args.profile_bot:
            command += ["--profile-bot", self.args.profile_bot]
        self.process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if line.strip() != b"ready":
            await self.process.wait()
            raise RuntimeError(f"the bot's process did not start (exit {self.process.returncode}): {line!r}")

    async def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        out = await self.process.stdout.read()
        await self.process.wait()
        lines = out.decode().strip().splitlines()
        if self.process.returncode != 0 or not lines:
            print(f"  the bot's process ended with exit {self.process.returncode}")
            return
        result = json.loads(lines[-1])
        self.logs.update(result["logs"])
        self.cpu = result["cpu"]


async def bot_child(args: argparse.Namespace) -> None:
    """``--bot-child URL``: serve as the bot until standard input closes (see :class:`BotProcess`)."""
    if args.schema:
        engine = create_engine(args.bot_child, connect_args={"server_settings": {"search_path": args.schema}})
    else:
        engine = create_engine(args.bot_child)
    logs = LogCount()
    logging.getLogger().addHandler(logs)
    logging.getLogger().setLevel(logging.WARNING)
    profiler = None
    if args.profile_bot:
        from pyinstrument import Profiler  # only when asked: not a dependency of the product

        profiler = Profiler(async_mode="disabled")
    bot = RunningBot(Backend("bot", engine, engine.dispose), args.api_url, args.room_rate)
    await bot.start()
    print("ready", flush=True)
    if profiler is not None:
        profiler.start()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    if profiler is not None:
        profiler.stop()
        profile = profiler.output_text(unicode=False, show_all=False)
        await asyncio.to_thread(Path(args.profile_bot).write_text, profile)
    await bot.stop()
    await engine.dispose()
    print(json.dumps({"logs": logs.counts, "cpu": time.process_time()}), flush=True)


class LogCount(logging.Handler):
    """The bot's warnings and errors, counted by their first line instead of printed (a surge logs thousands)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        text = re.sub(r"\d+", "N", re.sub(r" \(trigger: .*", "", record.getMessage().splitlines()[0]))[:110]
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}]"
        self.counts[f"{record.levelname} {record.name}: {text}"] += 1


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def prepare_catalog(sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    seeded = await seed_catalog(sessions, now)
    opens = now + timedelta(seconds=args.pre_queue) if args.pre_queue else None
    async with sessions() as db, db.begin():
        await db.execute(
            update(SessionRow)
            .where(SessionRow.id == seeded.session_id)
            .values(
                capacity=args.seats,
                seats_left=args.seats,
                hot=True,
                sale_opens_at=opens,
                admission_window_s=args.window,
            )
        )
    return seeded.session_id


async def idle(sessions: async_sessionmaker[AsyncSession], session_id: int) -> tuple[bool, str]:
    """Whether the room is closed and nothing is left to send or handle; a one-line state."""
    async with sessions() as db:
        room = await db.scalar(select(WaitingRoomRow.status).where(WaitingRoomRow.session_id == session_id))
        outbox = dict((await db.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all())
        inbox = dict((await db.execute(select(InboxRow.status, func.count()).group_by(InboxRow.status))).all())
        places = dict(
            (
                await db.execute(
                    select(RoomPlaceRow.status, func.count())
                    .where(RoomPlaceRow.session_id == session_id)
                    .group_by(RoomPlaceRow.status)
                )
            ).all()
        )
    busy = outbox.get("pending", 0) + outbox.get("sending", 0) + inbox.get("pending", 0) + inbox.get("handling", 0)
    line = f"room {room}; places {dict(sorted(places.items()))}; outbox {outbox}; inbox {inbox}"
    return room == "closed" and busy == 0, line


def markup_text(params: dict[str, Any]) -> str:
    markup = params.get("reply_markup")
    return markup if isinstance(markup, str) else json.dumps(markup or {})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def inversions(sequence: list[int]) -> int:
    """Pairs out of order (merge sort count)."""

    def sort(items: list[int]) -> tuple[list[int], int]:
        if len(items) < 2:
            return items, 0
        middle = len(items) // 2
        left, a = sort(items[:middle])
        right, b = sort(items[middle:])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                count += len(left) - i
                j += 1
        return merged + left[i:] + right[j:], count

    return sort(sequence)[1]


async def run_backend(backend: Backend, args: argparse.Namespace) -> None:
    sessions = session_factory(backend.engine)
    session_id = await prepare_catalog(sessions, args)
    rng = random.Random(args.seed)
    n = args.tourists
    order = list(range(n))
    rng.shuffle(order)  # who presses when: not in the order of their ids
    tourists = []
    for index in range(n):
        draw = rng.random()
        kind = "never" if draw < args.never else "prefill" if draw < args.never + args.prefill else "short"
        tourists.append(Tourist(FIRST_USER + index, order[index], kind, order[index] / n * args.spread))
    # they opened the event through the bot, which registered them in their language (the user middleware)
    languages = {t.id: LANGUAGES[index % 4] for index, t in enumerate(tourists)}
    await seed_users(sessions, languages, datetime.now(UTC), languages=languages)

    emulator = Emulator(limits=Limits(), bot_token=TOKEN)
    world = emulator.world
    for index, tourist in enumerate(tourists):
        world.add_user(first_name=f"T{index}", language_code=LANGUAGES[index % 4], user_id=tourist.id)
    world.add_user(first_name="Organiser", language_code="et", user_id=ORGANISER_CHAT_ID)
    world.add_group("Tripdesk operators", chat_id=OPERATOR_CHAT_ID)
    crowd = Crowd(world, tourists, session_id, args.seed)
    crowd.cards()
    host = EmulatorThread(emulator)
    await host.start()
    bot = BotProcess(backend, emulator.base_url, args)
    load_start = os.getloadavg()
    opening = f"a pre-queue opening after {args.pre_queue:g} s" if args.pre_queue else "the sale open"
    print(
        f"\n{backend.name}: {n} tourists press Book within {args.spread:g} s on a hot date of {args.seats} seats;"
        f" prepare while waiting {args.prefill:.0%}, never book {args.never:.0%}, short path the rest;"
        f" admission window {args.window} s; {opening};"
        f" room budget {args.room_rate:g} messages/s; load average {' '.join(f'{x:.2f}' for x in load_start)}"
    )
    cpu0, wall0 = time.process_time(), time.monotonic()
    await bot.start()
    try:
        await host.call(crowd.start())
        state = ""
        ended = False
        next_report = time.monotonic() + 15
        while time.monotonic() - wall0 < args.cap:
            await asyncio.sleep(1.0)
            try:  # the monitor's queries wait for the same pool as the bot's: bounded, so the cap holds
                done, state = await asyncio.wait_for(idle(sessions, session_id), 10)
            except TimeoutError:
                done, state = False, "(the database did not answer the monitor within 10 s)"
            active = await host.call(_value(lambda: crowd.active))
            if time.monotonic() >= next_report:
                print(f"  {time.monotonic() - wall0:5.0f} s: {state}; tourists acting {active}", flush=True)
                next_report += 15
            if done and active == 0:
                ended = True
                break
        wall = time.monotonic() - wall0
        if not ended:
            print(f"  the cap of {args.cap} s ran out: {state}")
    finally:
        await host.call(crowd.stop())
        await bot.stop()
        await host.stop()
    cpu = time.process_time() - cpu0
    await report(sessions, world, crowd, tourists, session_id, args, wall, (cpu, bot.cpu), load_start)
    counted = bot.logs.most_common()
    print(
        f"  log          {sum(bot.logs.values())} warnings and errors of the bot"
        + (", the most frequent:" if counted else "")
    )
    for kind, count in counted[:8]:
        print(f"    {count:6d} x {kind}")


async def _value(read: Callable[[], Any]) -> Any:
    return read()


async def report(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    crowd: Crowd,
    tourists: list[Tourist],
    session_id: int,
    args: argparse.Namespace,
    wall: float,
    cpu: tuple[float, float],
    load_start: tuple[float, float, float],
) -> None:
    by_id = {t.id: t for t in tourists}
    async with sessions() as db:
        capacity, seats_left = (
            await db.execute(select(SessionRow.capacity, SessionRow.seats_left).where(SessionRow.id == session_id))
        ).one()
        orders = (
            await db.execute(
                select(OrderRow.user_id, OrderRow.created_at, func.sum(OrderItemRow.quantity))
                .join(OrderItemRow, OrderItemRow.order_id == OrderRow.id)
                .where(OrderRow.session_id == session_id)
                .group_by(OrderRow.id, OrderRow.user_id, OrderRow.created_at)
            )
        ).all()
        places = list(await db.scalars(select(RoomPlaceRow).where(RoomPlaceRow.session_id == session_id)))
        room = await db.scalar(select(WaitingRoomRow).where(WaitingRoomRow.session_id == session_id))
        sold_out_at = await db.scalar(select(func.min(AuditRow.at)).where(AuditRow.action == "room.sold_out"))
        inbox = dict((await db.execute(select(InboxRow.status, func.count()).group_by(InboxRow.status))).all())
        outbox = dict((await db.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all())
        dead = (
            await db.execute(
                select(OutboxRow.kind, OutboxRow.last_error, func.count())
                .where(OutboxRow.status == "dead")
                .group_by(OutboxRow.kind, OutboxRow.last_error)
                .order_by(func.count().desc())
                .limit(5)
            )
        ).all()
    sold = sum(int(q) for *_, q in orders)
    print(
        f"  run: {wall:.0f} s wall; CPU: the bench's process (Telegram, the tourists) {cpu[0]:.0f} s,"
        f" the bot's {cpu[1]:.0f} s; load average now " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(
        f"  oversold       {max(0, sold - capacity)} (seats in orders {sold} of {capacity}, seats left {seats_left},"
        f" {len(orders)} orders, users with two orders {len(orders) - len({u for u, *_ in orders})})"
    )

    # press -> callback answer
    answers = {a["callback_query_id"]: a["at"] for a in world.callback_answers}
    latencies = [answers[t.book_query] - t.pressed for t in tourists if t.pressed and t.book_query in answers]
    unanswered = sum(1 for t in tourists if t.book_query and t.book_query not in answers)
    first_press = min(t.pressed for t in tourists if t.pressed)
    last_press = max(t.pressed for t in tourists if t.pressed)
    if latencies:
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        print(
            f"  press->answer  p50 {p50:.2f} s, p99 {p99:.2f} s, max {max(latencies):.2f} s"
            f" ({'goal p99 <= 2 s: met' if p99 <= 2 else 'goal p99 <= 2 s: NOT met'}); {len(latencies)} Book presses"
            f" within {last_press - first_press:.2f} s, {unanswered} never answered"
        )
        timed = sorted((t.pressed, answers[t.book_query] - t.pressed) for t in tourists if t.book_query in answers)
        tenths = [[lag for _, lag in timed[i * len(timed) // 10 : (i + 1) * len(timed) // 10]] for i in range(10)]
        print(
            "                 by press order, tenths (max s): "
            + " ".join(f"{max(part):.1f}" for part in tenths if part)
        )

    # the messages
    calls = world.calls
    sends = [c for c in calls if c.method == "sendMessage"]
    edits = [c for c in calls if c.method.startswith("edit")]
    position: dict[int, float] = {}
    first_kind: dict[int, str] = {}
    turns: dict[int, float] = {}
    told: dict[int, float] = {}
    for c in calls:
        if not c.ok or c.method not in ("sendMessage", "editMessageText"):
            continue
        chat = int(c.params.get("chat_id", 0))
        if chat not in by_id:
            continue
        buttons = markup_text(c.params)
        if f'"{REFRESH}:' in buttons or crowd.sold_out in buttons or BOOK_NOW in buttons:
            position.setdefault(chat, c.at)  # the place's first message of the room
            first_kind.setdefault(chat, "position" if f'"{REFRESH}:' in buttons else "turn or sold out")
        if crowd.sold_out in buttons:
            told.setdefault(chat, c.at)
        if BOOK_NOW in buttons:
            turns.setdefault(chat, c.at)
    placed = {p.user_id for p in places}
    got = [position[u] for u in placed if u in position]
    needed = len(placed)
    missing = needed - len(got)
    if got:
        took = max(got) - first_press
        bound = needed / TELEGRAM_RATE
        print(
            f"  positions      {len(got)} of {needed} places had a message of the room, the last {took:.1f} s after"
            f" the first press; bound {needed} / {TELEGRAM_RATE:g}/s = {bound:.1f} s: ratio {took / bound:.2f}x"
            f" (goal <= 1.2x); {missing} never had one"
        )
        pressed = {t.id: t.pressed for t in tourists if t.pressed is not None}
        handler_first = sum(1 for u in placed if u in position and u in pressed and position[u] - pressed[u] < 60)
        kinds_first = Counter(first_kind[u] for u in placed if u in first_kind)
        print(
            f"                 {handler_first} of them had it within a minute of their press; the first message was"
            f" {dict(kinds_first)}"
        )
    sold_out_places = [p.user_id for p in places if p.status == "sold_out"]
    if sold_out_at is not None:
        start = aware(sold_out_at).timestamp()
        told_times = [told[u] for u in sold_out_places if u in told]
        untold = len(sold_out_places) - len(told_times)
        if told_times:
            took = max(told_times) - start
            bound = len(sold_out_places) / TELEGRAM_RATE
            print(
                f"  sold out       {len(told_times)} of {len(sold_out_places)} still in line told, the last"
                f" {took:.1f} s after the sell-out ({start - first_press:.1f} s after the first press); bound"
                f" {len(sold_out_places)} / {TELEGRAM_RATE:g}/s = {bound:.1f} s: ratio {took / bound:.2f}x"
                f" (goal <= 1.2x); {untold} never told"
            )
        else:
            print(f"  sold out       {len(sold_out_places)} in line, none told")
    else:
        print(f"  sold out       the room did not sell out (status {room.status if room else None})")

    # bookings
    admitted = [p for _, _, p in sorted((aware(p.admitted_at), p.rank or 0, p) for p in places if p.admitted_at)]
    if admitted and orders:
        first_admission = min(aware(p.admitted_at).timestamp() for p in places if p.admitted_at is not None)
        last_order = max(aware(c).timestamp() for _, c, _ in orders)
        span = max(last_order - first_admission, 1e-9)
        times = sorted(aware(c).timestamp() for _, c, _ in orders)
        ninety = times[max(0, int(len(times) * 0.9) - 1)]
        print(
            f"  bookings       {len(orders)} orders in {span:.1f} s from the first admission to the last order:"
            f" {len(orders) / span:.1f}/s; the first 90% in {ninety - first_admission:.1f} s:"
            f" {int(len(times) * 0.9) / max(ninety - first_admission, 1e-9):.1f}/s; first admission"
            f" {first_admission - first_press:.1f} s after the first press"
        )
    booked_users = {u for u, *_ in orders}
    kinds = Counter(t.kind for t in tourists)
    turned = Counter(t.kind for t in tourists if t.turn_at is not None)
    booked = Counter(by_id[u].kind for u in booked_users if u in by_id)
    one_tap = sum(1 for u in booked_users if u in by_id and by_id[u].prepared)
    gave_up = Counter(t.gave_up for t in tourists if t.gave_up)
    statuses = Counter(p.status for p in places)
    print(
        f"  tourists       {dict(kinds)}; their turn came to {dict(turned)}; booked {dict(booked)} ("
        f"{one_tap} in one tap with a prepared booking); places {dict(statuses)}; gave up {dict(gave_up) or 0}"
    )

    # the turn's message against the admission window (it runs from that message, at most TURN_DELIVERY after)
    delays = [
        turns[p.user_id] - aware(p.admitted_at).timestamp() for p in admitted if p.user_id in turns and p.admitted_at
    ]
    window_over = sum(
        1
        for p in admitted
        if p.user_id in turns and p.admit_until and turns[p.user_id] >= aware(p.admit_until).timestamp()
    )
    if admitted:
        print(
            f"  turn messages  {len(delays)} of {len(admitted)} admitted got theirs"
            + (
                f", admission -> delivery p50 {percentile(delays, 0.5):.1f} s, p99 {percentile(delays, 0.99):.1f} s,"
                f" max {max(delays):.1f} s"
                if delays
                else ""
            )
            + f"; {window_over} delivered after their admission window ({args.window} s) had ended"
        )

    # admission order
    behind, highest, passes = 0, -1, Counter(aware(p.admitted_at) for p in admitted if p.admitted_at)
    earlier = -1
    for moment in sorted(passes):  # a place admitted in a later pass than one ranked behind it
        ranks = [p.rank or 0 for p in admitted if p.admitted_at and aware(p.admitted_at) == moment]
        behind += sum(1 for r in ranks if r < earlier)
        highest = max(highest, *ranks)
        earlier = highest
    print(
        f"  admissions     {len(passes)} passes admitted {len(admitted)}; {behind} were admitted in a later pass than"
        f" someone ranked behind them (their place became visible after the room had admitted past it)"
    )
    # A place whose rank is not its Book press's was taken anew by a later press (their turn had passed, and they
    # pressed Book or Confirm again): at the back, by that press. The line is compared with the first presses
    # without them.
    anew = {
        p.user_id
        for p in places
        if p.rank is not None
        and p.rank >= LATE_RANK_BASE
        and by_id[p.user_id].update_id is not None
        and p.rank != late_rank(by_id[p.user_id].update_id or 0)
    }
    line = sorted((p for p in places if p.rank is not None and p.user_id not in anew), key=lambda p: p.rank or 0)
    sequence = [p.user_id for p in admitted]
    in_line = [p.user_id for p in line]
    matches_line = sequence == in_line[: len(sequence)]
    # the order of arrival at Telegram (the update ids follow it); how far it strayed from the bench's schedule
    presses = sorted((p for p in places if p.user_id not in anew), key=lambda p: by_id[p.user_id].arrival or 0)
    strayed = inversions([by_id[p.user_id].order for p in presses])
    arrival = [p.user_id for p in presses]
    if room is not None and room.seed is not None:
        drawn_ids = [p.id for p in places if p.rank is not None and p.rank < (1 << 40)]
        expected = [{p.id: p.user_id for p in places}[i] for i in draw_order(drawn_ids, room.seed)]
        print(
            f"  order          pre-queue of {room.drawn} drawn with seed {room.seed}: the line"
            f" {'is' if in_line[: len(expected)] == expected else 'is NOT'} the seed's draw;"
            f" admissions {'follow' if matches_line else 'do NOT follow'} the line ({len(sequence)} admitted)"
        )
    else:
        rank_of = {u: i for i, u in enumerate(arrival)}
        sequence = [u for u in sequence if u in rank_of]  # admitted by their first press
        admitted_rank = [rank_of[u] for u in sequence]
        prefix = sum(1 for a, b in zip(sequence, arrival, strict=False) if a == b)
        line_rank = [rank_of[u] for u in in_line]
        total_pairs = len(line_rank) * (len(line_rank) - 1) // 2
        print(
            f"  order          admissions {'follow' if matches_line else 'do NOT follow'} the room's line"
            f" ({len(sequence)} admitted); against the order of the presses: {prefix} of {len(sequence)} admitted"
            f" at their press's place, {inversions(admitted_rank)} pairs of admissions out of press order,"
            f" the line has {inversions(line_rank)} of {total_pairs} pairs out of press order"
            f" (the presses reached Telegram with {strayed} pairs out of the bench's schedule; {len(anew)} places"
            f" taken anew by a later press after their turn passed are left out)"
        )
        late = [rank_of[u] - i for i, u in enumerate(sequence)]
        if late:
            print(
                f"                 an admitted tourist's press was on average"
                f" {statistics.mean(abs(x) for x in late):.0f} (at most {max(abs(x) for x in late)}) places from"
                f" their admission's place"
            )

    # what the bot sent
    seconds = Counter(int(c.at - first_press) for c in sends + edits if c.ok)
    busiest = max(seconds.values(), default=0)
    print(
        f"  sent           sendMessage {sum(c.ok for c in sends)} ok, "
        f"{sum(c.status == 429 for c in sends)} answered 429; edits {sum(c.ok for c in edits)} ok,"
        f" {sum(c.status == 400 for c in edits)} refused 400;"
        f" messages + edits in the busiest second {busiest} (Telegram counts both toward 30);"
        f" callback answers {len(world.callback_answers)}"
    )
    print(f"  inbox          {inbox}; outbox {outbox}")
    for kind, error, count in dead:
        print(f"    dead outbox rows: {count} x {kind}: {(error or '')[:120]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tourists", type=int, default=10_000)
    parser.add_argument("--seats", type=int, default=500)
    parser.add_argument("--spread", type=float, default=1.0, help="seconds over which the presses come")
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL (a scratch schema)")
    parser.add_argument(
        "--room-rate", type=float, default=RoomSettings().messages_per_s, help="RoomSettings.messages_per_s"
    )
    parser.add_argument("--prefill", type=float, default=0.5, help="share preparing their booking while waiting")
    parser.add_argument("--never", type=float, default=0.05, help="share never booking when their turn comes")
    parser.add_argument("--window", type=int, default=60, help="the admission window, seconds")
    parser.add_argument("--pre-queue", type=float, default=0, help="the sale opens this many seconds after the start")
    parser.add_argument("--cap", type=float, default=1500, help="seconds a backend's run may take at most")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite")
    parser.add_argument("--profile-bot", metavar="PATH", help="pyinstrument's profile of the bot's process, as text")
    parser.add_argument("--bot-child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot_child:
        await bot_child(args)
        return
    print(
        f"surge bench: Python {platform.python_version()}, {os.cpu_count()} CPUs, load average"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if args.sqlite:
        with tempfile.TemporaryDirectory() as directory:
            engine = create_engine(f"sqlite+aiosqlite:///{directory}/surge.db")
            await upgrade(engine)
            await run_backend(Backend("SQLite", engine, engine.dispose), args)
            await engine.dispose()
    if args.postgres:
        engine, cleanup = await scratch_postgres(args.postgres)
        try:
            await run_backend(Backend("PostgreSQL", engine, cleanup), args)
        finally:
            await cleanup()


if __name__ == "__main__":
    asyncio.run(main())
