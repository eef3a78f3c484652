"""``tripdesk`` (also ``python -m bot``): run, demo, migrate, import, demo-data, locales."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("tripdesk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripdesk", description="Tripdesk: excursions and events in Telegram")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="apply migrations, then run the bot (long polling); needs BOT_TOKEN")
    demo_cmd = commands.add_parser(
        "demo", help="the local sandbox: a Telegram emulator, demo data, the bot and a web page to play every role"
    )
    demo_cmd.add_argument("--host", default="127.0.0.1")
    demo_cmd.add_argument("--port", type=int, default=8700)
    demo_cmd.add_argument("--scale", type=int, default=1, help="size of the demo catalog (default 1)")
    demo_cmd.add_argument("--workdir", type=Path, default=None, help="keep the database and logs here")
    demo_cmd.add_argument("--keep", action="store_true", help="keep the temporary folder at the end")
    demo_cmd.add_argument("--open", action="store_true", help="open the page in a browser")
    commands.add_parser("migrate", help="bring the database schema up to date")
    imp = commands.add_parser("import", help="import (upsert) a catalog file")
    imp.add_argument("file", type=Path)
    demo = commands.add_parser("demo-data", help="write a realistic demo catalog")
    demo.add_argument("--scale", type=int, default=1, help="multiply hotels, organisers and events (default 1)")
    demo.add_argument("--output", type=Path, required=True, help="the YAML file to write")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--start", type=date.fromisoformat, default=None, help="first day of sessions (default today)")
    commands.add_parser("locales", help="update locales/*/messages.po from the code (developers)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"tripdesk: configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = max(logging.WARNING, logging.getLevelName(settings.log_level))
    for chatty in ("alembic", "apscheduler"):  # a line per migration step, two per job run
        logging.getLogger(chatty).setLevel(quiet)
    try:
        return asyncio.run(_dispatch(args, settings)) or 0
    except ConfigError as error:
        print(f"tripdesk: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "run":
            from bot.runner import run_polling

            await run_polling(settings)
        case "demo":
            from bot.sandbox.demo import run_demo

            await run_demo(
                settings, host=args.host, port=args.port, scale=args.scale, workdir=args.workdir,
                open_browser=args.open, keep=args.keep,
            )
        case "migrate":
            await _migrate(settings)
            print("database is up to date")
        case "import":
            return await _import(settings, args.file)
        case "demo-data":
            from bot.catalog.demo import write_demo_catalog

            counts = write_demo_catalog(args.output, scale=args.scale, seed=args.seed, start=args.start)
            print(f"wrote {args.output}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        case "locales":
            from bot.locales_sync import sync

            missing = sync()
            for language, count in sorted(missing.items()):
                print(f"{language}: {count} messages need a translation")
            return 1 if missing else 0
    return 0


async def _migrate(settings: Settings) -> None:
    from bot.storage.db import create_engine
    from bot.storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _import(settings: Settings, path: Path) -> int:
    from bot.catalog.importer import CatalogError, import_catalog
    from bot.storage.db import create_engine, session_factory

    await _migrate(settings)
    engine = create_engine(settings.database_url)
    try:
        report = await import_catalog(session_factory(engine), path)
    except CatalogError as error:
        print(f"tripdesk: {path}: {error}; nothing was imported", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
