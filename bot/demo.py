"""``tripdesk demo``: the emulator, a fresh SQLite database filled with demo data, the bot as its own process, and the
web page where one person plays every role. Ctrl-C (or SIGTERM) stops everything within about a second and removes
the temporary files (a second Ctrl-C only hurries the bot along; the clean-up still happens).

    tripdesk demo [--host 127.0.0.1] [--port 8700] [--scale 1] [--keep]

The bot is started exactly as in production (``python -m bot run``); only its environment points it at the
emulator (``TELEGRAM_API_URL``) and at the demo database. In the demo database one person plays every organiser:
all of them share the organiser pane's chat (and its language) and answer within two minutes, so a booking of any
event reaches that pane.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot
from bot.config import Settings
from bot.demo_process import Signals, Stopped, died_line, on_signals, stop_process, stopping, unless_stopped
from sandbox.server import Emulator
from sandbox.web import Pane, add_web_routes
from sandbox.world import World

DEMO_TOKEN = "123456789:sandbox-token-0000000000000000000"
# Any non-empty provider token switches payments on; the emulator plays the payment provider.
DEMO_PAYMENT_TOKEN = "sandbox:TEST:tripdesk-demo"
DB_NAME = "demo.db"
CATALOG_NAME = "demo-catalog.yaml"
LOG_NAME = "bot.log"
READY_TIMEOUT_S = 60.0
UPCOMING = timedelta(days=7)
DEMO_CONFIRM_WITHIN = timedelta(minutes=2)  # the demo organisers' answer time (the desk's card comes after it)
DEMO_ORGANISER_LANGUAGE = "en"  # the one person playing every organiser reads their requests in English
DEMO_ORGANISER_NAME = "Organiser"
DEMO_QUESTION_ANSWER_WITHIN = "3m"  # an unanswered question becomes a problem card this soon in the demo
OPERATOR_GROUP_TITLE = "Tripdesk operators"

PROJECT_ROOT = Path(bot.__file__).resolve().parent.parent
# Settings the bot reads from the environment: the demo sets its own and keeps none of the caller's.
_SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}


class DemoError(Exception):
    """Something that stops the demo, with the exit code to leave with; the message is one line for the user."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BotDied(DemoError):
    """The bot process ended on its own."""


@dataclass(frozen=True, slots=True)
class DemoOrganiser:
    name: str
    chat_id: int
    language: str
    event_title: str
    upcoming_sessions: int
    event_code: str = ""  # for the deep link /start ev-<code>


@dataclass(frozen=True, slots=True)
class DemoPeople:
    tourists: tuple[int, int]
    organiser: int
    operators: tuple[int, int]
    group: int
    organisers: int = 1  # how many of the catalog's organisers the organiser pane plays


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
    except DemoError as error:  # already told (before the clean-up's own lines)
        raise SystemExit(error.exit_code) from None


async def _run(
    settings: Settings, host: str, port: int, scale: int, workdir: Path | None, open_browser: bool, keep: bool
) -> None:
    emulator = Emulator()
    cast = add_web_routes(emulator.app)
    try:
        await emulator.start(host=host, port=port)
    except OSError as error:
        await emulator.stop()
        if error.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise _told(DemoError(f"port {port} on {host} is already in use; choose another with --port", 2)) from None
        raise _told(DemoError(f"cannot listen on {host}:{port}: {error.strerror or error}", 2)) from None

    own_workdir = workdir is None
    folder = workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="tripdesk-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / LOG_NAME
    api_url = page_url(emulator.base_url, host).rstrip("/")  # a wildcard host is reached via the loopback
    process: asyncio.subprocess.Process | None = None
    failed = False
    signals = Signals()
    stop = signals.stop
    restore = on_signals(signals)
    try:
        kept = "kept at the end" if keep or not own_workdir else "removed at the end unless you pass --keep"
        print(f"tripdesk demo: working in {folder}; the bot's log is {log_path} ({kept})", flush=True)
        print(f"tripdesk demo: preparing the demo catalog (scale {scale}) ...", flush=True)
        operators, group = create_operators(emulator.world)
        database = folder / DB_NAME
        await unless_stopped(fresh_database(database), stop)
        # The bot starts while the catalog imports (its own migration check waits for the import's transaction).
        process = await start_bot(settings, api_url, database, operators, group, log_path)
        print(f"tripdesk demo: the bot runs as process {process.pid}", flush=True)
        organiser, count = await unless_stopped(import_demo_catalog(database, folder / CATALOG_NAME, scale), stop)
        people = create_guests(emulator.world, organiser, operators, group, organisers=count)
        cast.panes = cast_for(people, organiser)
        await unless_stopped(_wait_until_polling(emulator.world, process, log_path), stop)

        print(f"Tripdesk sandbox: open {api_url}/ (Ctrl-C to stop)", flush=True)
        print(
            "tripdesk demo: a booking the organiser leaves unanswered for 2 minutes becomes a problem card in the"
            " operator group; type /help there",
            flush=True,
        )
        if open_browser:
            asyncio.get_running_loop().run_in_executor(None, webbrowser.open, f"{api_url}/")
        with contextlib.suppress(Stopped):
            await unless_stopped(process.wait(), stop)
            raise BotDied(died_line(process.returncode, log_path))
        print("tripdesk demo: stopping ...", flush=True)
    except Stopped:
        print("tripdesk demo: stopping ...", flush=True)
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise  # stopped from outside: clean up as for Ctrl-C
    except BotDied as error:
        if not await stopping(stop):
            failed = True
            raise _told(error) from None
        print("tripdesk demo: stopping ...", flush=True)  # Ctrl-C in the terminal reached the bot first
    except DemoError as error:
        failed = True
        raise _told(error) from None
    except BaseException:
        failed = True
        raise
    finally:
        # The signal handlers stay until the end: a second Ctrl-C hurries the bot along instead of interrupting
        # the clean-up (which would leave the temporary folder behind).
        try:
            if process is not None:
                await stop_process(process, hurry=signals.hurry)
            with contextlib.suppress(Exception):
                await emulator.stop()
        finally:
            if own_workdir and not keep and not failed:
                shutil.rmtree(folder, ignore_errors=True)
            elif own_workdir:
                where = sys.stderr if failed else sys.stdout
                print(f"tripdesk demo: kept {folder} (the bot's log: {log_path})", file=where, flush=True)
            restore()
    print("tripdesk demo: stopped", flush=True)


def _told(error: DemoError) -> DemoError:
    print(f"tripdesk demo: {error}", file=sys.stderr, flush=True)
    return error


# ---- the database -------------------------------------------------------------------------------------------------


async def fresh_database(database: Path) -> None:
    """An empty SQLite file at ``database`` with the current schema (any earlier demo database is removed)."""
    from bot.storage.db import create_engine
    from bot.storage.migrate import upgrade

    for name in (database.name, f"{database.name}-wal", f"{database.name}-shm", f"{database.name}-journal"):
        (database.parent / name).unlink(missing_ok=True)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def import_demo_catalog(database: Path, catalog: Path, scale: int) -> tuple[DemoOrganiser, int]:
    """Write the demo catalog to ``catalog``, import it into ``database`` and seat every organiser in the organiser
    pane's chat; returns the organiser whose event the page suggests, and how many organisers the pane plays."""
    from bot.catalog.demo import write_demo_catalog
    from bot.catalog.load import CatalogError
    from bot.catalog.store import import_catalog
    from bot.storage.db import create_engine, session_factory

    write_demo_catalog(catalog, scale=scale)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        sessions = session_factory(engine)
        try:
            await import_catalog(sessions, catalog)
        except CatalogError as error:
            raise DemoError(f"the demo catalog did not import: {error}") from None
        organiser = await pick_organiser(sessions, datetime.now(UTC))
        count = await seat_every_organiser(sessions, organiser.chat_id)
        return organiser, count
    finally:
        await engine.dispose()


async def seat_every_organiser(
    sessions: async_sessionmaker[AsyncSession], chat_id: int, language: str = DEMO_ORGANISER_LANGUAGE
) -> int:
    """One person plays every organiser of the demo: each organiser's chat becomes ``chat_id`` (the organiser
    pane's), in one ``language``, answering within two minutes (not ten: a booking left unanswered shows the
    operator desk's problem card soon enough to try it). Booking any event then reaches the pane; without this
    only one organiser had a chat and every other booking request ended in "chat not found".

    Returns how many organisers the pane plays."""
    from bot.storage.tables import OrganiserRow

    async with sessions() as db, db.begin():
        await db.execute(
            update(OrganiserRow).values(
                chat_id=chat_id, language=language, confirm_within_s=int(DEMO_CONFIRM_WITHIN.total_seconds())
            )
        )
        return int(await db.scalar(select(func.count(OrganiserRow.id))) or 0)


async def pick_organiser(sessions: async_sessionmaker[AsyncSession], now: datetime) -> DemoOrganiser:
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
    title = title.removesuffix(f" · {organiser.name}")  # demo titles may end with the organiser's name
    return DemoOrganiser(organiser.name, organiser.chat_id, organiser.language, title, count, event.code)


# ---- the people in the world ----------------------------------------------------------------------------------------


def create_operators(world: World) -> tuple[tuple[int, int], int]:
    """Two operators and their group with the bot in it (the bot's settings need their ids before it starts)."""
    olga = world.add_user(first_name="Olga", language_code="en", username="olga_ops")
    mark = world.add_user(first_name="Mark", language_code="en", username="mark_ops")
    group = world.add_group(title=OPERATOR_GROUP_TITLE, members=[olga.id, mark.id], forum=False, supergroup=True)
    return (olga.id, mark.id), group.id


def create_guests(
    world: World, organiser: DemoOrganiser, operators: tuple[int, int], group: int, organisers: int = 1
) -> DemoPeople:
    """Two tourists in two languages and the person playing the organisers, whose user id is the organisers' chat id
    (so booking requests arrive in that private chat; see :func:`seat_every_organiser`)."""
    anna = world.add_user(first_name="Anna", language_code="en", username="anna_travels")
    dmitri = world.add_user(first_name="Dmitri", language_code="ru", username="dmitri_p")
    boss = world.add_user(
        first_name=DEMO_ORGANISER_NAME,
        language_code=DEMO_ORGANISER_LANGUAGE,
        username=None,
        user_id=organiser.chat_id,
    )
    return DemoPeople(
        tourists=(anna.id, dmitri.id), organiser=boss.id, operators=operators, group=group, organisers=organisers
    )


def cast_for(people: DemoPeople, organiser: DemoOrganiser) -> list[Pane]:
    """The four panes of the page, in order."""
    first, second = people.tourists
    suggest = ("/start", f"/start ev-{organiser.event_code}") if organiser.event_code else ("/start",)
    hint = "Type /start to begin."
    if organiser.event_code:
        hint = f"Start here, or open {organiser.event_title} straight away; any event can be booked:"
    plays = f"all {people.organisers} organisers" if people.organisers > 1 else "the organiser"
    return [
        Pane("tourist1", "tourist", "Tourist 1", first, (first,), hint=hint, suggest=suggest),
        Pane("tourist2", "tourist", "Tourist 2", second, (second,), hint=hint, suggest=suggest),
        Pane(
            "organiser",
            "organiser",
            "Organiser",
            people.organiser,
            (people.organiser,),
            note=f"plays {plays}",
            hint="Booking requests for every event that needs confirming arrive here: one person plays every "
            "organiser. Press Confirm or Decline, or reply + to confirm, − and a reason to decline.",
        ),
        Pane(
            "operators",
            "operators",
            "Operator group",
            people.group,
            people.operators,
            name=OPERATOR_GROUP_TITLE,
            hint="Orders that need attention and tourists' questions arrive here.",
        ),
    ]


# ---- the bot process ----------------------------------------------------------------------------------------------


def bot_environment(
    settings: Settings, api_url: str, database: Path, operators: tuple[int, ...], group: int
) -> dict[str, str]:
    """The caller's environment without any Tripdesk setting, plus the demo's."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in _SETTINGS_VARIABLES}
    env.update(
        BOT_TOKEN=DEMO_TOKEN,
        TELEGRAM_API_URL=api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        OPERATOR_CHAT_ID=str(group),
        ADMIN_IDS=",".join(str(uid) for uid in operators),
        DEFAULT_LOCALE=settings.default_locale,
        LOG_LEVEL=settings.log_level,
        PAYMENT_PROVIDER_TOKEN=DEMO_PAYMENT_TOKEN,
        QUESTION_ANSWER_WITHIN=DEMO_QUESTION_ANSWER_WITHIN,
        PYTHONUNBUFFERED="1",
    )
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *([path] if path else [])])
    return env


async def start_bot(
    settings: Settings, api_url: str, database: Path, operators: tuple[int, ...], group: int, log_path: Path
) -> asyncio.subprocess.Process:
    """``python -m bot run``, logging to ``log_path``.

    It stays in our process group: Ctrl-C in the terminal reaches it too and it stops by itself, even when whatever
    runs the demo does not wait for the demo's own clean-up. A stop that reaches only the demo stops the bot through
    :func:`stop_process`.
    """
    with log_path.open("wb") as log:  # the child writes to it; our copy closes once it runs
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=bot_environment(settings, api_url, database, operators, group),
            cwd=database.parent,  # no stray .env from the caller's folder
        )


async def _wait_until_polling(world: World, process: asyncio.subprocess.Process, log_path: Path) -> None:
    """Until the bot has migrated and started polling (aiogram's start_polling asks getMe, then polls; a pending
    long poll is recorded only when it returns); fails if the bot exits or takes too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_S
    while not any(call.method == "getMe" for call in world.calls):
        if process.returncode is not None:
            raise BotDied(died_line(process.returncode, log_path))
        if loop.time() > deadline:
            raise DemoError(f"the bot did not start polling within {READY_TIMEOUT_S:.0f} s; see {log_path}")
        await asyncio.sleep(0.1)


def page_url(base_url: str, host: str) -> str:
    """The page's address to print: a wildcard host is reached through the loopback address."""
    port = base_url.rsplit(":", 1)[1]
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"
