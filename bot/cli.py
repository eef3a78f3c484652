"""``tripdesk`` (also ``python -m bot``): run, demo, migrate, import, demo-data, catalog-schema, export, locales."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

log = logging.getLogger("tripdesk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripdesk", description="Tripdesk: excursions and events in Telegram")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="apply migrations, then run the bot (long polling, or a webhook with WEBHOOK_URL); needs BOT_TOKEN"
    )
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
    commands.add_parser("catalog-schema", help="print the JSON Schema of the catalog file (for editors)")
    commands.add_parser("locales", help="update locales/*/messages.po from the code (developers)")
    export = commands.add_parser("export", help="export orders created in a date range (csv or xlsx)")
    export.add_argument("what", choices=["orders"])
    export.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD", help="first day (UTC)")
    export.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="last day (UTC), inclusive")
    export.add_argument("--format", dest="fmt", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--output", type=Path, default=None, help="the file to write (csv: stdout without it)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"tripdesk: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)  # LOG_FORMAT: readable text, or JSON lines
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
            from bot.telegram_retry import TelegramUnusable

            try:
                await run_polling(settings)
            except TelegramUnusable as error:
                print(f"tripdesk: {error}", file=sys.stderr)
                return 1
        case "demo":
            from bot.demo import run_demo

            await run_demo(
                settings,
                host=args.host,
                port=args.port,
                scale=args.scale,
                workdir=args.workdir,
                open_browser=args.open,
                keep=args.keep,
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
        case "catalog-schema":
            import json

            from bot.catalog.schema import catalog_json_schema

            print(json.dumps(catalog_json_schema(), indent=2, ensure_ascii=False))
        case "export":
            return await _export(settings, args)
        case "locales":
            from bot.locales_sync import sync

            missing = sync()
            for language, count in sorted(missing.items()):
                print(f"{language}: {count} messages need a translator (new, or fuzzy: their English changed)")
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
    from bot.catalog.load import CatalogError
    from bot.catalog.store import import_catalog
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


def _export_args(args: argparse.Namespace) -> tuple[date, date] | str:
    """The date range, or one line naming the option that is wrong."""
    days = []
    for option, value in (("--from", args.first), ("--to", args.last)):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            return f"{option}: not a date (YYYY-MM-DD): {value!r}"
    if days[0] > days[1]:
        return f"--to: {args.last} is before --from {args.first}"
    if args.fmt == "xlsx" and args.output is None:
        return "--output: an xlsx workbook needs a file to write"
    return days[0], days[1]


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.export import export_orders
    from bot.storage.db import create_engine, session_factory

    checked = _export_args(args)
    if isinstance(checked, str):
        print(f"tripdesk export: {checked}", file=sys.stderr)
        return 2
    first, last = checked
    engine = create_engine(settings.database_url)
    try:
        if args.output is None:
            count = await export_orders(session_factory(engine), first, last, args.fmt, sys.stdout)
        else:
            with args.output.open(
                "w" if args.fmt == "csv" else "wb",
                **({"newline": "", "encoding": "utf-8"} if args.fmt == "csv" else {}),
            ) as out:
                count = await export_orders(session_factory(engine), first, last, args.fmt, out)
    finally:
        await engine.dispose()
    print(f"exported {count} orders ({first} to {last})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
