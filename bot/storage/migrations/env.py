"""Alembic environment. Migrations run on a connection handed over by ``bot.storage.migrate``; for
``alembic revision --autogenerate`` during development set ``DATABASE_URL`` and run alembic with
``-c bot/storage/migrations/alembic.ini``."""

from __future__ import annotations

import asyncio
import os
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.storage.tables import Base, UtcDateTime

target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations stand alone: our column types are rendered as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_standalone() -> None:
    from bot.storage.db import create_engine

    engine = create_engine(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///tripdesk.db"))

    async def go() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    run_standalone()
