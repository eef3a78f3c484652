"""Shared fixtures: databases created through the real migrations.

SQLite always runs. PostgreSQL runs when ``TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each test gets a fresh
schema of its own, so runs never see each other's rows. Without the URL those tests skip with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from tests.fakes import FixedClock

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


_TWINS: dict[int, tuple[str, dict]] = {}  # id(engine) -> how to open another engine on the same database


def engine_twin(engine: AsyncEngine) -> AsyncEngine:
    """A second engine (own pool) on the same database and schema: what another process would have."""
    url, kwargs = _TWINS[id(engine)]
    return create_engine(url, **kwargs)


@asynccontextmanager
async def migrated_engine(backend: str, tmp_path: Path, **engine_kwargs: Any) -> AsyncIterator[AsyncEngine]:
    """An engine on a new, migrated database: a SQLite file in ``tmp_path``, or (``backend="postgres"``) a schema of
    its own on TEST_POSTGRES_URL (the test skips without it); disposed, and the schema dropped, afterwards."""
    if backend == "sqlite":
        url, kwargs, schema = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", dict(engine_kwargs), None
    else:
        if not POSTGRES_URL:
            pytest.skip(
                "PostgreSQL not configured: set TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
            )
        url, schema = POSTGRES_URL, f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        kwargs = {"connect_args": {"server_settings": {"search_path": schema}}, **engine_kwargs}
    engine = create_engine(url, **kwargs)
    _TWINS[id(engine)] = (url, kwargs)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        if schema is not None:
            await drop_schema(schema)


async def drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("sqlite", tmp_path) as engine:
        yield engine


@pytest.fixture
async def pg_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgres", tmp_path) as engine:
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The same test on SQLite and on PostgreSQL."""
    async with migrated_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
def uow_factory(sessions: async_sessionmaker):
    """A fresh unit of work per call, like one per update in the bot."""
    return lambda: SqlUnitOfWork(sessions)
