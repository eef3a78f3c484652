"""End-to-end: the real bot, started by its CLI as a separate process, against the Bot API emulator.

One bot process serves all the e2e tests: starting one costs ~7 s of CPU (importing aiogram builds its pydantic
models), 10-25 s of wall time on a busy 2-core machine, so a process per test would turn seconds into minutes. The
fixtures are scoped to this package (the bot stops when its tests are done) and every test runs in the package's
event loop: ``pytestmark = pytest.mark.asyncio(loop_scope="package")``. Tests are isolated by their own users (fresh
Telegram ids: fresh FSM state, their own orders) and by comparing with what they saw before they acted; a test that
needs a catalog of its own adds it to the database (the bot reads the catalog from the database on every update).

Package fixtures:

- ``emulator``: :class:`sandbox.server.Emulator` served in-process on 127.0.0.1 (a free port), flood limits off;
  the seeded organisers' chats (700001, 700002) are users in its world.
- ``operators``: the operator group (the bot's ``OPERATOR_CHAT_ID``).
- ``database``: a temporary SQLite file, migrated and seeded by :func:`tests.seed.seed_catalog` relative to the real
  current time (the bot process reads the system clock).
- ``bot_process``: ``python -m bot run`` (cwd = the repository) with its environment pointing at both; ready once it
  long-polls. At the end: SIGTERM, a few seconds' grace, then SIGKILL; it must have exited cleanly.

Per test (autouse): flood limits as the test asks (``@pytest.mark.telegram_limits``: Telegram's defaults), and
afterwards: unused faults removed, limits off again, the bot still running, no request of the bot refused as
invalid (400/401/404/409; "message is not modified" is allowed: the bot expects it after a double tap), its error
backstop silent (unless ``@pytest.mark.bot_errors_expected``), and the bot's log lines of the test printed if it
failed.
``tourist_factory("Anna", "en")`` -> a :class:`tests.e2e.tourist.Tourist`.

Every wait is event-driven (``World.wait_for``) and bounded; nothing sleeps on a timer (but for one bounded step at
startup, see :func:`wait_polling`, and a tourist's pause between two taps, as a person's: ``tests/e2e/tourist.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from sandbox.errors import NOT_MODIFIED
from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.tourist import Tourist
from tests.seed import (
    INSTANT_ORGANISER_CHAT_ID,
    ORGANISER_CHAT_ID,
    Seeded,
    seed_catalog,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAE-e2e-token-000000000000000000"
STARTUP_TIMEOUT = 45.0  # spawn -> first getUpdates: 8-25 s measured on a busy 2-core box (aiogram's import)
POLL_GRACE = 3.0  # getMe answered -> getUpdates called
STOP_TIMEOUT = 5.0  # SIGTERM -> exit, then SIGKILL
LOG_TAIL_LINES = 60
LOG_NOISE = (" apscheduler.executors.default: Running job ", " apscheduler.executors.default: Job ")
BACKSTOP = "handlers.common.errors"  # the logger of the bot's error router: it logs only when a handler crashed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "telegram_limits: the emulator applies Telegram's flood limits in this test")
    config.addinivalue_line("markers", "bot_errors_expected: the bot's error backstop may fire in this test")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---- the emulator ------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_emulator() -> AsyncIterator[Emulator]:
    """The emulator on a free port, flood limits off, with the seeded organisers' chats as users in its world."""
    emulator = Emulator(limits=Limits.off())
    world = emulator.world
    world.add_user(first_name="Baltic Boats", language_code="et", user_id=ORGANISER_CHAT_ID)
    world.add_user(first_name="Old Town Guides", language_code="en", user_id=INSTANT_ORGANISER_CHAT_ID)
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


def add_operator_group(world: World) -> int:
    """The operator group (the bot is an administrator there); its id is the bot's ``OPERATOR_CHAT_ID``."""
    operator = world.add_user(first_name="Olga", language_code="en")
    return world.add_group(title="Tripdesk operators", members=[operator.id]).id


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def emulator() -> AsyncIterator[Emulator]:
    async with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def world(emulator: Emulator) -> World:
    return emulator.world


@pytest.fixture(scope="package")
def operators(emulator: Emulator) -> int:
    return add_operator_group(emulator.world)


# ---- the database ------------------------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    sessions: async_sessionmaker
    seeded: Seeded


def sqlite_url(folder: Path, name: str = "tripdesk.db") -> str:
    return f"sqlite+aiosqlite:///{folder / name}"


@contextlib.asynccontextmanager
async def seeded_database(url: str) -> AsyncIterator[Database]:
    """The (empty) database at ``url``, migrated and filled with tests/seed.py's catalog from now on; the engine
    disposed afterwards."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        yield Database(url, sessions, await seed_catalog(sessions, datetime.now(UTC)))
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("e2e"), "e2e.db")) as database:
        yield database


# ---- the bot process ---------------------------------------------------------------------------------------------


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def log(self, since: int = 0) -> str:
        """The bot's output (from byte offset ``since``)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(since)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def tail(self, lines: int = LOG_TAIL_LINES, since: int = 0) -> str:
        """The last lines of the log, without APScheduler's two INFO lines per run of every job."""
        kept = [line for line in self.log(since).splitlines() if not any(noise in line for noise in LOG_NOISE)]
        return "\n".join(kept[-lines:])

    def backstop_lines(self, since: int = 0) -> list[str]:
        return [line for line in self.log(since).splitlines() if f" {BACKSTOP}: " in line]

    async def stop(self) -> int:
        """SIGTERM, up to STOP_TIMEOUT for a clean exit, then SIGKILL; the exit code (-9: it had to be killed)."""
        process = self.process
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                return -9
        return process.returncode


def polling(world: World) -> bool:
    """The bot has called getUpdates: the world takes ``allowed_updates`` from the call as soon as it arrives (the
    bot always sends them); a finished long poll is in ``world.calls``."""
    return world.bot.allowed_updates is not None or bool(world.calls_of("getUpdates"))


async def wait_or_exit(
    world: World, process: asyncio.subprocess.Process, predicate: Callable[[], object], timeout: float
) -> None:
    """Wait for ``predicate`` on the world, but give up as soon as the process exits."""
    condition = asyncio.ensure_future(world.wait_for(predicate, timeout))
    exited = asyncio.ensure_future(process.wait())
    try:
        done, _pending = await asyncio.wait(
            {condition, exited}, timeout=timeout + 1, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (condition, exited):
            task.cancel()
        await asyncio.gather(condition, exited, return_exceptions=True)
    if condition in done and not condition.cancelled() and condition.exception() is None:
        return
    if exited in done:
        raise RuntimeError(f"the bot process exited with {process.returncode} before it started polling")
    raise TimeoutError(f"the bot process did not start polling within {timeout} s")


async def wait_polling(world: World, process: asyncio.subprocess.Process, timeout: float) -> None:
    """Until the bot's first getUpdates.

    aiogram calls getMe right before its first getUpdates; getMe is recorded when it is answered, which wakes
    ``wait_for``. The getUpdates that follows is a long poll: the world notes it on arrival (``allowed_updates``) but
    wakes nobody, so that last step is checked every few milliseconds, for at most POLL_GRACE seconds.
    """
    await wait_or_exit(world, process, lambda: world.calls_of("getMe") or polling(world), timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_GRACE
    while not polling(world):
        if loop.time() > deadline:
            raise TimeoutError(f"the bot answered getMe but did not call getUpdates within {POLL_GRACE} s")
        await asyncio.sleep(0.01)


def bot_environment(emulator: Emulator, database: Database, operator_chat_id: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BOT_", "TELEGRAM_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database.url,
        OPERATOR_CHAT_ID=str(operator_chat_id),
        DEFAULT_LOCALE="en",
        LOG_LEVEL="INFO",
        # Set to blank (= unset), so that a developer's .env cannot switch on Redis or payments here.
        REDIS_URL="",
        PAYMENT_PROVIDER_TOKEN="",
        ADMIN_IDS="",
        SCHEDULER_INTERVAL_S="0.5",  # the outbox sender (and any other periodic job) every half second
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def bot_process(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    log_path = tmp_path_factory.mktemp("bot") / "bot.log"
    with open(log_path, "wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=REPO,
            env=bot_environment(emulator, database, operators),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    bot = BotProcess(process, log_path)
    try:
        try:
            await wait_polling(emulator.world, process, STARTUP_TIMEOUT)
        except (RuntimeError, TimeoutError) as error:
            pytest.fail(f"{error}; the bot's log ({log_path}):\n{bot.tail()}")
        yield bot
    finally:
        code = await bot.stop()
    assert code == 0, f"the bot did not exit cleanly on SIGTERM (exit code {code}):\n{bot.tail()}"


# ---- per test ----------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture(autouse=True, loop_scope="package")
async def _each_test(
    request: pytest.FixtureRequest, emulator: Emulator, bot_process: BotProcess
) -> AsyncIterator[None]:
    if not bot_process.running:
        pytest.fail(
            f"the bot process is not running (exit code {bot_process.process.returncode}):\n{bot_process.tail()}"
        )
    world = emulator.world
    world.limits = Limits() if request.node.get_closest_marker("telegram_limits") else Limits.off()
    since = bot_process.log_size()
    mark = len(world.calls)
    try:
        yield
    finally:
        world.faults.clear()
        world.limits = Limits.off()
        failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))
        if failed:
            print(
                f"\n---- the bot's log during this test ({bot_process.log_path}) ----\n{bot_process.tail(since=since)}"
            )
    refused = [
        f"{c.method} {c.params} -> {c.status} {c.description}"
        for c in world.calls[mark:]
        if c.status in (400, 401, 404, 409) and c.description != NOT_MODIFIED
    ]
    assert not refused, "the emulator refused requests of the bot (invalid for the Bot API?):\n" + "\n".join(refused)
    assert bot_process.running, f"the bot process exited ({bot_process.process.returncode}):\n{bot_process.tail()}"
    if not request.node.get_closest_marker("bot_errors_expected"):
        crashes = bot_process.backstop_lines(since)
        assert not crashes, "a handler crashed (the error router apologised to the user):\n" + "\n".join(crashes)


@pytest.fixture
def tourist_factory(world: World) -> Callable[..., Awaitable[Tourist]]:
    async def make(first_name: str, language_code: str | None = "en", **kwargs: object) -> Tourist:
        return Tourist(world, world.add_user(first_name=first_name, language_code=language_code, **kwargs))

    return make
