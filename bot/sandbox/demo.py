"""``tripdesk demo``: the emulator, a fresh SQLite database filled with demo data, the bot as its own process, and the
web page where one person plays every role. Ctrl-C (or SIGTERM) stops everything and removes the temporary files.

    tripdesk demo [--host 127.0.0.1] [--port 8700] [--scale 1] [--keep]

The bot is started exactly as in production (``python -m bot run``); only its environment points it at the
emulator (``TELEGRAM_API_URL``) and at the demo database.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import signal
import sys
import tempfile
import webbrowser
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

import bot
from bot.config import Settings
from bot.sandbox.web import Cast, Pane, add_web_routes

DEMO_TOKEN = "123456789:sandbox-token-0000000000000000000"
# Any non-empty provider token switches payments on; the emulator plays the payment provider.
DEMO_PAYMENT_TOKEN = "sandbox:TEST:tripdesk-demo"
DB_NAME = "demo.db"
CATALOG_NAME = "demo-catalog.yaml"
LOG_NAME = "bot.log"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
LOG_TAIL_LINES = 25
UPCOMING = timedelta(days=7)

PROJECT_ROOT = Path(bot.__file__).resolve().parent.parent
# Settings the bot reads from the environment: the demo sets its own and keeps none of the caller's.
_SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}


class DemoError(Exception):
    """Something that stops the demo, with the exit code to leave with; the message is one line for the user."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class DemoOrganiser:
    name: str
    chat_id: int
    language: str
    event_title: str
    upcoming_sessions: int


@dataclass(frozen=True, slots=True)
class DemoPeople:
    tourists: tuple[int, int]
    organiser: int
    operators: tuple[int, int]
    group: int


async def run_demo(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8700,
    scale: int = 1,
    workdir: Path | None = None,
    open_browser: bool = False,
    keep: bool = False,
) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM, then stop everything cleanly.

    A failure (port in use, the bot process dying) prints one clear line (and the bot's last log lines) and leaves
    through ``SystemExit`` with a non-zero code: 2 for a port in use, 1 otherwise. A temporary work folder is
    removed at the end unless ``keep`` is set or the bot failed (its log is worth reading then); a ``workdir``
    given by the caller is never removed.
    """
    try:
        await _run(settings, host, port, scale, workdir, open_browser, keep)
    except DemoError as error:
        print(f"tripdesk demo: {error}", file=sys.stderr, flush=True)
        raise SystemExit(error.exit_code) from None


async def _run(
    settings: Settings, host: str, port: int, scale: int, workdir: Path | None, open_browser: bool, keep: bool
) -> None:
    from bot.sandbox.server import Emulator

    emulator = Emulator()
    cast = add_web_routes(emulator.app)
    try:
        await emulator.start(host=host, port=port)
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise DemoError(f"port {port} on {host} is already in use; choose another with --port", 2) from None
        raise DemoError(f"cannot listen on {host}:{port}: {error.strerror or error}", 2) from None

    own_workdir = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="tripdesk-demo-")) if own_workdir else workdir
    folder.mkdir(parents=True, exist_ok=True)
    process: asyncio.subprocess.Process | None = None
    failed = False
    stop = asyncio.Event()
    restore = _on_signals(stop)
    try:
        print(f"tripdesk demo: preparing the demo catalog (scale {scale}) in {folder} ...", flush=True)
        organiser = await prepare_database(folder, scale)
        people = create_people(emulator.world, organiser)
        cast.panes = cast_for(people, organiser, emulator.world)
        log_path = folder / LOG_NAME
        process = await start_bot(settings, emulator.base_url, folder / DB_NAME, people, log_path)
        print(f"tripdesk demo: the bot runs as process {process.pid}; its log is {log_path}", flush=True)
        await _wait_until_polling(emulator.world, process, log_path)

        url = f"http://{_display_host(host)}:{emulator.port if hasattr(emulator, 'port') else port}/"
        print(f"Tripdesk sandbox: open {url} (Ctrl-C to stop)", flush=True)
        if open_browser:
            asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)

        exited = asyncio.ensure_future(process.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not stop.is_set():
            failed = True
            raise DemoError(_died(process.returncode, log_path))
        exited.cancel()
        print("tripdesk demo: stopping ...", flush=True)
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise  # stopped from outside: clean up as for Ctrl-C
    except BaseException:
        failed = True
        raise
    finally:
        restore()
        if process is not None:
            await stop_process(process)
        with contextlib.suppress(Exception):
            await emulator.stop()
        if own_workdir and not keep and not failed:
            shutil.rmtree(folder, ignore_errors=True)
        elif own_workdir:
            print(f"tripdesk demo: kept {folder}", file=sys.stderr if failed else sys.stdout, flush=True)
    print("tripdesk demo: stopped", flush=True)


# ---- the database -------------------------------------------------------------------------------------------------


async def prepare_database(folder: Path, scale: int) -> DemoOrganiser:
    """A fresh ``demo.db`` in ``folder``: migrated, filled with the demo catalog; returns the demo's organiser."""
    from bot.catalog.demo import write_demo_catalog
    from bot.catalog.importer import CatalogError, import_catalog
    from bot.storage.db import create_engine, session_factory
    from bot.storage.migrate import upgrade

    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"):
        (folder / name).unlink(missing_ok=True)
    catalog = folder / CATALOG_NAME
    write_demo_catalog(catalog, scale=scale)
    engine = create_engine(f"sqlite+aiosqlite:///{folder / DB_NAME}")
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        try:
            await import_catalog(sessions, catalog)
        except CatalogError as error:
            raise DemoError(f"the demo catalog did not import: {error}") from None
        return await pick_organiser(sessions, datetime.now(UTC))
    finally:
        await engine.dispose()


async def pick_organiser(sessions: async_sessionmaker, now: datetime) -> DemoOrganiser:
    """The organiser of the event with the most bookable sessions in the next days, in the first region.

    Events the organiser must confirm come first, so a booking in the sandbox reaches the organiser's pane.
    """
    from bot.storage.tables import EventRow, OrganiserRow, RegionRow, SessionRow

    upcoming = func.count(SessionRow.id)
    async with sessions() as db:
        region_id = await db.scalar(select(func.min(RegionRow.id)))
        query = (
            select(EventRow, OrganiserRow, upcoming)
            .join(OrganiserRow, OrganiserRow.id == EventRow.organiser_id)
            .join(SessionRow, SessionRow.event_id == EventRow.id)
            .where(
                EventRow.region_id == region_id,
                SessionRow.status == "scheduled",
                SessionRow.seats_left > 0,
                SessionRow.starts_at > now,
                SessionRow.starts_at <= now + UPCOMING,
            )
            .group_by(EventRow.id, OrganiserRow.id)
            .order_by((EventRow.confirmation == "required").desc(), upcoming.desc(), EventRow.id)
            .limit(1)
        )
        row = (await db.execute(query)).first()
    if row is None:
        raise DemoError("the demo catalog has no upcoming sessions in its first region")
    event, organiser, count = row
    title = event.title.get("en") or next(iter(event.title.values()), event.code)
    return DemoOrganiser(organiser.name, organiser.chat_id, organiser.language, title, count)


# ---- the people in the world ----------------------------------------------------------------------------------------


def create_people(world: object, organiser: DemoOrganiser) -> DemoPeople:
    """Two tourists in two languages, the organiser (whose user id is the organiser's chat id) and the operators'
    group with two operators and the bot."""
    anna = world.add_user(first_name="Anna", language_code="en", username="anna_travels")
    dmitri = world.add_user(first_name="Dmitri", language_code="ru", username="dmitri_p")
    boss = world.add_user(
        first_name=organiser.name, language_code=organiser.language, username=None, user_id=organiser.chat_id
    )
    olga = world.add_user(first_name="Olga", language_code="en", username="olga_ops")
    mark = world.add_user(first_name="Mark", language_code="en", username="mark_ops")
    group = world.add_group(title="Tripdesk operators", members=[olga.id, mark.id], forum=False, supergroup=True)
    return DemoPeople(tourists=(anna.id, dmitri.id), organiser=boss.id, operators=(olga.id, mark.id), group=group.id)


def cast_for(people: DemoPeople, organiser: DemoOrganiser, world: object | None = None) -> list[Pane]:
    """The four panes of the page, in order."""
    first, second = people.tourists
    return [
        Pane("tourist1", "tourist", "Tourist 1", first, (first,), hint="Type /start to begin."),
        Pane("tourist2", "tourist", "Tourist 2", second, (second,), hint="Type /start to begin."),
        Pane(
            "organiser",
            "organiser",
            "Organiser",
            people.organiser,
            (people.organiser,),
            note=f"runs {organiser.event_title}",
            hint=f"Booking requests for {organiser.event_title} arrive here. Reply to one to confirm or decline it.",
        ),
        Pane(
            "operators",
            "operators",
            "Operator group",
            people.group,
            people.operators,
            name="Tripdesk operators",
            hint="Orders that need attention and tourists' questions arrive here.",
        ),
    ]


# ---- the bot process ----------------------------------------------------------------------------------------------


def bot_environment(settings: Settings, api_url: str, database: Path, people: DemoPeople) -> dict[str, str]:
    """The caller's environment without any Tripdesk setting, plus the demo's."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in _SETTINGS_VARIABLES}
    env.update(
        BOT_TOKEN=DEMO_TOKEN,
        TELEGRAM_API_URL=api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        OPERATOR_CHAT_ID=str(people.group),
        ADMIN_IDS=",".join(str(uid) for uid in people.operators),
        DEFAULT_LOCALE=settings.default_locale,
        LOG_LEVEL=settings.log_level,
        PAYMENT_PROVIDER_TOKEN=DEMO_PAYMENT_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *([path] if path else [])])
    return env


async def start_bot(
    settings: Settings, api_url: str, database: Path, people: DemoPeople, log_path: Path
) -> asyncio.subprocess.Process:
    """``python -m bot run`` in its own process group (Ctrl-C in the terminal reaches only us; we stop it)."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child writes to it; our copy closes below
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=bot_environment(settings, api_url, database, people),
            cwd=database.parent,  # no stray .env from the caller's folder
            start_new_session=True,
        )
    finally:
        log.close()


async def stop_process(process: asyncio.subprocess.Process, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, up to ``timeout`` seconds for a clean exit, then SIGKILL."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _wait_until_polling(world: object, process: asyncio.subprocess.Process, log_path: Path) -> None:
    """Until the bot asks for updates (it has migrated and started); fails if it exits or takes too long."""

    def polling() -> bool:
        return any(_method(call) == "getUpdates" for call in world.calls)

    ready = asyncio.ensure_future(world.wait_for(polling, timeout=READY_TIMEOUT_S))
    exited = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (ready, exited):
            task.cancel()
    if process.returncode is not None:
        raise DemoError(_died(process.returncode, log_path))
    if ready.cancelled() or ready.exception() is not None:
        raise DemoError(f"the bot did not start polling within {READY_TIMEOUT_S:.0f} s; see {log_path}")


def _method(call: object) -> str | None:
    return call.get("method") if isinstance(call, dict) else getattr(call, "method", None)


def _died(code: int | None, log_path: Path) -> str:
    tail = _tail(log_path, LOG_TAIL_LINES)
    lines = [f"the bot process stopped unexpectedly (exit code {code}); the end of {log_path}:"]
    lines += [f"  | {line}" for line in tail] or ["  | (the log is empty)"]
    return "\n".join(lines)


def _tail(path: Path, count: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return [line.rstrip("\n") for line in deque(file, maxlen=count)]
    except OSError:
        return []


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)


def _on_signals(stop: asyncio.Event):  # noqa: ANN202
    """Ctrl-C and SIGTERM set ``stop`` instead of raising; returns the function that restores the handlers."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            pass

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore
