"""Operator desk benchmark: the cost of ``domain.use_cases.desk.check_orders`` (problem detection) at the field's size.

Prints figures, asserts nothing about time. Runs on SQLite (a file in a temporary directory, created by the real
migrations) and, when ``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL`` is set, on PostgreSQL (in a throw-away schema
dropped at the end).

    .venv/bin/python bench/desk.py [--orders 12000] [--problem-share 0.05] [--batch 50] [--sweep-budget 20]
                                   [--idle-runs 20] [--touch 100] [--rounds 3] [--seed 5]

Setup: ``tests/seed.py``'s catalog plus 30 sessions of its cruise over the next 30 days, and ``--orders`` orders
written with bulk inserts (orders and their items, in the repository's own row shape), as the desk finds them right
after the migration that added it: none seen yet (``desk_seen_version`` -1). ``--problem-share`` of them are in a
problem state, in equal parts: awaiting the organiser past ``confirm_by``, refund due, confirmed and unpaid past
``pay_by``; the rest are normal (paid and ticketed, awaiting the organiser in time, awaiting payment in time,
cancelled before paying), with every deadline at least an hour away so nothing falls due during the run.

The job runs as the scheduler runs it: ``scheduler.jobs.DeskJobs.check_orders`` (passes of ``--batch`` orders,
one transaction per order, up to ``MAX_PASSES`` passes per call) with a desk chat configured
(``DeskSettings(chat_id=-100500)``), on a clock that starts at the bench's ``NOW`` and runs in real time, so the
digest rule (at most ``DIGEST_AFTER`` cards a minute posted one by one) sees the sweep's real duration.

1. First sweep: calls until the job finds nothing: orders looked at per second, the share of it the claim query
   took, statements per order, cards opened (posted one by one / only in a digest) and outbox rows written. The sweep
   costs about 15 ms an order (12,000 orders: 3 minutes per backend), so by default no call starts after
   ``--sweep-budget`` seconds (20) and the orders it did not reach are marked seen in bulk, as the job marks them
   (desk columns only: their problems get no card); ``--sweep-budget 0`` sweeps them all;
2. Idle (on PostgreSQL after ``VACUUM ANALYZE orders``, as autovacuum would run after the sweep's updates):
   nothing changed, nothing due: one ``check_orders`` call (median of ``--idle-runs``), which the scheduler
   makes every ``SCHEDULER_INTERVAL_S`` (1 s by default), with the claim query's own time and the CPU time of this
   process (on SQLite the database works in this process; PostgreSQL's server CPU is not counted); the same for the
   desk's two other jobs (``check_questions``, ``reraise_cards``); and the claim query's plan;
3. Steady state: ``--touch`` random orders get a new version (as a use case saving them would), and the call that
   re-evaluates them is timed (``--rounds`` rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import FIRST_USER, NOW, bench_order, scratch_postgres, unique
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.orders import order_values
from bot.storage.tables import (
    DeskCardRow,
    OrderItemRow,
    OrderRow,
    OutboxRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.desk import DIGEST_AFTER, DeskSettings
from domain.model.orders import (
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
    new_order_code,
)
from domain.model.payments import new_ticket_code
from scheduler.jobs import MAX_PASSES, DeskJobs
from tests.seed import seed_catalog

DESK_CHAT_ID = -100500
SESSIONS = 30
PROBLEMS = ("organiser_silent", "refund_due", "unpaid")
CARD_KINDS = ("operator.problem_card", "operator.problem_digest")


class RunningClock:
    """``NOW`` plus the real time elapsed since the bench started this backend: passes see time move."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def now(self) -> datetime:
        return NOW + timedelta(seconds=time.perf_counter() - self._start)


@dataclass
class Statements:
    """Counts the statements an engine runs, and times the desk's claim query."""

    count: int = 0
    claim_s: float = 0.0
    claims: int = 0
    claim_sql: dict[str, tuple[str, Any]] = field(default_factory=dict)  # "unseen" / "due" -> the idle query
    _started: dict[int, float] = field(default_factory=dict)

    def listen(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            self._started[id(conn)] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            seconds = time.perf_counter() - self._started.pop(id(conn), time.perf_counter())
            self.count += 1
            if (which := _claim_kind(statement)) is not None:
                self.claims += 1
                self.claim_s += seconds
                if which not in self.claim_sql or " NOT IN " not in statement.upper():
                    self.claim_sql[which] = (statement, parameters)  # the last without an exclusion list: idle

    def reset(self) -> None:
        self.count, self.claim_s, self.claims = 0, 0.0, 0


def _claim_kind(statement: str) -> str | None:
    """Which of ``SqlDeskRepository.claim_order_to_check``'s two queries this is: the orders not seen since they
    changed ("unseen"), or those whose next check is due ("due"); None for any other statement."""
    flat = " ".join(statement.split())
    if not flat.upper().startswith("SELECT ORDERS.ID FROM ORDERS WHERE"):
        return None
    if "orders.version != orders.desk_seen_version" in flat:
        return "unseen"
    return "due" if "orders.desk_check_at <=" in flat else None


@dataclass
class Backend:
    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker
    cleanup: Callable[[], Awaitable[None]]
    postgres: bool
    statements: Statements = field(default_factory=Statements)


async def open_sqlite(directory: str) -> Backend:
    engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Backend("SQLite", engine, session_factory(engine), engine.dispose, postgres=False)


async def open_postgres(url: str) -> Backend:
    engine, cleanup = await scratch_postgres(url)
    return Backend("PostgreSQL", engine, session_factory(engine), cleanup, postgres=True)


# ---- setup ------------------------------------------------------------------------------------------------------


def _order(kind: str, index: int, session_id: int, event_id: int, codes: set[str], tickets: set[str]) -> Order:
    """One order in the state ``kind`` names (a problem of :data:`PROBLEMS`, or a normal state)."""
    created = NOW - timedelta(hours=3)
    order = bench_order(unique(new_order_code, codes), FIRST_USER + index, session_id, event_id, created)
    if kind in ("paid", "refund_due"):
        ticket = unique(new_ticket_code, tickets)
        order.booking, order.payment, order.ticket = BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED
        order.pay_by, order.paid_at, order.ticket_code = created + timedelta(minutes=40), created, ticket
        if kind == "refund_due":  # the tourist cancelled a paid order; the money is not returned yet
            order.end(BookingStatus.CANCELLED, NOW - timedelta(hours=1))
    elif kind == "organiser_silent":
        order.confirm_by = NOW - timedelta(minutes=30)
    elif kind == "awaiting_organiser":
        order.confirm_by = NOW + timedelta(hours=1)
    elif kind in ("unpaid", "awaiting_payment"):
        order.booking, order.payment = BookingStatus.CONFIRMED, PaymentStatus.AWAITING
        order.pay_by = NOW - timedelta(minutes=30) if kind == "unpaid" else NOW + timedelta(hours=1)
    elif kind == "cancelled":
        order.end(BookingStatus.CANCELLED, NOW - timedelta(hours=2))
    else:
        raise ValueError(kind)
    return order


NORMAL_MIX = ("paid",) * 14 + ("awaiting_organiser", "awaiting_payment", "cancelled", "cancelled")


async def seed(backend: Backend, orders: int, share: float, rng: random.Random) -> tuple[Counter[str], set[int], float]:
    """The catalog, the sessions and the orders; returns the orders per state, the problem orders' ids and the
    seconds it took."""
    start = time.perf_counter()
    seeded = await seed_catalog(backend.sessions, NOW)
    async with backend.sessions() as db, db.begin():
        rows = [
            SessionRow(
                event_id=seeded.event_id,
                starts_at=NOW + timedelta(days=day, hours=1),
                capacity=orders,
                seats_left=0,
                status="scheduled",
            )
            for day in range(1, SESSIONS + 1)
        ]
        db.add_all(rows)
        await db.flush()
        session_ids = [row.id for row in rows]
    problem_count = round(orders * share)
    problem_at = set(rng.sample(range(orders), problem_count))
    kinds: Counter[str] = Counter()
    codes: set[str] = set()
    tickets: set[str] = set()
    order_rows, item_rows = [], []
    problem_index = 0
    for index in range(orders):
        if index in problem_at:
            kind = PROBLEMS[problem_index % len(PROBLEMS)]
            problem_index += 1
        else:
            kind = NORMAL_MIX[index % len(NORMAL_MIX)]
        kinds[kind] += 1
        order = _order(kind, index, session_ids[index % SESSIONS], seeded.event_id, codes, tickets)
        order_rows.append({**order_values(order), "id": index + 1, "version": 0})
        item_rows.append({"order_id": index + 1, "ticket_type": "adult", "quantity": 1, "unit_price_minor": 4500})
    async with backend.sessions() as db, db.begin():
        for chunk in range(0, orders, 2000):
            await db.execute(insert(OrderRow), order_rows[chunk : chunk + 2000])
            await db.execute(insert(OrderItemRow), item_rows[chunk : chunk + 2000])
    if backend.postgres:
        async with backend.engine.connect() as conn:
            # The explicit ids leave the sequence behind; the job inserts cards, not orders, but keep it honest.
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('orders', 'id'), :n)"), {"n": orders})
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('order_items', 'id'), :n)"), {"n": orders})
            await conn.commit()
        async with backend.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))  # what autovacuum would have done on a table this size
    return kinds, {index + 1 for index in problem_at}, time.perf_counter() - start


async def counts(backend: Backend) -> dict[str, int]:
    async with backend.sessions() as db:
        outbox = dict((await db.execute(select(OutboxRow.kind, func.count()).group_by(OutboxRow.kind))).all())
        cards = await db.scalar(select(func.count()).select_from(DeskCardRow))
        single = await db.scalar(select(func.count()).where(DeskCardRow.digest_id.is_(None)))
        windows = await db.scalar(select(func.count(func.distinct(DeskCardRow.digest_id))))
        unseen = await db.scalar(select(func.count()).where(OrderRow.version != OrderRow.desk_seen_version))
    return {
        "cards": cards,
        "single": single,
        "digested": cards - single,
        "windows": windows,
        "unseen": unseen,
        **{kind: outbox.get(kind, 0) for kind in CARD_KINDS},
    }


# ---- the measurements -------------------------------------------------------------------------------------------


async def mark_seen(backend: Backend, now: datetime) -> int:
    """What ``check_orders`` writes on an order it looked at (seen at its version, nothing acknowledged, checked
    again at its next deadline), in bulk, for the orders the first sweep's budget did not reach."""
    async with backend.sessions() as db, db.begin():
        rows = (
            await db.execute(
                select(OrderRow.id, OrderRow.version, OrderRow.confirm_by, OrderRow.pay_by, SessionRow.starts_at)
                .join(SessionRow, SessionRow.id == OrderRow.session_id)
                .where(OrderRow.version != OrderRow.desk_seen_version)
            )
        ).all()
        values = [
            {
                "id": row.id,
                "desk_seen_version": row.version,
                "desk_ack": [],
                "desk_check_at": min(
                    (m for m in (row.confirm_by, row.pay_by, row.starts_at) if m and m > now), default=None
                ),
            }
            for row in rows
        ]
        if values:
            await db.execute(update(OrderRow), values)
    return len(values)


def _looked_at(swept: Any) -> int:
    return len(swept.done) + len(swept.skipped) + len(swept.left) + len(swept.failed)


async def first_sweep(backend: Backend, jobs: DeskJobs, problem_ids: set[int], budget: float) -> None:
    """Calls until the backlog is drained, or (``budget`` > 0) until no call starts after ``budget`` seconds."""
    stats = backend.statements
    stats.reset()
    calls = looked = failed = 0
    last_id = 0
    cpu = time.process_time()
    start = time.perf_counter()
    while True:
        swept = await jobs.check_orders()
        calls += 1
        looked += _looked_at(swept)
        failed += len(swept.failed)
        last_id = max([last_id, *swept.done, *swept.skipped, *swept.left, *swept.failed])
        if _looked_at(swept) < jobs.batch * jobs.max_passes:  # the call drained the backlog
            break
        if budget and time.perf_counter() - start >= budget:
            break
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    after = await counts(backend)
    rate = looked / seconds if seconds else float("nan")
    left = after["unseen"]
    print(
        f"  {backend.name:<11} first sweep   {looked} orders in {seconds:6.1f} s = {rate:5.0f} orders/s"
        f" ({1000 * seconds / max(looked, 1):.2f} ms each), {calls} calls of up to {jobs.batch * jobs.max_passes};"
        f" {failed} failed; {left} left unseen"
    )
    expected = sum(1 for order_id in problem_ids if order_id <= last_id)  # the job claims in id order
    print(
        f"  {'':<11} {'':<13} claim query {stats.claim_s:5.1f} s of it ({100 * stats.claim_s / seconds:.0f} %,"
        f" {1000 * stats.claim_s / max(stats.claims, 1):.2f} ms each); {stats.count / max(looked, 1):.1f} statements"
        f" per order; CPU of this process {cpu:5.1f} s"
    )
    print(
        f"  {'':<11} {'':<13} cards opened {after['cards']} (problem orders: {expected}): {after['single']} posted"
        f" one by one, {after['digested']} only in a digest ({after['windows']} digest"
        f" minutes); outbox rows: {after[CARD_KINDS[0]]} cards + {after[CARD_KINDS[1]]} digests"
    )
    if left:
        marked = await mark_seen(backend, jobs.clock.now())
        print(
            f"  {'':<11} {'':<13} --sweep-budget {budget:g} s: all {looked + left} would take about"
            f" {(looked + left) / rate:.0f} s at this rate;"
            f" the other {marked} were marked seen in bulk (desk columns only: the"
            f" {len(problem_ids) - expected} problem orders among them have no card)"
        )


def _ms(values: list[float]) -> str:
    return (
        f"median {1000 * statistics.median(values):6.2f} ms (min {1000 * min(values):6.2f},"
        f" max {1000 * max(values):6.2f})"
    )


async def idle(backend: Backend, jobs: DeskJobs, runs: int) -> None:
    stats = backend.statements
    for label, job in (
        ("check_orders", jobs.check_orders),
        ("check_questions", jobs.check_questions),
        ("reraise_cards", jobs.reraise_cards),
    ):
        await job()  # warm
        stats.reset()
        walls, cpus, claimed = [], [], 0
        for _ in range(runs):
            cpu = time.process_time()
            start = time.perf_counter()
            swept = await job()
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            claimed += _looked_at(swept)
        extra = ""
        if label == "check_orders":
            extra = (
                f"; claim query {1000 * stats.claim_s / max(stats.claims, 1):.2f} ms;"
                f" {stats.count / runs:.0f} statements executed"
            )
        print(
            f"  {backend.name:<11} idle {label:<16} {_ms(walls)}; CPU {1000 * statistics.median(cpus):5.2f} ms"
            f" = {100 * statistics.median(cpus):4.1f} % of a core at one call a second{extra};"
            f" {claimed} orders/items claimed in {runs} calls"
        )


async def plan(backend: Backend) -> None:
    if not backend.statements.claim_sql:
        print(f"  {backend.name:<11} (the claim queries were not seen)")
        return
    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if backend.postgres else "EXPLAIN QUERY PLAN "
    for which, (statement, parameters) in sorted(backend.statements.claim_sql.items(), reverse=True):
        async with backend.engine.connect() as conn:
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()
            await conn.rollback()
        print(f"  {backend.name} plan of the idle claim ({which}): {' '.join(statement.split())}")
        for row in rows:
            print(f"      {row[-1]}")


async def steady(backend: Backend, jobs: DeskJobs, orders: int, touch: int, rounds: int, rng: random.Random) -> None:
    stats = backend.statements
    for number in range(1, rounds + 1):
        ids = rng.sample(range(1, orders + 1), min(touch, orders))
        async with backend.sessions() as db, db.begin():
            await db.execute(update(OrderRow).where(OrderRow.id.in_(ids)).values(version=OrderRow.version + 1))
        before = await counts(backend)
        stats.reset()
        start = time.perf_counter()
        looked = calls = 0
        while True:
            swept = await jobs.check_orders()
            calls += 1
            looked += _looked_at(swept)
            if _looked_at(swept) < jobs.batch * jobs.max_passes:
                break
        seconds = time.perf_counter() - start
        after = await counts(backend)
        written = sum(after[kind] - before[kind] for kind in CARD_KINDS)
        print(
            f"  {backend.name:<11} round {number}: {looked} touched orders re-evaluated in {1000 * seconds:6.0f} ms"
            f" ({1000 * seconds / max(looked, 1):.2f} ms each, {calls} call(s)),"
            f" claim query {1000 * stats.claim_s:.0f} ms of it; {written} outbox rows (cards edited),"
            f" {after['unseen']} left unseen"
        )


# ---- main -------------------------------------------------------------------------------------------------------


async def run(backend: Backend, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    kinds, problem_ids, seconds = await seed(backend, args.orders, args.problem_share, rng)
    problems = len(problem_ids)
    print(
        f"\n{backend.name}: {args.orders} orders written in {seconds:.1f} s, {problems} in a problem state"
        f" ({', '.join(f'{k} {kinds[k]}' for k in PROBLEMS)}); normal: "
        + ", ".join(f"{k} {v}" for k, v in kinds.items() if k not in PROBLEMS)
    )
    backend.statements.listen(backend.engine)
    jobs = DeskJobs(
        lambda: SqlUnitOfWork(backend.sessions),
        RunningClock(),
        DeskSettings(chat_id=DESK_CHAT_ID),
        batch=args.batch,
        max_passes=MAX_PASSES,
    )
    await first_sweep(backend, jobs, problem_ids, args.sweep_budget)
    if backend.postgres:
        async with backend.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE orders"))  # autovacuum's work after that many updates
    await idle(backend, jobs, args.idle_runs)
    await plan(backend)
    await steady(backend, jobs, args.orders, args.touch, args.rounds, rng)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=12_000, help="orders in the database (default 12000)")
    parser.add_argument("--problem-share", type=float, default=0.05, help="share of them in a problem state (0.05)")
    parser.add_argument("--batch", type=int, default=50, help="orders per pass (DeskJobs' default, 50)")
    parser.add_argument(
        "--sweep-budget",
        type=float,
        default=20.0,
        help="start no first-sweep call after S seconds (0: sweep all); the rest are marked seen",
    )
    parser.add_argument("--idle-runs", type=int, default=20, help="idle calls timed per job (20)")
    parser.add_argument("--touch", type=int, default=100, help="orders touched per steady-state round (100)")
    parser.add_argument("--rounds", type=int, default=3, help="steady-state rounds (3)")
    parser.add_argument("--seed", type=int, default=5, help="random seed for which orders are problems/touched")
    args = parser.parse_args()
    if args.orders < 1 or not 0 <= args.problem_share <= 1 or args.batch < 1 or args.idle_runs < 1:
        parser.error("--orders, --batch and --idle-runs must be at least 1, --problem-share within 0..1")
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f}"
        f" {load[2]:.2f}; PostgreSQL: {'yes' if postgres_url else 'no (set BENCH_POSTGRES_URL)'}"
    )
    print(
        f"check_orders via DeskJobs(batch={args.batch}, max_passes={MAX_PASSES}), desk chat {DESK_CHAT_ID},"
        f" DIGEST_AFTER={DIGEST_AFTER}; clock: {NOW:%Y-%m-%d %H:%M} UTC running in real time"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tripdesk-bench-") as directory:
        openers: list[Callable[[], Awaitable[Backend]]] = [lambda: open_sqlite(directory)]
        if postgres_url:
            openers.append(lambda: open_postgres(postgres_url))
        for opener in openers:
            backend = await opener()
            try:
                await run(backend, args)
            finally:
                await backend.cleanup()
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
