"""How units of work meet on one database: on SQLite this process's write transactions take turns on an asyncio lock
(bot/storage/reads.py, ``writers_turn``) instead of SQLite's sleeping busy handler; read blocks wait for nobody."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.storage.uow import SqlUnitOfWork
from tests.seed import seed_catalog

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


async def test_write_blocks_take_turns_on_sqlite_and_run_side_by_side_on_postgres(engine, sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    events: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with SqlUnitOfWork(sessions) as uow:
            events.append("first in")
            first_in.set()
            await release.wait()
            assert await uow.seats.reserve(seeded.session_id, 1)
            await uow.commit()
        events.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with SqlUnitOfWork(sessions) as uow:
            events.append("second in")
            assert await uow.seats.reserve(seeded.small_session_id, 1)
            await uow.commit()

    async def reader() -> None:
        await first_in.wait()
        async with SqlUnitOfWork(sessions).read() as uow:  # a screen's read does not queue behind a writer
            assert await uow.catalog.session(seeded.session_id) is not None
        events.append("read")

    tasks = [asyncio.create_task(c()) for c in (first, second, reader)]
    await asyncio.sleep(0.2)
    release.set()
    await asyncio.gather(*tasks)
    assert events.index("read") < events.index("first out")
    if engine.dialect.name == "sqlite":
        assert events.index("second in") > events.index("first out")
    else:  # PostgreSQL's row locks: the second booking (another session's row) did not wait
        assert events.index("second in") < events.index("first out")
