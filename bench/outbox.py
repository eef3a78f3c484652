"""Outbox benchmark: N session reminders to N users through the Bot API emulator at Telegram's 30/s overall limit.

Prints figures, asserts nothing about time, finishes by itself (a wall-clock cap bounds the run).

    .venv/bin/python bench/outbox.py [--messages 10000] [--postgres] [--batch 20] [--sender-rate 29]
                                     [--latency 0] [--concurrency 12] [--chats 20] [--more 3] [--no-freeze]
                                     [--scheduler S]

Setup: a temporary SQLite database created by the real migrations (or, with ``--postgres``, a throw-away schema on
``BENCH_POSTGRES_URL`` / ``TEST_POSTGRES_URL``), ``tests/seed.py``'s catalog plus one session starting a little
under two hours from now, N users, N confirmed and paid orders on it, and for each order the pending
``before:7200@<session>`` reminder. The first 50 reminders are turned into outbox rows by the real job
(``domain.use_cases.deadlines.send_due_reminders``); the rest are written in bulk in exactly the shape the job
wrote (checked: kind, chat, payload, dedup key, due time), with the reminder closed and the audit entry, so setup
takes seconds.

The emulator (``sandbox.server.Emulator``, Telegram's limits: 30 messages/s overall with a burst of 30, 1/s per
chat with a burst of 3) runs in this process, in a thread of its own with its own event loop, so the sender's loop
and CPU time are its own (like Telegram, the emulator answers 429 with ``retry_after`` in whole seconds). Its world
has the N users, with the same ids as the database's.

The sender is the real one: ``bot.outbox.OutboxSender`` with its production defaults (batch 20, 12 requests in
flight, ``bot.ratelimit``'s overall rate), on the Bot production gives it (``bot.sender_session.build_sender_bot``:
its own ``AiohttpSession`` to the emulator's URL, no retry middleware). Its ``drain()`` (the scheduler's job) runs
back to back, as the scheduler would with an interval of about 0, until no row is pending; ``--scheduler S`` runs
it instead as production does: the real APScheduler job (``scheduler.jobs.build_scheduler``) every S seconds (the
setting's default is 1).

Figures, from the emulator's call log and chats and the database:

* delivered/s from the first to the last successful ``sendMessage``, and as a fraction of the 30/s limit; also
  after the first 30 (the burst both token buckets start with, which flatters short runs);
* lost: users with no message in their chat (with the outbox rows sent, dead, or still pending when the cap ran
  out); duplicates: users with more than one message; and messages that do not name the user's order;
* 429 answers to ``sendMessage`` (and how many after the first second); the longest pause between two deliveries;
* per-chat order: ``--more M`` reminders more to each of the first ``--chats K`` users (default 3 to 20), written
  after all the first ones; the bench checks every chat got its rows' messages in the order the rows were written;
* CPU time of the sender's thread, the emulator's thread and the rest (the database driver's threads), CPU per
  message, and where a message's wall time went (summed over the requests in flight): rendering (of it SQL), the
  HTTP request, marking sent (the group commit's wait included), pacing; claiming and giving rows back.

Options to find out why a figure is low, without changing the bot: ``--batch`` (rows per claim),
``--sender-rate`` (the sender's own overall rate, burst unchanged), ``--concurrency`` (requests in flight),
``--latency`` (milliseconds the emulator waits before answering each Bot API request, as the network to Telegram
would add).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import FIRST_USER, bench_order, scratch_postgres, unique
from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.outbox import OutboxSender
from bot.ratelimit import OVERALL, Limits, Rate
from bot.sender_session import build_sender_bot
from bot.storage.catalog_cache import CatalogCache
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.orders import order_values
from bot.storage.tables import (
    AuditRow,
    OrderItemRow,
    OrderReminderRow,
    OrderRow,
    OutboxRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import (
    SYSTEM,
    OutboxKind,
)
from domain.model.orders import (
    BookingStatus,
    PaymentStatus,
    TicketStatus,
    format_order_code,
    new_order_code,
)
from domain.model.payments import new_ticket_code
from domain.model.reminders import DueStatus, before_kind
from domain.use_cases.deadlines import send_due_reminders
from domain.use_cases.sweep import DEFAULT_BATCH
from sandbox.limits import Limits as EmulatorLimits
from sandbox.server import Emulator
from scheduler.jobs import build_scheduler
from tests.seed import seed_catalog, seed_users

TOKEN = "424242:bench-outbox-token-AAAAAAAAAAAAAAAAAAAAAAAA"
OFFSET = timedelta(hours=2)  # the reminder two hours before the start (the seeded organiser's [24h, 2h])
KIND = OutboxKind.SESSION_REMINDER.value
DB_PHASES = ("claim", "blocked_users", "sent_many", "release", "retry", "dead", "mark_blocked")
T = TypeVar("T")


# ---- the emulator in a thread of its own -----------------------------------------------------------------------


class EmulatorThread:
    """The emulator's aiohttp app on its own event loop in its own thread: the sender's loop and CPU time stay its
    own, as with a remote Telegram (the GIL is still shared)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="emulator", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def start(self) -> None:
        self.thread.start()
        await self.call(self.emulator.start("127.0.0.1", 0))

    async def cpu(self) -> float:
        async def thread_time() -> float:
            return time.thread_time()

        return await self.call(thread_time())

    async def stop(self) -> None:
        await self.call(self.emulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join, 10)
        self.loop.close()


def add_latency(emulator: Emulator, seconds: float) -> None:
    """Every Bot API request waits ``seconds`` before the emulator handles it (a network round trip)."""

    @web.middleware
    async def latency(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/bot"):
            await asyncio.sleep(seconds)
        return await handler(request)

    emulator.app.middlewares.append(latency)


# ---- the database ----------------------------------------------------------------------------------------------


def reminder_row(order_id: int, user_id: int, session_id: int, kind: str, now: datetime) -> dict[str, Any]:
    """The outbox row ``send_due_reminders`` writes for a due ``before`` reminder (checked against the job)."""
    return {
        "kind": KIND,
        "chat_id": user_id,
        "payload": {"order_id": order_id, "session_id": session_id, "kind": kind},
        "dedup_key": f"{KIND}:{order_id}:{kind}",
        "status": "pending",
        "attempts": 0,
        "due_at": now,
        "created_at": now,
    }


async def prepare(
    sessions: async_sessionmaker, n: int, now: datetime, chats: int = 0, more: int = 0
) -> tuple[dict[int, str], str]:
    """Catalog, users, orders, reminders and their outbox rows; returns user id -> order code, and a note."""
    seeded = await seed_catalog(sessions, now)
    users = list(range(FIRST_USER, FIRST_USER + n))
    await seed_users(sessions, users, now)
    starts_at = now + OFFSET - timedelta(minutes=1)  # the 2 h reminder is due a minute ago
    async with sessions() as db, db.begin():
        session = SessionRow(
            event_id=seeded.event_id, starts_at=starts_at, capacity=n, seats_left=0, status="scheduled"
        )
        db.add(session)
        await db.flush()
        session_id = session.id
    kind = before_kind(OFFSET, session_id)
    codes: set[str] = set()
    tickets: set[str] = set()
    order_rows, item_rows, reminder_rows = [], [], []
    code_of: dict[int, str] = {}
    for index, user_id in enumerate(users):
        code = unique(new_order_code, codes)
        ticket = unique(new_ticket_code, tickets)
        order_id = index + 1
        created = now - timedelta(days=1)
        order = bench_order(
            code,
            user_id,
            session_id,
            seeded.event_id,
            created,
            pay_by=created + timedelta(minutes=40),
            booking=BookingStatus.CONFIRMED,
            payment=PaymentStatus.PAID,
            ticket=TicketStatus.ISSUED,
            ticket_code=ticket,
            paid_at=created + timedelta(minutes=20),
        )
        order_rows.append({**order_values(order), "id": order_id, "version": 0})
        item_rows.append({"order_id": order_id, "ticket_type": "adult", "quantity": 1, "unit_price_minor": 4500})
        reminder_rows.append({"order_id": order_id, "kind": kind, "due_at": starts_at - OFFSET, "status": "pending"})
        code_of[user_id] = code
    async with sessions() as db, db.begin():
        await db.execute(insert(OrderRow), order_rows)
        await db.execute(insert(OrderItemRow), item_rows)
        await db.execute(insert(OrderReminderRow), reminder_rows)

    # The real job for the first reminders; then the rest in bulk, in the shape the job wrote.
    swept = await send_due_reminders(SqlUnitOfWork(sessions), now, min(DEFAULT_BATCH, n))
    async with sessions() as db:
        by_job = {
            row.payload["order_id"]: row for row in await db.scalars(select(OutboxRow).where(OutboxRow.kind == KIND))
        }
    if len(by_job) != len(swept.done) or swept.skipped or swept.failed:
        raise RuntimeError(f"the reminder job did not do what the bench expects: {swept}, {len(by_job)} rows")
    for order_id, row in by_job.items():
        expected = reminder_row(order_id, FIRST_USER + order_id - 1, session_id, kind, now)
        actual = {key: getattr(row, key) for key in expected}
        if actual != expected:
            raise RuntimeError(f"the job's outbox row differs from the bench's:\n  job: {actual}\n  bench: {expected}")
    rest = [order_id for order_id in range(1, n + 1) if order_id not in by_job]
    async with sessions() as db, db.begin():
        if rest:
            await db.execute(
                insert(OutboxRow),
                [reminder_row(order_id, FIRST_USER + order_id - 1, session_id, kind, now) for order_id in rest],
            )
            await db.execute(
                update(OrderReminderRow)
                .where(OrderReminderRow.status == DueStatus.PENDING.value)
                .values(status=DueStatus.SENT.value, done_at=now)
            )
            await db.execute(
                insert(AuditRow),
                [
                    {
                        "at": now,
                        "actor": SYSTEM,
                        "action": "reminder.sent",
                        "order_id": order_id,
                        "before": {},
                        "after": {"kind": kind},
                    }
                    for order_id in rest
                ],
            )
    # Per-chat order: the first ``chats`` users get ``more`` reminders more, written after all the first ones (the
    # same text, other dedup keys), more than the chat's burst of 3, so their chat is deferred in between.
    extra = [
        reminder_row(
            order_id, FIRST_USER + order_id - 1, session_id, before_kind(OFFSET + timedelta(seconds=j), session_id), now
        )
        for j in range(1, more + 1)
        for order_id in range(1, min(chats, n) + 1)
    ]
    if extra:
        async with sessions() as db, db.begin():
            await db.execute(insert(OutboxRow), extra)
    note = (
        f"{len(by_job)} outbox rows written by domain.use_cases.deadlines.send_due_reminders,"
        f" {len(rest)} in bulk in its shape; {len(extra)} more: {more} each to {min(chats, n)} users"
    )
    return code_of, note


async def out_of_order(sessions: async_sessionmaker) -> int:
    """Chats where a later row (by id) got an earlier message than a row before it."""
    async with sessions() as db:
        rows = await db.execute(
            select(OutboxRow.chat_id, OutboxRow.sent_message_id)
            .where(OutboxRow.kind == KIND, OutboxRow.status == "sent")
            .order_by(OutboxRow.chat_id, OutboxRow.id)
        )
        ids: defaultdict[int, list[int]] = defaultdict(list)
        for chat_id, message_id in rows:
            ids[chat_id].append(message_id)
    return sum(1 for got in ids.values() if got != sorted(got))


async def outbox_counts(sessions: async_sessionmaker) -> Counter[str]:
    async with sessions() as db:
        rows = await db.execute(
            select(OutboxRow.status, func.count()).where(OutboxRow.kind == KIND).group_by(OutboxRow.status)
        )
        return Counter(dict(rows.all()))


async def remaining(sessions: async_sessionmaker) -> int:
    counts = await outbox_counts(sessions)
    return counts["pending"] + counts["sending"]


# ---- instruments -----------------------------------------------------------------------------------------------


class Meter:
    """Wall time per phase of the sender (wrapped around its collaborators), and SQL statement time per phase."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.count: defaultdict[str, int] = defaultdict(int)
        self.sql: defaultdict[str, float] = defaultdict(float)
        self.statements: defaultdict[str, int] = defaultdict(int)
        self.requested_sleep = 0.0
        self.phase: contextvars.ContextVar[str] = contextvars.ContextVar("phase", default="other")  # per task
        self.on = False

    def wrap(self, name: str, function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            token = self.phase.set(name)
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.count[name] += 1
                self.phase.reset(token)

        return timed

    def listen(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(conn: Any, *_: Any) -> None:
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _after(conn: Any, *_: Any) -> None:
            started = conn.info["bench_started"].pop()
            if self.on:
                phase = self.phase.get()
                self.sql[phase] += time.perf_counter() - started
                self.statements[phase] += 1


def instrument(sender: OutboxSender, meter: Meter) -> None:
    """Time the sender's steps by wrapping them on this one instance: the queue's database calls, rendering,
    sending, marking sent (the group commit's wait included), each run, and the pacing sleeps."""
    steps: list[tuple[object, str, str]] = [(sender.queue, name, name) for name in DB_PHASES]
    steps += [(sender.renderer, "render", "render"), (sender, "_send", "send"), (sender.marks, "mark", "mark")]
    steps += [(sender, "_run", "run")]
    for target, attribute, phase in steps:
        setattr(target, attribute, meter.wrap(phase, getattr(target, attribute)))
    sleep = sender.sleep

    async def pacing(seconds: float) -> object:
        meter.requested_sleep += seconds
        return await sleep(seconds)

    sender.sleep = meter.wrap("pacing sleep", pacing)


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread of this process, by name (Linux /proc; empty elsewhere)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    result: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            result[names.get(int(tid), f"thread {tid}")] = (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return {}
    return result


# ---- the run ---------------------------------------------------------------------------------------------------


async def drain_tight(sender: OutboxSender, sessions: async_sessionmaker, deadline: float) -> None:
    """``drain()`` (the scheduler's job) back to back, as the scheduler would with an interval of about 0."""
    while time.monotonic() < deadline:
        if await sender.drain() == 0:
            if await remaining(sessions) == 0:
                return
            await asyncio.sleep(0.05)  # rows waiting for a later due time (a retry): nothing to do now


async def drain_scheduled(sender: OutboxSender, sessions: async_sessionmaker, deadline: float, interval: float) -> None:
    """The production way: APScheduler's interval job (``max_instances=1``, ``coalesce``)."""
    scheduler = build_scheduler(sender.drain, interval)
    scheduler.start()
    try:
        while time.monotonic() < deadline:
            if await remaining(sessions) == 0:  # no row is pending or leased
                return
            await asyncio.sleep(0.2)  # the database is polled: nothing else tells when the last row went out
    finally:
        scheduler.shutdown(wait=False)


def rate(times: list[float], skip: int) -> float | None:
    """Deliveries per second from the ``skip``-th to the last (intervals over their span)."""
    if len(times) - skip < 2 or times[-1] <= times[skip]:
        return None
    return (len(times) - 1 - skip) / (times[-1] - times[skip])


async def run(args: argparse.Namespace, engine: AsyncEngine, db_name: str) -> None:
    n = args.messages
    limit = args.limit
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    code_of, note = await prepare(sessions, n, now, args.chats, args.more)
    expected_rows = n + min(args.chats, n) * args.more

    emulator = Emulator(limits=EmulatorLimits(global_rate=limit, global_burst=int(limit)))
    for user_id in code_of:
        emulator.world.add_user(first_name="Tourist", language_code="en", user_id=user_id)
    if args.latency:
        add_latency(emulator, args.latency / 1000)
    host = EmulatorThread(emulator)
    await host.start()
    print(f"setup: {n} users, orders, reminders and outbox rows in {time.perf_counter() - started:.1f} s ({note})")

    settings = Settings(telegram_api_url=emulator.base_url, bot_token=TOKEN)
    bot = build_sender_bot(settings, TOKEN)
    try:
        sender_limits = Limits(overall=Rate(args.sender_rate, OVERALL.burst)) if args.sender_rate else Limits()
        sender_options: dict[str, Any] = {"limits": sender_limits}
        if args.batch:
            sender_options["batch"] = args.batch
        if args.concurrency:
            sender_options["concurrency"] = args.concurrency
        cache = CatalogCache()  # as bot.app builds the dispatcher's, which the runner gives the sender
        sender = OutboxSender(bot, sessions, I18n("en"), SystemClock(), catalog_cache=cache, **sender_options)
        meter = Meter()
        meter.listen(engine)
        instrument(sender, meter)
        mode = f"the APScheduler job every {args.scheduler:g} s" if args.scheduler else "drain() in a tight loop"
        print(
            f"sender: OutboxSender(batch={sender.batch}, concurrency={sender.concurrency}), its overall rate"
            f" {sender_limits.overall.rate.per_second:g}/s"
            f" (burst {sender_limits.overall.rate.burst:g}); {mode}; emulator: {limit:g}/s overall"
            f" (burst {int(limit)}), 1/s per chat (burst 3)"
            f"{f', {args.latency:g} ms before each answer' if args.latency else ''}"
        )
        cap = expected_rows / limit * 1.5 + 60
        if not args.no_freeze:
            gc.freeze()  # as bot.runner does once started: the objects of the start are never scanned again
        cpu_before, emulator_cpu_before, main_cpu_before = time.process_time(), await host.cpu(), time.thread_time()
        threads_before = thread_cpu()
        wall_start = time.monotonic()
        meter.on = True
        progress = asyncio.create_task(report_progress(emulator, wall_start))
        lags: list[tuple[float, float]] = []
        watcher = asyncio.create_task(watch_loop(lags, wall_start))
        try:
            if args.scheduler:
                await drain_scheduled(sender, sessions, wall_start + cap, args.scheduler)
            else:
                await drain_tight(sender, sessions, wall_start + cap)
        finally:
            meter.on = False
            progress.cancel()
            watcher.cancel()
        wall = time.monotonic() - wall_start
        main_cpu, emulator_cpu = time.thread_time() - main_cpu_before, await host.cpu() - emulator_cpu_before
        total_cpu = time.process_time() - cpu_before
        threads_after = thread_cpu()
    finally:
        await bot.session.close()
        await host.stop()

    # ---- figures
    world = emulator.world
    sends = world.calls_of("sendMessage")
    statuses = Counter(call.status for call in sends)
    times = sorted(call.at for call in sends if call.ok)
    counts = await outbox_counts(sessions)
    per_user = {
        user_id: [m for m in world.chats[user_id].messages.values() if m.sender_id == world.bot.id]
        for user_id in code_of
    }
    wanted = {user_id: 1 + (args.more if user_id - FIRST_USER < args.chats else 0) for user_id in code_of}
    silent = sum(max(0, wanted[u] - len(messages)) for u, messages in per_user.items())
    doubled = sum(max(0, len(messages) - wanted[u]) for u, messages in per_user.items())
    disordered = await out_of_order(sessions)
    wrong = sum(
        1
        for user_id, messages in per_user.items()
        for m in messages
        if format_order_code(code_of[user_id]) not in (m.data.get("text") or "")
    )
    unsent = counts["pending"] + counts["sending"]
    too_many = statuses[429]

    print(f"\n{db_name}, {expected_rows} reminders to {n} users, wall {wall:.1f} s (cap {cap:.0f} s)")
    if not times:
        print("  nothing was delivered")
        return
    span = times[-1] - times[0]
    whole = rate(times, 0)
    steady = rate(times, int(limit))
    print(f"  delivered      {len(times)} of {expected_rows}, first to last successful sendMessage {span:.1f} s")
    if whole:
        print(f"  delivered/s    {whole:.2f} = {whole / limit:.3f} of the {limit:g}/s limit")
    if steady:
        print(
            f"                 {steady:.2f} = {steady / limit:.3f} of the limit after the first {int(limit)}"
            f" (the starting burst)"
        )
    print(
        f"  lost           {silent} messages missing from the users' chats; outbox rows: {counts['sent']} sent,"
        f" {counts['dead']} dead, {unsent} still pending"
    )
    print(
        f"  duplicates     {doubled} messages more than the users' rows; {wrong} messages not naming the user's order"
    )
    print(
        f"  order          {disordered} chats whose rows' messages are out of the rows' order"
        f" ({min(args.chats, n)} chats with {1 + args.more} messages)"
    )
    waited = sum(
        ((call.response or {}).get("parameters") or {}).get("retry_after", 0) for call in sends if call.status == 429
    )
    first_429 = next(((i, c.at) for i, c in enumerate(sends) if c.status == 429), None)
    late = sum(1 for c in sends if c.status == 429 and c.at - sends[0].at > 1.0)
    print(
        f"  429s           {too_many} (after the first second: {late}); sendMessage answers: "
        + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        + (
            f"; the first on call {first_429[0] + 1}, {first_429[1] - times[0]:.1f} s in; {waited} s of"
            f" retry_after waited out"
            if first_429
            else ""
        )
    )
    gaps = [b - a for a, b in itertools.pairwise(times)]
    seconds = Counter(int(t - times[0]) for t in times)
    full = [seconds[s] for s in range(1, int(span))]  # whole seconds, the first (the burst) and the last left out
    print(
        f"  pauses         longest {max(gaps, default=0) * 1000:.0f} ms between two deliveries;"
        f" {sum(g > 0.2 for g in gaps)} over 200 ms"
        + (f"; per whole second min {min(full)}, median {statistics.median(full):g}, max {max(full)}" if full else "")
        + f"; the sender's event loop stalled over 100 ms {len(lags)} times, {sum(lag for _, lag in lags):.1f} s"
        + (f" in all (longest {max(lag for _, lag in lags) * 1000:.0f} ms)" if lags else "")
    )

    # CPU and where the sender's time went
    others = {name: threads_after.get(name, 0) - threads_before.get(name, 0) for name in threads_after}
    rest = total_cpu - main_cpu - emulator_cpu
    busiest = sorted(
        ((cpu, name) for name, cpu in others.items() if name not in ("MainThread", "emulator") and cpu > 0.05),
        reverse=True,
    )[:3]
    print(
        f"  CPU            sender thread {main_cpu:.1f} s ({main_cpu / wall:.0%} of wall), emulator thread"
        f" {emulator_cpu:.1f} s, other threads {rest:.1f} s"
        + (f" ({', '.join(f'{name} {cpu:.1f} s' for cpu, name in busiest)})" if busiest else "")
        + f"; {main_cpu / len(times) * 1000:.2f} ms of sender CPU per message"
    )
    delivered = max(len(times), 1)
    db_time = sum(meter.seconds[p] for p in DB_PHASES) + meter.sql["render"]

    def ms(phase: str) -> str:
        return f"{meter.seconds[phase] / delivered * 1000:.2f}"

    print(
        f"  per message    (wall, summed over the requests in flight) render {ms('render')} ms (of it SQL"
        f" {meter.sql['render'] / delivered * 1000:.2f} ms in {meter.statements['render'] / delivered:.1f}"
        f" statements), HTTP send {ms('send')} ms, mark sent {ms('mark')} ms (group commits:"
        f" {meter.count['sent_many']}, {meter.count['mark'] / max(meter.count['sent_many'], 1):.1f} rows each),"
        f" pacing sleep {ms('pacing sleep')} ms"
        f" ({meter.count['pacing sleep']} sleeps); claim {ms('claim')} ms ({meter.count['claim']} claims), rows"
        f" given back {meter.count['release']} times, blocked check {ms('blocked_users')} ms"
    )
    print(
        f"  database       {db_time:.1f} s of statements and transactions, {db_time / wall:.0%} of wall;"
        f" {meter.count['run']} drain runs, {wall - meter.seconds['run']:.1f} s outside them"
    )


async def watch_loop(lags: list[tuple[float, float]], start: float) -> None:
    """Stalls of the sender's event loop: (seconds in, how much later than asked a 10 ms sleep woke)."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        if (late := time.monotonic() - before - 0.01) > 0.1:
            lags.append((before - start, late))


async def report_progress(emulator: Emulator, start: float) -> None:
    while True:
        await asyncio.sleep(30)
        delivered = sum(1 for call in list(emulator.world.calls) if call.method == "sendMessage" and call.ok)
        print(f"  ... {time.monotonic() - start:.0f} s: {delivered} delivered", file=sys.stderr, flush=True)


# ---- databases -------------------------------------------------------------------------------------------------


async def with_sqlite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tripdesk-bench-") as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
        try:
            await upgrade(engine)
            await run(args, engine, "SQLite")
        finally:
            await engine.dispose()


async def with_postgres(args: argparse.Namespace, url: str) -> None:
    engine, cleanup = await scratch_postgres(url)
    try:
        await run(args, engine, "PostgreSQL")
    finally:
        await cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="reminders, one per user (default 10000)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL at BENCH_POSTGRES_URL or TEST_POSTGRES_URL instead of SQLite",
    )
    parser.add_argument("--batch", type=int, default=0, help="the sender's batch (default: OutboxSender's, 20)")
    parser.add_argument(
        "--sender-rate",
        type=float,
        default=0,
        help="the sender's own overall rate per second (default: bot.ratelimit's)",
    )
    parser.add_argument("--limit", type=float, default=30.0, help="the emulator's overall limit per second (30)")
    parser.add_argument("--latency", type=float, default=0, help="ms the emulator waits before each answer (0)")
    parser.add_argument("--concurrency", type=int, default=0, help="requests in flight (default: OutboxSender's)")
    parser.add_argument("--no-freeze", action="store_true", help="do not gc.freeze() before the run (as before)")
    parser.add_argument("--chats", type=int, default=20, help="users who get more than one message (20)")
    parser.add_argument("--more", type=int, default=3, help="messages more to each of those users (3)")
    parser.add_argument(
        "--scheduler",
        type=float,
        default=0,
        help="run the real APScheduler job every S seconds instead of a tight loop",
    )
    args = parser.parse_args()
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f}"
        f" {load[2]:.2f}"
    )
    if args.postgres:
        url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
        if not url:
            parser.error("--postgres needs BENCH_POSTGRES_URL (or TEST_POSTGRES_URL)")
        await with_postgres(args, url)
    else:
        await with_sqlite(args)


if __name__ == "__main__":
    asyncio.run(main())
