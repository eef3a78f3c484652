"""The outbox claim against a backlog: what one claim of the sender costs when many rows wait.

Prints figures, asserts nothing.

    .venv/bin/python bench/outbox_claim.py [--rows 1000,5000] [--claims 20] [--postgres URL]

The queue holds ``N`` rows given back for later (attempted once, due in 30 s: chats waiting for their rate limit
or a retry's pause, as in a hot on-sale's waiting room) and ``N`` rows due now, each of its own chat; then
``--claims`` claims of 20 (``OutboxQueue.claim``, the sender's batch) run one after the other and the mean time of
one is printed, without the planner's statistics and with them (``ANALYZE``: PostgreSQL's autovacuum gathers them
in time; nothing does on SQLite, where the bot runs without). Every due row's check that no earlier row of its
chat holds it back is a look-up in the chat's own open rows (``ix_outbox_open_by_chat``) whatever the
statistics; when, without them, the planners read every row due later instead, a claim's cost grew with the
product of the two (2.5 s a claim at 5,000 + 5,000).

SQLite (a migrated file in a temporary directory) always; PostgreSQL with ``--postgres`` (a throw-away schema,
``bench/common.py``'s ``scratch_postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import scratch_postgres
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.outbox import OutboxQueue
from bot.storage.tables import OutboxRow

KIND = "tourist.reminder"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
BATCH = 20


def queued(chat_id: int, key: str, attempts: int, due: datetime) -> dict[str, Any]:
    """An outbox row waiting in the queue, as ``OutboxQueue.claim`` sees it."""
    return {
        "kind": KIND,
        "chat_id": chat_id,
        "payload": {},
        "dedup_key": key,
        "status": "pending",
        "attempts": attempts,
        "due_at": due,
        "created_at": NOW,
    }


async def measure(engine: AsyncEngine, rows: int, claims: int, analysed: bool) -> float:
    """The mean seconds of one claim of ``BATCH`` with ``rows`` rows given back for later and ``rows`` due."""
    sessions = session_factory(engine)
    later = [queued(100_000 + i, f"later-{i}", attempts=1, due=NOW + timedelta(seconds=30)) for i in range(rows)]
    backlog = later + [queued(300_000 + i, f"due-{i}", attempts=0, due=NOW) for i in range(rows)]
    async with sessions() as db, db.begin():
        await db.execute(insert(OutboxRow), backlog)
    if analysed:  # the planner's statistics (PostgreSQL's autovacuum gathers them; nothing does on SQLite)
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE outbox"))
            await conn.commit()
    queue = OutboxQueue(sessions)
    started = time.perf_counter()
    claimed = 0
    for _ in range(claims):
        claimed += len(await queue.claim(NOW, [KIND], BATCH))
    spent = time.perf_counter() - started
    assert claimed == min(claims * BATCH, rows), claimed  # the due rows, none of the later ones
    return spent / claims


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,5000", help="comma-separated backlog sizes (rows later, rows due)")
    parser.add_argument("--claims", type=int, default=20, help="claims of 20 measured per size")
    parser.add_argument("--postgres", help="also on PostgreSQL at this URL")
    args = parser.parse_args()
    for rows in (int(r) for r in args.rows.split(",")):
        for analysed in (False, True):
            stats = "analysed      " if analysed else "no statistics "
            with tempfile.TemporaryDirectory() as workdir:
                engine = create_engine(f"sqlite+aiosqlite:///{workdir}/claim.db")
                await upgrade(engine)
                try:
                    seconds = await measure(engine, rows, args.claims, analysed)
                finally:
                    await engine.dispose()
            print(f"SQLite      {stats} {rows} later + {rows} due: {seconds * 1000:8.1f} ms a claim of {BATCH}")
            if args.postgres:
                engine, cleanup = await scratch_postgres(args.postgres)
                try:
                    seconds = await measure(engine, rows, args.claims, analysed)
                finally:
                    await cleanup()
                print(f"PostgreSQL  {stats} {rows} later + {rows} due: {seconds * 1000:8.1f} ms a claim of {BATCH}")


if __name__ == "__main__":
    asyncio.run(main())
