"""SQLite's writers of one process queue for the write lock in order, the inbox's store ahead of the rest
(bot/storage/write_gate.py), and a transaction that ends in any way hands the gate on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import create_engine
from bot.storage.reads import read_engine
from bot.storage.write_gate import WriteGate, urgent_writes, write_gate


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    async with engine.begin() as db:
        await db.execute(text("CREATE TABLE log (who TEXT)"))
    yield engine
    await engine.dispose()


def gate_of(engine: AsyncEngine) -> WriteGate:
    gate = write_gate(engine)
    assert gate is not None
    return gate


async def _write(
    engine: AsyncEngine, who: str, hold: asyncio.Event | None = None, inside: asyncio.Event | None = None
) -> None:
    async with engine.begin() as db:
        await db.execute(text("INSERT INTO log VALUES (:who)"), {"who": who})
        if inside is not None:
            inside.set()
        if hold is not None:
            await hold.wait()


async def _order(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as db:
        return list((await db.scalars(text("SELECT who FROM log ORDER BY rowid"))).all())


async def _until_waiting(gate: WriteGate, count: int) -> None:
    for _ in range(500):
        if gate.waiting() >= count:
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"{gate.waiting()} waiting, expected {count}")


async def test_writers_take_the_lock_in_order_of_arrival_and_the_urgent_one_first(plain: AsyncEngine) -> None:
    gate = gate_of(plain)
    hold, inside = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_write(plain, "holder", hold, inside))
    await inside.wait()
    rest = []
    for n in range(5):
        rest.append(asyncio.create_task(_write(plain, f"w{n}")))
        await _until_waiting(gate, n + 1)

    async def urgent() -> None:
        with urgent_writes():
            await _write(plain, "store")

    rest.append(asyncio.create_task(urgent()))
    await _until_waiting(gate, 6)
    hold.set()
    await asyncio.gather(first, *rest)
    assert await _order(plain) == ["holder", "store", "w0", "w1", "w2", "w3", "w4"]
    assert gate.holder is None and gate.waiting() == 0


async def test_a_failed_or_rolled_back_transaction_hands_the_gate_on(plain: AsyncEngine) -> None:
    gate = gate_of(plain)
    with pytest.raises(OperationalError):
        async with plain.begin() as db:
            await db.execute(text("INSERT INTO missing VALUES (1)"))
    assert gate.holder is None

    async def refused() -> None:
        async with plain.begin() as db:
            await db.execute(text("INSERT INTO log VALUES ('rolled back')"))
            raise RuntimeError("the use case refused")

    with pytest.raises(RuntimeError):
        await refused()
    assert gate.holder is None
    await asyncio.wait_for(_write(plain, "after"), 5)
    assert await _order(plain) == ["after"]


async def test_a_cancelled_writer_does_not_keep_the_gate(plain: AsyncEngine) -> None:
    gate = gate_of(plain)
    hold, inside = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_write(plain, "holder", hold, inside))
    await inside.wait()
    waiter = asyncio.create_task(_write(plain, "cancelled"))
    await _until_waiting(gate, 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    hold.set()
    await holder
    inside = asyncio.Event()
    holder_cancelled = asyncio.create_task(_write(plain, "cancelled while holding", asyncio.Event(), inside))
    await inside.wait()
    holder_cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder_cancelled
    await asyncio.wait_for(_write(plain, "last"), 5)
    assert await _order(plain) == ["holder", "last"]


async def test_reads_never_wait_for_the_gate(plain: AsyncEngine) -> None:
    hold, inside = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_write(plain, "holder", hold, inside))
    await inside.wait()
    assert gate_of(plain).holder is not None
    async with read_engine(plain).connect() as db:
        assert await asyncio.wait_for(db.scalar(text("SELECT count(*) FROM log")), 5) == 0
    hold.set()
    await holder


async def test_a_writer_that_waits_past_the_busy_timeout_gets_database_is_locked(plain: AsyncEngine) -> None:
    gate = gate_of(plain)
    gate.timeout_s, timeout = 0.2, gate.timeout_s
    hold, inside = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_write(plain, "holder", hold, inside))
    try:
        await inside.wait()
        with pytest.raises(OperationalError, match="database is locked"):
            await _write(plain, "too late")
        assert gate.waiting() == 0
    finally:
        gate.timeout_s = timeout
        hold.set()
        await holder
    assert await _order(plain) == ["holder"]


async def test_a_second_process_on_the_same_file_still_waits_in_sqlites_own_handler(tmp_path: Path) -> None:
    """Two engines (what two processes have) each have their own gate; SQLite's lock still keeps them apart."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    one, two = create_engine(url), create_engine(url)
    try:
        async with one.begin() as db:
            await db.execute(text("CREATE TABLE log (who TEXT)"))
        hold, inside = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(_write(one, "one", hold, inside))
        await asyncio.wait_for(inside.wait(), 5)
        second = asyncio.create_task(_write(two, "two"))
        await asyncio.sleep(0.05)
        assert not second.done()  # SQLite's lock, not the gate, holds it
        hold.set()
        await asyncio.gather(first, second)
        assert await _order(one) == ["one", "two"]
    finally:
        await one.dispose()
        await two.dispose()
