"""What the benchmarks share: the bench's clock and users, its one kind of order, unique codes, and a throw-away
PostgreSQL schema migrated by the real migrations."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from domain.model.orders import Order, OrderItem

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FIRST_USER = 5_000_000  # the bench's tourists are FIRST_USER, FIRST_USER + 1, ...
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}


def unique(new: Callable[[], str], taken: set[str]) -> str:
    """A fresh code from ``new`` that is not in ``taken`` (then it is)."""
    while (code := new()) in taken:
        pass
    taken.add(code)
    return code


def bench_order(code: str, user_id: int, session_id: int, event_id: int, created: datetime, **fields: Any) -> Order:
    """One adult on the seeded cruise, awaiting its organiser (10 minutes to confirm); ``fields`` move it on."""
    return Order(
        code=code,
        user_id=user_id,
        session_id=session_id,
        event_id=event_id,
        currency="EUR",
        items=[OrderItem("adult", 1, 4500)],
        subtotal_minor=4500,
        discount_percent=0,
        total_minor=4500,
        created_at=created,
        hold_until=created + timedelta(minutes=15),
        language="en",
        answers=dict(ANSWERS),
        confirm_by=created + timedelta(minutes=10),
        **fields,
    )


async def scratch_postgres(url: str, **engine_kwargs: Any) -> tuple[AsyncEngine, Callable[[], Awaitable[None]]]:
    """An engine on a new schema of the database at ``url``, migrated; and the cleanup that drops the schema."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"server_settings": {"search_path": schema}}, **engine_kwargs)

    async def cleanup() -> None:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    try:
        await upgrade(engine)
    except BaseException:
        await cleanup()
        raise
    return engine, cleanup
