"""Shared fixtures: databases created through the real migrations.

SQLite always runs. PostgreSQL runs when ``TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each test gets a fresh
schema of its own, so runs never see each other's rows. Without the URL those tests skip with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

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


async def _sqlite_engine(tmp_path) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    engine = create_engine(url)
    _TWINS[id(engine)] = (url, {})
    await upgrade(engine)
    return engine


async def _postgres_engine() -> tuple[AsyncEngine, str]:
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL not configured: set TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    kwargs = {"connect_args": {"server_settings": {"search_path": schema}}}
    engine = create_engine(POSTGRES_URL, **kwargs)
    _TWINS[id(engine)] = (POSTGRES_URL, kwargs)
    await upgrade(engine)
    return engine, schema


async def drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = await _sqlite_engine(tmp_path)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg_engine() -> AsyncIterator[AsyncEngine]:
    engine, schema = await _postgres_engine()
    yield engine
    await engine.dispose()
    await drop_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request, tmp_path) -> AsyncIterator[AsyncEngine]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = await _sqlite_engine(tmp_path)
        yield engine
        await engine.dispose()
    else:
        engine, schema = await _postgres_engine()
        yield engine
        await engine.dispose()
        await drop_schema(schema)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
def uow_factory(sessions: async_sessionmaker):
    """A fresh unit of work per call, like one per update in the bot."""
    return lambda: SqlUnitOfWork(sessions)
