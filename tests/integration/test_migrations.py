"""The schema is created only by the migrations, and they produce exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.storage.migrate import current_revision, upgrade
from bot.storage.tables import Base


async def test_migrations_match_the_models(engine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []


async def test_upgrade_is_idempotent(engine) -> None:
    before = await current_revision(engine)
    await upgrade(engine)
    assert await current_revision(engine) == before is not None


def test_the_head_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_an_unreadable_migration_file_leaves_the_head_to_alembic(tmp_path) -> None:
    from bot.storage.migrate import head_revision

    (tmp_path / "0001_a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision = "0002"\ndown_revision = "0001"\n')
    assert head_revision(tmp_path) == "0002"
    (tmp_path / "0003_c.py").write_text('revision = "0003"\ndown_revision = ("0001", "0002")\n')  # a merge
    assert head_revision(tmp_path) is None


async def test_upgrade_at_the_head_does_not_run_alembic(engine, monkeypatch) -> None:
    from alembic import command

    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda config, revision: calls.append(revision))
    await upgrade(engine)  # at the head already (the fixture migrated it)
    assert calls == []
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    await upgrade(engine)  # behind: Alembic brings it up
    assert calls == ["head"]


def test_the_running_bot_does_not_import_what_it_rarely_needs() -> None:
    """Each stays in the process's memory for life once imported (bench/memory.py): Alembic until there is
    something to migrate, phonenumbers until someone shares a phone, segno until a ticket is sent."""
    import subprocess
    import sys
    from pathlib import Path

    rare = "{'alembic', 'mako', 'pygments', 'phonenumbers', 'segno'}"
    probe = f"import sys, bot.runner; print(sorted({rare} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
