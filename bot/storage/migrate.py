"""Alembic, driven from code: ``tripdesk migrate`` and ``tripdesk run`` call :func:`upgrade`.

Alembic is imported only when there is something to migrate: with Mako and Pygments behind it, importing it costs
the running bot ~8 MiB of resident memory for the rest of its life (bench/memory.py), to learn at every start that
the schema is already at the head. So :func:`upgrade` first reads the one row of ``alembic_version`` and compares it
with the head written in the migration files (their ``revision`` / ``down_revision`` lines); anything it cannot
read plainly (a file without both lines, several heads, no version table) goes to Alembic as before.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:: [^=]+)? = (?:None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The one head of the migration files, read as text; None when they cannot be read plainly (then Alembic
    decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


MIGRATION_LOCK = 0x7464_6D67  # "tdmg": replicas starting together migrate one after the other (PostgreSQL)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` on the engine's database (the only way the schema is created). On
    PostgreSQL under an advisory lock: of replicas started together, one migrates and the others find the head."""
    if engine.dialect.name != "postgresql":
        await _upgrade(engine, revision)
        return
    async with engine.connect() as lock:
        await lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        await lock.commit()
        try:
            await _upgrade(engine, revision)
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            await lock.commit()


async def _upgrade(engine: AsyncEngine, revision: str) -> None:
    if revision == "head" and (head := head_revision()) is not None and await _stamped(engine) == [head]:
        return  # at the head already: no need to import Alembic

    def run(connection: Connection) -> None:
        from alembic import command

        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _stamped(engine: AsyncEngine) -> list[str] | None:
    """The revisions in ``alembic_version`` (None when the table is not there: a new database)."""
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    except DBAPIError:
        return None


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
