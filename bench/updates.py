"""Updates benchmark: the production dispatcher against a bare aiogram dispatcher making the same Bot API calls.

Prints figures, asserts nothing about time. Runs on SQLite (a migrated file in a temporary directory) and, with
``--postgres URL``, on PostgreSQL too (in a throw-away schema, as ``bench/common.py``'s ``scratch_postgres``).

    .venv/bin/python bench/updates.py [--updates 600] [--users 50] [--seed 7] [--postgres URL]

**Production** is what ``tripdesk run`` builds (bot/runner.py): ``build_dispatcher`` with its default storage (the
FSM in the database), the unit-of-work and user middlewares, ``Throttle()`` in front of the handlers, every router;
its startup hook (``set_commands``) runs once. Every update takes the inbox path of bot/inbox.py as ``InboxPolling``
gives it: ``InboxWorker.accept`` decodes it, commits it and claims it for its chat in one transaction, the chat's
task feeds it to the dispatcher and marks it done (bot/inbox_worker.py). Only ``getUpdates`` is left out (the bench
hands each update to ``accept`` as it is made, one at a time). The Bot has aiogram's retry middleware on its
session, as ``build_bot`` gives it.

**The throttle's clock** is the bench's: a counter that moves one second every time the throttle reads it (once per
counted update). A simulated user then never exceeds ``BURST`` / ``PER_SECOND`` (each of their taps finds at least
one new token), as a real person tapping through the screens would not, while the throttle still does all its work
per update. The bench checks that no update was throttled (no "too fast" notice) and that none failed.

**The Bot API** is a no-network session (:class:`NoNetworkSession`) that serializes each request as aiogram's HTTP
session does (``prepare_value`` on every field), answers with a valid canned result as JSON, and parses it through
aiogram's own ``check_response`` (``Response[T]``): ``sendMessage`` and ``editMessageText`` return the message with
its text and inline keyboard, which the session keeps per chat; ``answerCallbackQuery``, ``setMyCommands`` and other
``True`` methods return ``True``. Each simulated user reads the newest inline keyboard the bot sent into their chat
and presses the button whose callback data is the next step (the bench stops if that button is not there), with
``callback_query.message`` as the bot last rendered it.

**Mixes** (each user's updates in order; users are fresh, so the first update registers them):

* browse: ``/start`` -> Events -> the region -> the next 30 days -> sea -> the cruise's card (6 updates);
* booking: ``/start ev-islands-cruise`` (the card, by deep link) -> a date -> + one ticket -> Next -> the pickup
  as text -> a lunch choice -> Confirm (7 updates; an order is placed, the bench checks every one was).

Catalog: ``tests/seed.py``'s, its cruise's first date given a capacity that does not run out. Each mix runs
``sequential`` (one user after another) and ``50 at once`` (``--users`` users in flight, ``asyncio.gather``, each
user's updates in order; a finished user's place is taken by a new one).

**References in the same run**, fed the very same updates (the production run's, recorded) on the same kind of
session: ``bare``, a plain ``Dispatcher`` (memory FSM, no middleware) whose handlers make the same calls as the
bot's screens, ``answerCallbackQuery`` + ``editMessageText`` with a small keyboard for a press, ``sendMessage`` with
a small keyboard for a message; and ``echo``, a plain ``Dispatcher`` that sends a message's text back and answers a
press. The Bot API calls per update are printed for each, so a difference in calls shows. The references take a
fraction of a second, so each replays the updates three times and the median run is printed.

Per mix, backend and mode: updates/s, CPU ms per update (``time.process_time`` of this process: SQLite works in it,
PostgreSQL's server does not), SQL statements per update (a ``before_cursor_execute`` listener on the engine; the
inbox's own statements included), Bot API calls per update. It ends with one line per mix: the lowest ratio over the
backends and both modes, the figure a goal is held to (every backend's and mode's own line is printed above it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, ErrorEvent, Message
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import scratch_postgres
from bench.no_network import NoNetworkSession, light_bot, same_calls_router
from bot.app import build_dispatcher
from bot.config import load_settings
from bot.inbox import Inbox
from bot.inbox_worker import InboxWorker
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.tables import InboxRow, OrderRow, SessionRow
from bot.telegram_retry import RetryMiddleware
from bot.throttle import TOO_FAST, Throttle
from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
from tests.seed import Seeded, seed_catalog

OPERATOR_CHAT_ID = -100500
FIRST_USER = 6_000_000
REFERENCE_RUNS = 3  # the bare dispatchers replay each run's updates this many times; the median run is printed
ROOMY = 10_000_000  # the booked date's capacity: the bench never sells it out


# ---- the Bot API without a network ---------------------------------------------------------------------------------


# ---- the users ---------------------------------------------------------------------------------------------------

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)

Step = tuple[str, str]  # ("text", text) or ("press", callback data)


def mixes(seeded: Seeded) -> dict[str, list[Step]]:
    region, session = seeded.region_id, seeded.session_id
    return {
        "browse": [
            ("text", "/start"),
            ("press", MenuCb(action=MenuAction.EVENTS).pack()),
            ("press", BrowseCb(region=region, step="when").pack()),
            ("press", BrowseCb(region=region, when=When.UPCOMING, step="category").pack()),
            ("press", BrowseCb(region=region, when=When.UPCOMING, category="sea", step="list").pack()),
            ("press", EventCb(event=seeded.event_id).pack()),
        ],
        "booking": [
            ("text", "/start ev-islands-cruise"),
            ("press", BookCb(action=BookAction.START, session=session).pack()),
            ("press", BookCb(action=BookAction.INC, session=session, value=0).pack()),
            ("press", BookCb(action=BookAction.NEXT, session=session).pack()),
            ("text", "Hotel Telegraaf, lobby"),
            ("press", BookCb(action=BookAction.CHOICE, session=session, value=1).pack()),
            ("press", BookCb(action=BookAction.CONFIRM, session=session).pack()),
        ],
    }


def user_json(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Tess", "language_code": "en"}


def make_update(session: NoNetworkSession, user_id: int, step: Step) -> dict[str, Any]:
    """The raw update a user's step sends, the button looked up in the newest keyboard the bot sent them."""
    kind, value = step
    if kind == "text":
        message: dict[str, Any] = {
            "message_id": session.next_message_id(user_id),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Tess"},
            "from": user_json(user_id),
            "text": value,
        }
        if value.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(value.split()[0])}]
        return {"update_id": next(_update_ids), "message": message}
    shown = session.keyboard_message(user_id)
    buttons = [b.get("callback_data") for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    if value not in buttons:
        raise RuntimeError(f"user {user_id}: no button {value!r} on the bot's newest keyboard; buttons: {buttons}")
    query = {
        "id": f"{user_id}-{next(_query_ids)}",
        "from": user_json(user_id),
        "chat_instance": f"ci{user_id}",
        "message": shown,
        "data": value,
    }
    return {"update_id": next(_update_ids), "callback_query": query}


Feed = Callable[[dict[str, Any]], Awaitable[None]]


async def in_flight(workers: int, users: list[int], play: Callable[[int], Awaitable[None]]) -> None:
    """``workers`` users at once; each plays one user's updates in order, then takes the next user."""
    shared = iter(users)

    async def worker() -> None:
        for user_id in shared:
            await play(user_id)

    await asyncio.gather(*(worker() for _ in range(min(workers, len(users)))))


# ---- the rigs ----------------------------------------------------------------------------------------------------


@dataclass
class Measure:
    updates: int
    seconds: float
    cpu: float
    statements: int
    calls: int

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def line(self, label: str) -> str:
        return (
            f"    {label:<11} {self.updates:>6} updates in {self.seconds:6.2f} s = {self.rate:7.0f}/s"
            f"   CPU {1000 * self.cpu / self.updates:6.2f} ms/update   SQL {self.statements / self.updates:5.1f}/update"
            f"   Bot API {self.calls / self.updates:4.2f} calls/update"
        )


@dataclass
class Production:
    """``build_dispatcher`` as bot/runner.py calls it, fed through the inbox."""

    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    seeded: Seeded
    cleanup: Callable[[], Awaitable[None]]
    session: NoNetworkSession = field(default_factory=NoNetworkSession)
    statements: int = 0
    errors: list[BaseException] = field(default_factory=list)

    async def start(self) -> None:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)
        settings = load_settings(
            bot_token=None,
            database_url=self.engine.url.render_as_string(hide_password=False),
            operator_chat_id=OPERATOR_CHAT_ID,
            admin_ids=(42,),
        )
        ticks = itertools.count()
        self.throttle = Throttle(monotonic=lambda: float(next(ticks)))  # one second per reading: see the docstring
        self.session.middleware(RetryMiddleware())
        self.bot = light_bot(self.session)
        self.dp = build_dispatcher(settings, self.sessions, throttle=self.throttle)

        @self.dp.errors()
        async def _record(error: ErrorEvent) -> None:
            self.errors.append(error.exception)
            raise SkipHandler

        self.workflow = {**self.dp.workflow_data, "dispatcher": self.dp, "bots": [self.bot]}
        self.workflow.pop("bot", None)
        await self.dp.emit_startup(bot=self.bot, **self.workflow)
        self.inbox = Inbox(self.sessions, self.dp["clock"])
        self.worker = InboxWorker(self.dp, self.bot, self.inbox)
        self.too_fast = self.dp["i18n"].translator("en").gettext(TOO_FAST)

    def _count(self, *args: Any) -> None:
        self.statements += 1

    async def feed(self, raw: dict[str, Any]) -> None:
        fresh = await self.worker.accept([raw])  # stored and claimed in one transaction, as InboxPolling does
        await self.worker.settled(fresh)  # handled, then marked done

    async def stop(self) -> None:
        await self.dp.emit_shutdown(bot=self.bot, **self.workflow)
        await self.dp.storage.close()
        for router in self.dp.sub_routers:  # module-level routers attach to one parent: free them for the next
            router._parent_router = None
        self.dp.sub_routers.clear()
        await self.cleanup()

    async def run(
        self, steps: list[Step], users: list[int], workers: int, record: dict[int, list[dict[str, Any]]]
    ) -> Measure:
        async def play(user_id: int) -> None:
            updates = record.setdefault(user_id, [])
            for step in steps:
                raw = make_update(self.session, user_id, step)
                updates.append(raw)
                await self.feed(raw)

        statements, calls = self.statements, self.session.calls
        cpu, start = time.process_time(), time.perf_counter()
        await in_flight(workers, users, play)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return Measure(len(users) * len(steps), seconds, cpu, self.statements - statements, self.session.calls - calls)

    async def check(self, booked_users: int) -> str:
        async with self.sessions() as db:
            statuses = dict((await db.execute(select(InboxRow.status, func.count()).group_by(InboxRow.status))).all())
            orders = await db.scalar(select(func.count()).select_from(OrderRow))
        throttled = sum(
            1 for chat in self.session.messages.values() for m in chat.values() if m.get("text") == self.too_fast
        )
        problems = []
        if set(statuses) - {"done"}:
            problems.append(f"inbox rows not done: {statuses}")
        if orders != booked_users:
            problems.append(f"{orders} orders for {booked_users} booking users")
        if throttled:
            problems.append(f"{throttled} 'too fast' notices")
        if self.errors:
            problems.append(f"{len(self.errors)} handler errors, first: {self.errors[0]!r}")
        if problems:
            raise RuntimeError(f"{self.name}: " + "; ".join(problems))
        return f"inbox: {statuses.get('done', 0)} done, 0 failed; orders placed {orders}; throttled 0; handler errors 0"


class Bare:
    """A plain Dispatcher (memory FSM, no middleware) fed the recorded updates; ``echo`` or the same calls."""

    def __init__(self, echo: bool) -> None:
        self.session = NoNetworkSession()
        self.bot = light_bot(self.session)
        self.dp = Dispatcher(storage=MemoryStorage())
        if not echo:
            self.dp.include_router(same_calls_router())
            return
        router = Router()

        @router.message()
        async def echo_message(message: Message) -> None:
            await message.answer(message.text or "")

        @router.callback_query()
        async def echo_press(query: CallbackQuery) -> None:
            await query.answer()

        self.dp.include_router(router)

    async def run(self, record: dict[int, list[dict[str, Any]]], workers: int) -> Measure:
        async def play(user_id: int) -> None:
            for raw in record[user_id]:
                await self.dp.feed_raw_update(self.bot, raw)

        users = list(record)
        calls = self.session.calls
        cpu, start = time.process_time(), time.perf_counter()
        await in_flight(workers, users, play)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        updates = sum(len(record[u]) for u in users)
        return Measure(updates, seconds, cpu, 0, self.session.calls - calls)


async def median_of(runs: int, measure: Callable[[], Awaitable[Measure]]) -> Measure:
    """The run with the median rate: a reference takes a fraction of a second, so one run is at the mercy of
    whatever else the machine does in that moment."""
    measures = sorted([await measure() for _ in range(runs)], key=lambda m: m.rate)
    return measures[len(measures) // 2]


Results = dict[tuple[str, str], tuple[Measure, Measure, Measure]]  # (mix, mode) -> production, bare, echo


# ---- the backends ------------------------------------------------------------------------------------------------


async def prepared(name: str, engine: AsyncEngine, cleanup: Callable[[], Awaitable[None]]) -> Production:
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, datetime.now(UTC))
    async with sessions() as db, db.begin():
        await db.execute(
            update(SessionRow).where(SessionRow.id == seeded.session_id).values(capacity=ROOMY, seats_left=ROOMY)
        )
    return Production(name, engine, sessions, seeded, cleanup)


async def open_sqlite(directory: str) -> Production:
    engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")  # as bot/runner.py: the default pool
    await upgrade(engine)
    return await prepared("SQLite", engine, engine.dispose)


async def open_postgres(url: str) -> Production:
    engine, cleanup = await scratch_postgres(url)
    try:
        return await prepared("PostgreSQL", engine, cleanup)
    except BaseException:
        await cleanup()
        raise


# ---- the run -----------------------------------------------------------------------------------------------------


async def bench_backend(production: Production, per_mix: int, workers: int, rng: random.Random) -> Results:
    """Every mix in both modes; returns {(mix, mode): (production, bare, echo)}."""
    await production.start()
    bare, echo = Bare(echo=False), Bare(echo=True)
    results: Results = {}
    next_user = FIRST_USER + rng.randrange(1_000_000) * 100
    booked = 0
    try:
        for mix, steps in mixes(production.seeded).items():
            # warm-up: one user through every rig, not measured
            warm: dict[int, list[dict[str, Any]]] = {}
            await production.run(steps, [next_user], 1, warm)
            await bare.run(warm, 1)
            await echo.run(warm, 1)
            booked += mix == "booking"
            next_user += 1
            count = max(1, -(-per_mix // len(steps)))
            for mode, in_parallel in (("sequential", 1), (f"{workers} at once", workers)):
                users = list(range(next_user, next_user + count))
                next_user += count
                booked += count if mix == "booking" else 0
                record: dict[int, list[dict[str, Any]]] = {}
                prod = await production.run(steps, users, in_parallel, record)
                same = await median_of(REFERENCE_RUNS, partial(bare.run, record, in_parallel))
                plain = await median_of(REFERENCE_RUNS, partial(echo.run, record, in_parallel))
                results[(mix, mode)] = (prod, same, plain)
                print(f"  {production.name} {mix}, {mode} ({count} users x {len(steps)} updates)")
                print(prod.line("production"))
                print(same.line("bare"))
                print(plain.line("bare echo"))
                print(
                    f"    ratio production/bare-same-calls: {prod.rate / same.rate:.2f}"
                    f"   production/echo: {prod.rate / plain.rate:.3f}"
                )
        print(f"  {production.name} check: {await production.check(booked)}")
        methods = ", ".join(f"{k} {v}" for k, v in sorted(production.session.by_method.items()))
        print(f"  {production.name} Bot API calls of production: {methods}")
    finally:
        await production.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=600, help="updates per mix and mode (whole users)")
    parser.add_argument("--users", type=int, default=50, help="users in flight in the concurrent mode")
    parser.add_argument("--seed", type=int, default=7, help="picks the bench's user ids")
    parser.add_argument(
        "--postgres", metavar="URL", help="also on PostgreSQL (a scratch schema), e.g. postgresql+asyncpg://..."
    )
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}; "
        f"--updates {args.updates} --users {args.users} --seed {args.seed}; "
        f"PostgreSQL: {'yes' if args.postgres else 'no'}"
    )
    rng = random.Random(args.seed)
    summary: list[tuple[str, Results]] = []
    with tempfile.TemporaryDirectory() as directory:
        backends: list[Callable[[], Awaitable[Production]]] = [lambda: open_sqlite(directory)]
        if args.postgres:
            backends.append(lambda: open_postgres(args.postgres))
        for open_backend in backends:
            production = await open_backend()
            summary.append((production.name, await bench_backend(production, args.updates, args.users, rng)))
    print()
    for name, results in summary:
        for (mix, mode), (prod, same, plain) in results.items():
            print(
                f"{name:<10} {mix:<7} {mode:<11} ratio production/bare-same-calls: {prod.rate / same.rate:.2f}"
                f" (production {prod.rate:.0f}/s, bare {same.rate:.0f}/s, bare echo {plain.rate:.0f}/s)"
            )
    print(
        f"\nwhole run {time.perf_counter() - started:.0f} s; "
        f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()
    for mix in ("browse", "booking"):  # the worst case of every backend and mode, the figure a goal is held to
        prod, same, plain = min(
            (r for _, results in summary for (m, _mode), r in results.items() if m == mix),
            key=lambda r: r[0].rate / r[1].rate,
        )
        print(
            f"ratio production/bare-same-calls: {prod.rate / same.rate:.2f}"
            f" (production {prod.rate:.0f}/s, bare {same.rate:.0f}/s, bare echo {plain.rate:.0f}/s)"
        )


if __name__ == "__main__":
    main()
