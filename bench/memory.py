"""Memory benchmark: the bot process's peak RSS after serving traffic, against a bare aiogram bot in the same run.

Prints figures, asserts nothing. Each process is a subprocess of this one (``--child``), so no import or cache of one
counts in the other; each reads its peak resident set (``VmHWM`` in ``/proc/self/status``) at checkpoints.

    .venv/bin/python bench/memory.py [--orders 12000,1200000] [--scale 10] [--users 200] [--workers 50]
                                     [--workdir DIR]

**The database** (SQLite, the bot's default; one per ``--orders`` figure): migrated by the real migrations, the demo
catalog at ``--scale`` imported as ``tripdesk demo --scale`` imports it (bot/catalog/demo.py, then
``import_catalog``), then ``bench/desk.py``'s bulk ``seed`` (``tests/seed.py``'s catalog, 30 sessions of its cruise
and the orders, 5 % of them problems). Seeding 1.2M orders takes minutes: with ``--workdir`` the seeded files are
kept there and reused (brought to the migrations' head first; each run works on a fresh copy).

**Production** is what ``tripdesk run`` loads and builds (bot/runner.py): ``bot.runner`` imported, ``upgrade`` run,
``build_dispatcher`` with its default storage (the FSM in the database) and a ``Throttle`` (on the bench's clock:
one second per reading, so no simulated user is throttled), the outbox sender, the scheduler built (not started) with
the deadline and desk jobs; the startup hook runs. Traffic goes the inbox path (``Inbox.accept`` then
``InboxWorker.handle``, as bench/updates.py): ``--users`` users browse (``/start`` -> Events -> region -> next 30
days -> sea -> the cruise's card) and as many book (deep link -> date -> + one ticket -> Next -> pickup -> lunch ->
Confirm), ``--workers`` users in flight. Then one run of every periodic job, ``--passes`` batches of 50 each (the
scheduler's run allows 20; the peak comes from one batch's work, and at 1.2M orders each pass costs seconds): the
deadline jobs, the desk's jobs (``check_orders`` meets the seeded orders unseen), and the outbox drained.

The Bot API is bench/no_network.py's session (it imports aiogram only, so the bare process can use it too).

**Bare**: a plain ``Dispatcher`` (memory FSM) whose handlers make the same kind of calls (``answerCallbackQuery`` +
``editMessageText`` with a keyboard for a press, ``sendMessage`` with a keyboard for a message) on the same session,
fed the very updates the production process made (written one user a line as each user finishes, read back a line at
a time, so neither process holds them all), as many users in flight. It imports aiogram and this module only.

``BENCH_TRACEMALLOC=N`` prints (to stderr) the production process's N biggest Python allocation growths during the
traffic: what grows outside Python's heap (SQLite's page caches, the connections' threads, pydantic-core) does not
show there, only in the RSS checkpoints.

The last lines: ``ratio production/bare`` per orders figure (goal <= 1.2) and whether the peak stayed flat.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Dispatcher  # noqa: E402  (the bare bot's imports: aiogram only)
from aiogram.fsm.storage.memory import MemoryStorage  # noqa: E402

from bench.no_network import NoNetworkSession, light_bot, same_calls_router  # noqa: E402  (aiogram only)

if TYPE_CHECKING:
    from aiogram.types import ErrorEvent

OPERATOR_CHAT_ID = -100500
FIRST_USER = 7_000_000
ROOMY = 10_000_000  # the booked date's capacity: never sold out
MiB = 1024 * 1024


def memory() -> dict[str, int]:
    """This process's resident set now and its peak (``VmRSS``, ``VmHWM``), in bytes."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) * 1024
    return found


def append_line(path: Path, value: Any) -> None:
    with path.open("a") as file:
        file.write(json.dumps(value) + "\n")


def read_lines(path: Path) -> Iterator[str]:
    with path.open() as file:
        yield from file


def count_lines(path: Path) -> int:
    with path.open() as file:
        return sum(1 for _ in file)


class Checkpoints:
    def __init__(self) -> None:
        self.points: list[tuple[str, int, int]] = []

    def mark(self, label: str) -> None:
        now = memory()
        self.points.append((label, now["VmRSS"], now["VmHWM"]))

    def report(self, **extra: Any) -> None:
        print(json.dumps({"points": self.points, **extra}), flush=True)


# ---- the Bot API without a network -------------------------------------------------------------------------------


# ---- the users ---------------------------------------------------------------------------------------------------

Step = tuple[str, str]  # ("text", text) or ("press", callback data, or its start then "*")


class Users:
    """Makes each simulated user's next raw update from the newest keyboard the bot sent them."""

    def __init__(self, session: NoNetworkSession) -> None:
        self.session = session
        self.update_id = 0
        self.query_id = 0

    def make(self, user_id: int, step: Step) -> dict[str, Any]:
        kind, value = step
        self.update_id += 1
        user = {"id": user_id, "is_bot": False, "first_name": "Tess", "language_code": "en"}
        if kind == "text":
            message: dict[str, Any] = {
                "message_id": self.session.next_message_id(user_id),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Tess"},
                "from": user,
                "text": value,
            }
            if value.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(value.split()[0])}]
            return {"update_id": self.update_id, "message": message}
        shown = self.session.keyboard_message(user_id)
        buttons = [b.get("callback_data") for row in shown["reply_markup"]["inline_keyboard"] for b in row]
        if value.endswith("*"):  # the first button whose data starts so (an event of the list's first page)
            value = next((b for b in buttons if b and b.startswith(value[:-1])), value)
        if value not in buttons:
            raise RuntimeError(
                f"user {user_id}: no button {value!r} on the bot's newest keyboard: {buttons} ({shown['text'][:300]!r})"
            )
        self.query_id += 1
        query = {"id": str(self.query_id), "from": user, "chat_instance": f"ci{user_id}", "message": shown}
        return {"update_id": self.update_id, "callback_query": {**query, "data": value}}


async def in_flight(workers: int, users: list[int], play: Callable[[int], Awaitable[None]]) -> None:
    shared = iter(users)

    async def worker() -> None:
        for user_id in shared:
            await play(user_id)

    await asyncio.gather(*(worker() for _ in range(min(workers, len(users)))))


# ---- the children ------------------------------------------------------------------------------------------------


async def child_seed(database: Path, orders: int, scale: int) -> None:
    """Migrate, import the demo catalog at ``scale``, bulk-seed ``orders`` (bench/desk.py's ``seed``)."""
    import random

    from bench import desk
    from bot.catalog.demo import write_demo_catalog
    from bot.catalog.store import import_catalog
    from bot.storage.db import create_engine, session_factory
    from bot.storage.migrate import upgrade

    started = time.perf_counter()
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        backend = desk.Backend("SQLite", engine, sessions, engine.dispose, postgres=False)
        await desk.seed(backend, orders, 0.05, random.Random(5))
        catalog = database.with_suffix(".catalog.yaml")  # after: the import updates the regions both name
        counts = write_demo_catalog(catalog, scale=scale)
        await import_catalog(sessions, catalog)
    finally:
        await engine.dispose()
    print(json.dumps({"catalog": counts, "seconds": time.perf_counter() - started}), flush=True)


async def child_migrate(database: Path) -> None:
    """A kept database brought to the migrations' head, so the production process finds nothing to do."""
    from bot.storage.db import create_engine
    from bot.storage.migrate import upgrade

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print("{}")


async def child_production(database: Path, users: int, workers: int, passes: int, record_path: Path) -> None:
    marks = Checkpoints()
    marks.mark("interpreter + aiogram")
    import itertools

    from aiogram.dispatcher.event.bases import SkipHandler
    from sqlalchemy import select, update

    importlib.import_module("bot.runner")  # everything `tripdesk run` imports
    from bot.app import build_dispatcher
    from bot.config import load_settings
    from bot.inbox import Inbox
    from bot.inbox_worker import InboxWorker
    from bot.malloc_arenas import limit_malloc_arenas
    from bot.outbox import OutboxSender
    from bot.storage.db import create_engine, session_factory
    from bot.storage.migrate import upgrade
    from bot.storage.tables import EventRow, SessionRow
    from bot.storage.uow import SqlUnitOfWork
    from bot.telegram_retry import RetryMiddleware
    from bot.throttle import Throttle
    from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
    from scheduler.jobs import DeadlineJobs, DeskJobs, RunningJobs, build_scheduler

    marks.mark("imports (bot.runner)")
    limit_malloc_arenas()  # as run_bot does first
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(url)
    await upgrade(engine)
    marks.mark("migrations checked")
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        event_id, region_id = (
            await db.execute(select(EventRow.id, EventRow.region_id).where(EventRow.code == "islands-cruise"))
        ).one()
        session_id = await db.scalar(
            select(SessionRow.id)  # the cruise's first date still ahead (the seed's dates follow bench/desk's clock)
            .where(SessionRow.event_id == event_id, SessionRow.starts_at > datetime.now(UTC) + timedelta(hours=6))
            .where(SessionRow.status == "scheduled")
            .order_by(SessionRow.starts_at)
            .limit(1)
        )
        await db.execute(update(SessionRow).where(SessionRow.id == session_id).values(capacity=ROOMY, seats_left=ROOMY))
    settings = load_settings(bot_token=None, database_url=url, operator_chat_id=OPERATOR_CHAT_ID, admin_ids=(42,))
    ticks = itertools.count()
    session = NoNetworkSession()
    session.middleware(RetryMiddleware())
    bot = light_bot(session)
    dp = build_dispatcher(settings, sessions, throttle=Throttle(monotonic=lambda: float(next(ticks))))
    sender = OutboxSender(bot, sessions, dp["i18n"], dp["clock"], desk_timezone=settings.desk_timezone)

    def uows() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    deadline_jobs = DeadlineJobs(uows, dp["clock"], max_passes=passes)
    desk_jobs = DeskJobs(uows, dp["clock"], settings.desk, max_passes=passes)
    build_scheduler(
        sender.drain, settings.scheduler_interval_s, deadline_jobs, desk_jobs=desk_jobs, running=RunningJobs()
    )
    errors: list[BaseException] = []

    @dp.errors()
    async def _record(error: ErrorEvent) -> None:
        errors.append(error.exception)
        raise SkipHandler

    marks.mark("dispatcher, sender and scheduler built")
    workflow = {**dp.workflow_data, "dispatcher": dp, "bots": [bot]}
    await dp.emit_startup(bot=bot, **workflow)
    inbox = Inbox(sessions, dp["clock"])
    worker = InboxWorker(dp, bot, inbox)
    marks.mark("started (startup hook, inbox)")
    tracing = int(os.environ.get("BENCH_TRACEMALLOC", "0"))  # N: the N biggest growths during traffic, to stderr
    if tracing:
        import tracemalloc

        tracemalloc.start(12)
        before = tracemalloc.take_snapshot()

    mixes: dict[str, list[Step]] = {
        "browse": [
            ("text", "/start"),
            ("press", MenuCb(action=MenuAction.EVENTS).pack()),
            ("press", BrowseCb(region=region_id, step="when").pack()),
            ("press", BrowseCb(region=region_id, when=When.UPCOMING, step="category").pack()),
            ("press", BrowseCb(region=region_id, when=When.UPCOMING, category="sea", step="list").pack()),
            ("press", EventCb(event=event_id).pack().rpartition(":")[0] + ":*"),
        ],
        "booking": [
            ("text", "/start ev-islands-cruise"),
            ("press", BookCb(action=BookAction.START, session=session_id).pack()),
            ("press", BookCb(action=BookAction.INC, session=session_id, value=0).pack()),
            ("press", BookCb(action=BookAction.NEXT, session=session_id).pack()),
            ("press", BookCb(action=BookAction.CHOICE, session=session_id, value=1).pack()),
            ("text", "Hotel Telegraaf, lobby"),
            ("press", BookCb(action=BookAction.CONFIRM, session=session_id).pack()),
        ],
    }
    maker = Users(session)
    updates = 0
    next_user = FIRST_USER
    started = time.perf_counter()
    for steps in mixes.values():

        async def play(user_id: int, steps: list[Step] = steps) -> None:
            nonlocal updates
            played = []
            for step in steps:
                if errors:
                    raise RuntimeError(f"a handler failed: {errors[0]!r}") from errors[0]
                raw = maker.make(user_id, step)
                played.append(raw)
                await worker.handle(await inbox.accept([raw], bot))
            updates += len(played)
            append_line(record_path, played)  # for the bare process; not kept here

        await in_flight(workers, list(range(next_user, next_user + users)), play)
        next_user += users
    traffic_s = time.perf_counter() - started
    marks.mark(f"after traffic ({updates} updates)")
    if tracing:
        after = tracemalloc.take_snapshot()
        print("the biggest growths by file:", file=sys.stderr)
        for stat in after.compare_to(before, "filename")[:tracing]:
            print(f"{stat.size_diff / MiB:8.2f} MiB {stat.count_diff:8d} blocks  {stat.traceback}", file=sys.stderr)
        print("the biggest growths by where they were made:", file=sys.stderr)
        grown = after.compare_to(before, "traceback")
        for stat in grown[:tracing]:
            print(f"{stat.size_diff / MiB:8.2f} MiB {stat.count_diff:8d} blocks", file=sys.stderr)
            for frame in stat.traceback.format()[-16:]:
                print("    " + frame, file=sys.stderr)
        tracemalloc.stop()

    started = time.perf_counter()
    done = {}
    for name, job in {**deadline_jobs.jobs(), **desk_jobs.jobs()}.items():
        job_started = time.perf_counter()
        swept = await job()
        done[name] = f"{len(swept.done) + len(swept.skipped)} in {time.perf_counter() - job_started:.1f} s"
    marks.mark("after the deadline and desk jobs")
    delivered = await sender.drain()
    jobs_s = time.perf_counter() - started
    marks.mark("after draining the outbox")
    await dp.emit_shutdown(bot=bot, **workflow)
    await engine.dispose()
    marks.report(traffic_s=traffic_s, jobs_s=jobs_s, jobs=done, delivered=str(delivered), calls=session.calls)


async def child_bare(record_path: Path, workers: int) -> None:
    marks = Checkpoints()
    marks.mark("interpreter + aiogram")
    session = NoNetworkSession()
    bot = light_bot(session)
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(same_calls_router())
    marks.mark("started")

    users = read_lines(record_path)  # one user's updates a line, read as they are played
    updates = 0

    async def play(_: int) -> None:
        nonlocal updates
        for raw in json.loads(next(users)):
            await dp.feed_raw_update(bot, raw)
            updates += 1

    started = time.perf_counter()
    await in_flight(workers, list(range(count_lines(record_path))), play)
    traffic_s = time.perf_counter() - started
    marks.mark(f"after traffic ({updates} updates)")
    marks.report(traffic_s=traffic_s, calls=session.calls)


# ---- the run -----------------------------------------------------------------------------------------------------


def child(*args: str) -> dict[str, Any]:
    """Runs this file as a child; returns the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    sys.stderr.write(done.stderr)  # BENCH_TRACEMALLOC's figures, warnings
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def seeded(workdir: Path, orders: int, scale: int) -> Path:
    database = workdir / f"memory-{orders}-x{scale}.db"
    if not database.exists():
        partial = database.with_suffix(".partial")
        for stale in workdir.glob(f"{partial.name}*"):
            stale.unlink()
        info = child("seed", str(partial), str(orders), str(scale))
        print(f"  seeded {orders} orders, demo catalog x{scale} {info['catalog']} in {info['seconds']:.0f} s")
        partial.rename(database)
    child("migrate", str(database))  # a kept one may be behind the code's migrations
    return database


def show(label: str, result: dict[str, Any]) -> int:
    print(f"  {label}")
    for point, rss, hwm in result["points"]:
        print(f"    {point:<52} RSS {rss / MiB:6.1f} MiB   peak {hwm / MiB:6.1f} MiB")
    peak: int = result["points"][-1][2]
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", default="12000,1200000", help="comma-separated order counts (one database each)")
    parser.add_argument("--scale", type=int, default=10, help="the demo catalog's scale")
    parser.add_argument("--users", type=int, default=200, help="users per mix (browse, booking)")
    parser.add_argument("--workers", type=int, default=50, help="users in flight")
    parser.add_argument("--passes", type=int, default=2, help="passes of 50 items per job run (the scheduler: 20)")
    parser.add_argument("--workdir", type=Path, help="keep the seeded databases here and reuse them")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "seed":
            asyncio.run(child_seed(Path(rest[0]), int(rest[1]), int(rest[2])))
        elif kind == "migrate":
            asyncio.run(child_migrate(Path(rest[0])))
        elif kind == "production":
            asyncio.run(child_production(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]), Path(rest[4])))
        else:
            asyncio.run(child_bare(Path(rest[0]), int(rest[1])))
        return
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}; --orders {args.orders} "
        f"--scale {args.scale} --users {args.users} --workers {args.workers}"
    )
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for orders in (int(n) for n in args.orders.split(",")):
            database = seeded(workdir, orders, args.scale)
            copy = Path(scratch) / "run.db"
            shutil.copyfile(database, copy)
            record = Path(scratch) / "updates.jsonl"
            record.unlink(missing_ok=True)
            production = child(
                "production", str(copy), str(args.users), str(args.workers), str(args.passes), str(record)
            )
            bare = child("bare", str(record), str(args.workers))
            for stale in Path(scratch).glob("run.db*"):
                stale.unlink()
            print(f"{orders} orders:")
            jobs = ", ".join(f"{name} {swept}" for name, swept in production["jobs"].items())
            prod_peak = show(
                f"production ({production['traffic_s']:.0f} s of traffic; {production['jobs_s']:.0f} s of jobs,"
                f" items done: {jobs}; outbox: {production['delivered']} delivered)",
                production,
            )
            bare_peak = show(f"bare ({bare['traffic_s']:.1f} s of traffic)", bare)
            lines.append((orders, prod_peak, bare_peak))
    print(f"\nload average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for orders, prod_peak, bare_peak in lines:
        print(
            f"{orders:>8} orders: ratio production/bare: {prod_peak / bare_peak:.2f}"
            f" (production peak {prod_peak / MiB:.0f} MiB, bare {bare_peak / MiB:.0f} MiB)"
        )
    if len(lines) > 1:
        low, high = min(p for _, p, _ in lines), max(p for _, p, _ in lines)
        print(
            f"production peak across the order counts: {low / MiB:.0f}..{high / MiB:.0f} MiB "
            f"(spread {(high - low) / MiB:.1f} MiB)"
        )


if __name__ == "__main__":
    main()
