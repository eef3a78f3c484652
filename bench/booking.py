"""Booking benchmark: throughput of ``place_order`` and what a naive capacity check oversells.

Prints figures, asserts nothing about time. Runs on SQLite (a file in a temporary directory) and, when
``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL`` is set, on PostgreSQL (in a throw-away schema).

    .venv/bin/python bench/booking.py [--attempts 2000] [--seats 100] [--bookings 2000] [--workers 1,16] [--budget 1]
                                 [--pool N] [--one-transaction]

Part 1, throughput: ``--bookings`` single-seat bookings spread over N concurrent workers, each booking in its own
unit of work as a Telegram update would be, on a session big enough for all of them. Two rows per worker count:

* ``place_order``: the whole use case (catalog reads, answers, pricing, conditional UPDATE, order, outbox, audit);
* ``storage path``: only its writes (conditional UPDATE, order with items, outbox row, audit row, commit), which
  shows what the database itself costs and keeps a figure when the use case cannot run.

Part 2, overselling: ``--attempts`` concurrent single-seat attempts (``asyncio.gather``) on ``--seats`` seats:

* ``naive, 2 statements``: ``SELECT seats_left``, then ``UPDATE SET seats_left = <value read> - 1``, each its own
  short transaction, as code that loads a row, checks it in Python and writes the value back;
* ``naive, 1 transaction`` (with ``--one-transaction``): the same two statements inside one transaction (on SQLite
  this project takes the write lock at BEGIN, which serialises it; on PostgreSQL READ COMMITTED still loses updates);
* ``conditional UPDATE``: ``SqlSeatRepository.reserve``, i.e. ``UPDATE ... WHERE seats_left >= n`` — what the
  code uses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import ANSWERS, FIRST_USER, NOW, bench_order, scratch_postgres
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.tables import SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import AuditEntry, OutboxKind, OutboxMessage
from domain.model.orders import new_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from tests.seed import Seeded, seed_catalog, seed_users


@dataclass
class Backend:
    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker
    seeded: Seeded
    cleanup: Callable[[], Awaitable[None]]
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
    return Backend(name, engine, sessions, seeded, cleanup)


# ---- part 1: throughput -----------------------------------------------------------------------------------------


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


async def storage_path(backend: Backend, session_id: int, user_id: int) -> None:
    """The writes place_order makes, without its reads and checks."""
    async with SqlUnitOfWork(backend.sessions) as uow:
        if not await uow.seats.reserve(session_id, 1):
            raise RuntimeError("the bench session ran out of seats")
        order = await uow.orders.add(bench_order(new_order_code(), user_id, session_id, backend.seeded.event_id, NOW))
        await uow.outbox.add(
            OutboxMessage(OutboxKind.BOOKING_REQUEST, 700001, {"order_id": order.id}, NOW, f"bench:{order.id}")
        )
        await uow.audit.add(AuditEntry(NOW, "tourist", "order.placed", order.id, after=order.snapshot()))
        await uow.commit()


async def throughput(backend: Backend, bookings: int, workers_list: list[int], budget: float) -> None:
    users = range(FIRST_USER, FIRST_USER + bookings)
    for workers in workers_list:
        session_id = await backend.new_session(bookings)

        async def book(user_id: int, session_id: int = session_id) -> None:
            await place_order(
                SqlUnitOfWork(backend.sessions), PlaceOrder(user_id, session_id, {"adult": 1}, ANSWERS), NOW
            )

        try:
            await book(users[0])  # warm-up, and a clear message if the use case cannot run at all
            done, seconds = await run_workers(workers, users[1:], book, budget)
            ok = await backend.seats_left(session_id) == bookings - 1 - done
            print(_row(backend.name, "place_order", workers, done, seconds, ok))
        except Exception as error:
            print(
                f"  {backend.name:<11} {'place_order':<13} {workers:>3} workers  n/a: {type(error).__name__}: {error}"
            )

        session_id = await backend.new_session(bookings)
        done, seconds = await run_workers(
            workers, users, lambda user_id, s=session_id: storage_path(backend, s, user_id), budget
        )
        ok = await backend.seats_left(session_id) == bookings - done
        print(_row(backend.name, "storage path", workers, done, seconds, ok))


def _row(backend: str, what: str, workers: int, done: int, seconds: float, seats_ok: bool) -> str:
    # seats_ok: the seats left equal the capacity less the bookings made; nothing lost, nothing sold twice.
    return (
        f"  {backend:<11} {what:<13} {workers:>3} workers {done:>6} bookings in {seconds:5.2f} s"
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
    async with SqlUnitOfWork(backend.sessions) as uow:
        if not await uow.seats.reserve(session_id, 1):
            return False
        await uow.commit()
    return True


async def oversell(backend: Backend, attempts: int, seats: int, one_transaction: bool) -> None:
    variants = [("naive, 2 statements", naive_two_statements), ("conditional UPDATE", conditional)]
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
            print(
                f"\nThroughput: up to {args.bookings} single-seat bookings (at most {args.budget:g} s per run),"
                f" one unit of work each, on one session; pool of {pool} connections"
            )
            for backend in backends:
                await throughput(backend, args.bookings, workers, args.budget)
            print(f"\nOverselling: {args.attempts} concurrent single-seat attempts on {args.seats} seats")
            for backend in backends:
                await oversell(backend, args.attempts, args.seats, args.one_transaction)
        finally:
            for backend in backends:
                await backend.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
