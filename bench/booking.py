"""Booking benchmark: throughput of ``place_order`` against a raw conditional UPDATE, and what a naive capacity
check oversells.

Prints figures, asserts nothing about time. Runs on SQLite (a file in a temporary directory) and, when
``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL`` is set, on PostgreSQL (in a throw-away schema).

    .venv/bin/python bench/booking.py [--attempts 2000] [--seats 100] [--bookings 2000] [--workers 1,16] [--budget 1]
                                 [--spread 50] [--pool N] [--one-transaction]

Part 1, throughput: single-seat bookings pulled by N concurrent workers, each in its own transaction as a Telegram
update would be, on one hot session (every booking contends for its row) and spread round-robin over ``--spread``
sessions. Three rows per case, run in the same process one after the other:

* ``raw UPDATE``: the reference, a conditional ``UPDATE ... WHERE seats_left >= 1`` and a commit on a bare
  SQLAlchemy Core connection (a statement built once) -- the least a booking that cannot oversell costs;
* ``place_order``: the whole use case through ``SqlUnitOfWork`` with the process's catalog cache when there is one
  (catalog reads, answers, pricing, order with items, outbox row, audit row, conditional UPDATE, commit);
* ``storage path``: only its writes, through the repositories.

Each case ends with ``ratio place_order/raw UPDATE: X.XX`` (goal >= 0.30). Before them, one booking's statements
per backend: how many, split into catalog reads and the rest, and the round trips (PostgreSQL: BEGIN and COMMIT too).

Part 2, overselling: ``--attempts`` concurrent single-seat attempts (``asyncio.gather``) on ``--seats`` seats:

* ``naive, 2 statements``: ``SELECT seats_left``, then ``UPDATE SET seats_left = <value read> - 1``, each its own
  short transaction, as code that loads a row, checks it in Python and writes the value back;
* ``naive, 1 transaction`` (with ``--one-transaction``): the same two statements inside one transaction (on SQLite
  this project takes the write lock at BEGIN, which serialises it; on PostgreSQL READ COMMITTED still loses updates);
* ``conditional UPDATE``: ``SqlSeatRepository.reserve``, i.e. ``UPDATE ... WHERE seats_left >= n`` -- what the
  code uses;
* ``place_order``: the use case itself, each attempt a different tourist.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import ANSWERS, FIRST_USER, NOW, bench_order, scratch_postgres
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.tables import SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import SoldOut
from domain.model.messages import AuditEntry, OutboxKind, OutboxMessage
from domain.model.orders import new_order_code
from domain.model.users import User
from domain.use_cases.booking import PlaceOrder, place_order
from tests.seed import Seeded, seed_catalog, seed_users

try:  # the process's catalog cache, as the bot wires it (absent in older trees: then every read goes to SQL)
    from bot.storage.catalog_cache import CatalogCache
except ImportError:  # pragma: no cover
    CatalogCache = None  # type: ignore[assignment,misc]

GOAL = 0.30  # place_order against the raw conditional UPDATE (issue 11)
CATALOG_TABLES = ("event_sessions", "events", "organisers", "hotels", "regions", "catalog_version")


@dataclass
class Backend:
    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker
    seeded: Seeded
    cleanup: Callable[[], Awaitable[None]]
    users: int
    catalog_cache: object | None = None
    known: dict[int, User] = field(default_factory=dict)  # the seeded users, read once
    _next_start: int = 10  # days from NOW; every bench session gets its own start (unique per event)

    async def new_session(self, capacity: int) -> int:
        async with self.sessions() as db, db.begin():
            row = SessionRow(
                event_id=self.seeded.event_id,
                starts_at=NOW + timedelta(days=self._next_start),
                capacity=capacity,
                seats_left=capacity,
                status="scheduled",
            )
            self._next_start += 1
            db.add(row)
            await db.flush()
            return row.id

    def uow(self) -> SqlUnitOfWork:
        if self.catalog_cache is None:
            return SqlUnitOfWork(self.sessions)
        return SqlUnitOfWork(self.sessions, self.catalog_cache)  # type: ignore[call-arg]

    async def seats_left(self, session_id: int) -> int:
        async with self.sessions() as db:
            return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


async def open_sqlite(directory: str, pool_size: int, users: int) -> Backend:
    engine = create_engine(
        f"sqlite+aiosqlite:///{directory}/bench.db", pool_size=pool_size, max_overflow=0, pool_timeout=120
    )
    await upgrade(engine)
    return await _prepare("SQLite", engine, users, engine.dispose)


async def open_postgres(url: str, pool_size: int, users: int) -> Backend:
    engine, cleanup = await scratch_postgres(url, pool_size=pool_size, max_overflow=0, pool_timeout=120)
    try:
        return await _prepare("PostgreSQL", engine, users, cleanup)
    except BaseException:
        await cleanup()
        raise


async def _prepare(name: str, engine: AsyncEngine, users: int, cleanup: Callable[[], Awaitable[None]]) -> Backend:
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, NOW)
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + users), NOW)
    cache = CatalogCache() if CatalogCache is not None else None
    backend = Backend(name, engine, sessions, seeded, cleanup, users, cache)
    async with backend.uow() as uow:  # the bot's Confirm hands place_order the user its update already read
        for user_id in range(FIRST_USER, FIRST_USER + users):
            if (user := await uow.users.get(user_id)) is not None:
                backend.known[user_id] = user
    return backend


# ---- part 1: throughput -----------------------------------------------------------------------------------------


# The reference: what one booking that cannot oversell costs at the least, on a bare Core connection.
RAW_RESERVE = (
    update(SessionRow)
    .where(
        SessionRow.id == bindparam("session_id"),
        SessionRow.status == "scheduled",
        SessionRow.seats_left >= 1,
    )
    .values(seats_left=SessionRow.seats_left - 1)
)


async def raw_update(backend: Backend, session_id: int, _user_id: int) -> None:
    async with backend.engine.begin() as conn:
        if (await conn.execute(RAW_RESERVE, {"session_id": session_id})).rowcount != 1:
            raise RuntimeError("the bench session ran out of seats")


async def use_case(backend: Backend, session_id: int, user_id: int) -> None:
    command = PlaceOrder(user_id, session_id, {"adult": 1}, ANSWERS, user=backend.known.get(user_id))
    await place_order(backend.uow(), command, NOW)


async def storage_path(backend: Backend, session_id: int, user_id: int) -> None:
    """The writes place_order makes, without its reads and checks."""
    async with backend.uow() as uow:
        if not await uow.seats.reserve(session_id, 1):
            raise RuntimeError("the bench session ran out of seats")
        order = await uow.orders.add(bench_order(new_order_code(), user_id, session_id, backend.seeded.event_id, NOW))
        await uow.outbox.add(
            OutboxMessage(OutboxKind.BOOKING_REQUEST, 700001, {"order_id": order.id}, NOW, f"bench:{order.id}")
        )
        await uow.audit.add(AuditEntry(NOW, "tourist", "order.placed", order.id, after=order.snapshot()))
        await uow.commit()


Variant = Callable[[Backend, int, int], Awaitable[None]]
VARIANTS: tuple[tuple[str, Variant], ...] = (
    ("raw UPDATE", raw_update),
    ("place_order", use_case),
    ("storage path", storage_path),
)


async def statements_per_booking(backend: Backend) -> None:
    """One booking's statements (after a warm-up one): catalog reads, the rest, and the round trips."""
    session_id = await backend.new_session(10)
    await use_case(backend, session_id, FIRST_USER)
    statements: list[str] = []
    ends = 0
    postgres = backend.engine.dialect.name == "postgresql"

    def on_statement(*args: object) -> None:
        statements.append(str(args[2]))

    def on_end(*_args: object) -> None:
        nonlocal ends
        ends += 1

    sync = backend.engine.sync_engine
    listeners = [("before_cursor_execute", on_statement), ("commit", on_end)]
    if postgres:  # asyncpg's BEGIN is a round trip of its own (SQLite's BEGIN IMMEDIATE is a statement above)
        listeners.append(("begin", on_end))
    for name, listener in listeners:
        event.listen(sync, name, listener)
    try:
        await use_case(backend, session_id, FIRST_USER + 1)
    finally:
        for name, listener in listeners:
            event.remove(sync, name, listener)
    catalog = sum(1 for s in statements if s.lstrip().startswith("SELECT") and _from_table(s) in CATALOG_TABLES)
    print(
        f"  {backend.name:<11} place_order: {len(statements)} statements ({catalog} catalog reads,"
        f" {len(statements) - catalog} the rest), {len(statements) + ends} round trips incl. BEGIN/COMMIT;"
        f" catalog cache: {'yes' if backend.catalog_cache is not None else 'no'}"
    )


def _from_table(statement: str) -> str:
    words = statement.replace("\n", " ").split()
    return words[words.index("FROM") + 1].strip('"') if "FROM" in words else ""


async def run_workers(
    workers: int, jobs: Iterable[int], job: Callable[[int], Awaitable[object]], budget: float
) -> tuple[int, float]:
    """(jobs done, seconds) with ``workers`` concurrent loops pulling from one shared iterator; no job is started
    after ``budget`` seconds, so a slow or busy machine still finishes quickly (with fewer bookings)."""
    shared = iter(jobs)
    done = 0
    start = time.perf_counter()
    deadline = start + budget

    async def loop() -> None:
        nonlocal done
        for item in shared:
            await job(item)
            done += 1
            if time.perf_counter() > deadline:
                return

    await asyncio.gather(*(loop() for _ in range(workers)))
    return done, time.perf_counter() - start


async def throughput(
    backend: Backend, bookings: int, workers_list: list[int], budget: float, spread: int, rounds: int
) -> list[str]:
    """Prints each case's rows and ratio; returns the ratio lines. The variants of a case take turns, ``rounds``
    slices of ``budget / rounds`` seconds each, so a change in the machine's load meets all of them alike."""
    users = range(FIRST_USER, FIRST_USER + bookings)
    ratios: list[str] = []
    for workers in workers_list:
        for placement, count in (("one hot session", 1), (f"spread over {spread} sessions", spread)):
            capacity = bookings * rounds + 1
            session_ids = {label: [await backend.new_session(capacity) for _ in range(count)] for label, _ in VARIANTS}
            done = dict.fromkeys(session_ids, 0)
            seconds = dict.fromkeys(session_ids, 0.0)
            failed: dict[str, str] = {}
            for round_ in range(rounds):
                for label, variant in VARIANTS:
                    if label in failed:
                        continue

                    async def book(
                        user_id: int, ids: list[int] = session_ids[label], variant: Variant = variant
                    ) -> None:
                        await variant(backend, ids[user_id % len(ids)], user_id)

                    try:
                        if round_ == 0:
                            await book(users[0])  # warm-up, and a clear message if the variant cannot run at all
                            done[label] += 1
                        n, took = await run_workers(workers, users[1:], book, budget / rounds)
                    except Exception as error:
                        failed[label] = f"{type(error).__name__}: {error}"
                        continue
                    done[label] += n
                    seconds[label] += took
            rates: dict[str, float] = {}
            for label, _ in VARIANTS:
                if label in failed:
                    print(f"  {backend.name:<11} {label:<13} {workers:>3} workers  n/a: {failed[label]}")
                    continue
                left = sum([await backend.seats_left(i) for i in session_ids[label]])
                ok = left == capacity * count - done[label]
                rates[label] = (done[label] - 1) / seconds[label]
                print(_row(backend.name, label, workers, placement, done[label] - 1, seconds[label], ok))
            if "place_order" in rates and "raw UPDATE" in rates:
                ratio = rates["place_order"] / rates["raw UPDATE"]
                ratios.append(
                    f"  ratio place_order/raw UPDATE: {ratio:.2f} ({backend.name}, {workers:>2} workers, {placement};"
                    f" place_order {rates['place_order']:.0f}/s, raw {rates['raw UPDATE']:.0f}/s;"
                    f" goal >= {GOAL:.2f}: {'met' if ratio >= GOAL else 'NOT met'})"
                )
                print(ratios[-1])
    return ratios


def _row(backend: str, what: str, workers: int, placement: str, done: int, seconds: float, seats_ok: bool) -> str:
    # seats_ok: the seats left equal the capacity less the bookings made; nothing lost, nothing sold twice.
    return (
        f"  {backend:<11} {what:<13} {workers:>3} workers, {placement:<25} {done:>6} bookings in {seconds:5.2f} s"
        f" = {done / seconds:6.0f}/s   seats {'consistent' if seats_ok else 'INCONSISTENT'}"
    )


# ---- part 2: overselling ----------------------------------------------------------------------------------------


async def naive_two_statements(backend: Backend, session_id: int) -> bool:
    async with backend.engine.begin() as conn:
        left = await conn.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
    if left < 1:
        return False
    async with backend.engine.begin() as conn:
        await conn.execute(update(SessionRow).where(SessionRow.id == session_id).values(seats_left=left - 1))
    return True


async def naive_one_transaction(backend: Backend, session_id: int) -> bool:
    async with backend.engine.begin() as conn:
        left = await conn.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
        if left < 1:
            return False
        await conn.execute(update(SessionRow).where(SessionRow.id == session_id).values(seats_left=left - 1))
    return True


async def conditional(backend: Backend, session_id: int) -> bool:
    async with backend.uow() as uow:
        if not await uow.seats.reserve(session_id, 1):
            return False
        await uow.commit()
    return True


async def placed(backend: Backend, session_id: int, _users: list[int] = [FIRST_USER]) -> bool:  # noqa: B006
    _users[0] += 1  # each attempt a different tourist (the users seeded for part 1, round-robin)
    user_id = FIRST_USER + _users[0] % backend.users
    try:
        command = PlaceOrder(user_id, session_id, {"adult": 1}, ANSWERS, user=backend.known.get(user_id))
        await place_order(backend.uow(), command, NOW)
    except SoldOut:
        return False
    return True


async def oversell(backend: Backend, attempts: int, seats: int, one_transaction: bool) -> None:
    variants = [
        ("naive, 2 statements", naive_two_statements),
        ("conditional UPDATE", conditional),
        ("place_order", placed),
    ]
    if one_transaction:
        variants.insert(1, ("naive, 1 transaction", naive_one_transaction))
    for label, attempt in variants:
        session_id = await backend.new_session(seats)
        start = time.perf_counter()
        results = await asyncio.gather(*(attempt(backend, session_id) for _ in range(attempts)), return_exceptions=True)
        seconds = time.perf_counter() - start
        sold = sum(r is True for r in results)
        errors = [r for r in results if isinstance(r, BaseException)]
        left = await backend.seats_left(session_id)
        note = f", {len(errors)} errors ({type(errors[0]).__name__})" if errors else ""
        print(
            f"  {backend.name:<11} {label:<21} sold {sold:>5} of {seats} seats: oversold by {max(sold - seats, 0):>5};"
            f" seats_left ends at {left:>3}   ({attempts} attempts, {seconds:5.2f} s{note})"
        )


# ---- main -------------------------------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=2000, help="concurrent attempts in the oversell demo")
    parser.add_argument("--seats", type=int, default=100, help="seats on sale in the oversell demo")
    parser.add_argument("--bookings", type=int, default=2000, help="bookings per throughput run")
    parser.add_argument("--workers", default="1,16", help="comma-separated worker counts for the throughput runs")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds at most per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="turns the variants of a case take (interleaved)")
    parser.add_argument("--spread", type=int, default=50, help="sessions the spread-out runs book round-robin")
    parser.add_argument("--pool", type=int, default=0, help="connection pool size (default: the most workers)")
    parser.add_argument(
        "--one-transaction",
        action="store_true",
        help="also run the naive check with both statements in one transaction",
    )
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    pool = args.pool or max(workers)
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f};"
        f" PostgreSQL: {'yes' if postgres_url else 'no (set BENCH_POSTGRES_URL)'}"
    )
    with tempfile.TemporaryDirectory(prefix="tripdesk-bench-") as directory:
        openers: list[Callable[[], Awaitable[Backend]]] = [lambda: open_sqlite(directory, pool, max(args.bookings, 1))]
        if postgres_url:
            openers.append(lambda: open_postgres(postgres_url, pool, max(args.bookings, 1)))
        backends: list[Backend] = []
        try:
            for opener in openers:  # one at a time: those opened before a failure are closed below
                backend = await opener()
                backends.append(backend)
            print("\nStatements of one booking (after a warm-up one)")
            for backend in backends:
                await statements_per_booking(backend)
            print(
                f"\nThroughput: single-seat bookings, one transaction each, {args.budget:g} s per variant in"
                f" {args.rounds} interleaved turns, on one hot session and spread over {args.spread}; pool of {pool}"
            )
            ratios: list[str] = []
            for backend in backends:
                ratios += await throughput(backend, args.bookings, workers, args.budget, args.spread, args.rounds)
            print(f"\nOverselling: {args.attempts} concurrent single-seat attempts on {args.seats} seats")
            for backend in backends:
                await oversell(backend, args.attempts, args.seats, args.one_transaction)
            print(f"\nRatios (place_order against the raw conditional UPDATE measured in the same run; goal >= {GOAL})")
            print("\n".join(ratios))
        finally:
            for backend in backends:
                await backend.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
