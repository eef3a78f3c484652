"""Replicas benchmark: handled updates/s with one and with two real bot processes in webhook mode (issue 12).

Prints figures, asserts nothing about time.

    TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test_h7 TEST_REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/replicas.py [--replicas 1,2] [--clients 60] [--seconds 20] [--warmup 5]

``BENCH_POSTGRES_URL`` (else ``TEST_POSTGRES_URL``) names the server and the database to start from: each run gets a
database of its own next to it (``<name>_replicas_<random>``, created, migrated, seeded with ``tests/seed.py``'s
catalog, dropped at the end). ``BENCH_REDIS_URL`` (else ``TEST_REDIS_URL``) is the replicas' ``REDIS_URL`` (the
conversation state and the throttle's buckets); its database is flushed before and after each run.

**The replicas** are ``python -m bot run`` processes, each with ``WEBHOOK_URL`` = its own
``http://127.0.0.1:<port>/tg``, ``WEBHOOK_LISTEN`` = that port and one ``WEBHOOK_SECRET``, the environment of the e2e
tests otherwise (tests/e2e/conftest.py: the emulator as the Bot API, ``SCHEDULER_INTERVAL_S=0.5``). A run starts
once every replica answers ``/healthz`` and has called ``setWebhook``.

**The Bot API** is the sandbox emulator (:class:`sandbox.server.Emulator`, in this process, flood limits off). The
updates are the emulator's own: each client is a :class:`tests.e2e.tourist.Tourist` who writes and presses real
buttons of the bot's messages in the emulator's world. The update the world makes for the bot is taken off its
queue at once (its webhook delivery never sees it) and POSTed by this bench straight to a replica's
``WEBHOOK_LISTEN`` port with the secret header, round robin over the replicas, so consecutive updates of one chat
land on different replicas (the inbox's claims keep them in order: bot/inbox.py).

**Clients**: ``--clients`` tourists at once, each browsing as a person does (``/start`` -> Events -> the region ->
the next 30 days -> sea -> the cruise's card: 6 updates, each sent once the bot has answered the previous one and
at least ``tests.e2e.tourist.PERSON_PAUSE`` after it, so the per-user throttle never steps in); a tourist who
finished is replaced by a new one (a new user: the first update registers them).

**Figures** per replica count, over the ``--seconds`` window that follows ``--warmup`` seconds of load: handled
updates/s (inbox rows marked done within the window, per second), p50 and p99 of POST -> done (the POST's start
in this process against the row's ``done_at``, both the machine's clock) for the updates POSTed in the window, and
the load average (1 minute) at the window's end. After the window the clients stop, the inbox is waited for
(bounded), and the run reports failed or unfinished updates and clients that got no answer, which should all be 0.
The table ends with the ratio 2 replicas / 1 replica. The machine's CPU count is printed next to the figures: on 2
cores, two replicas, PostgreSQL, Redis, the emulator and the clients share them, so the ratio shows contention more
than the design's scaling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine
from bot.storage.tables import InboxRow
from handlers.tourist.callbacks import BrowseCb, EventCb, MenuAction, MenuCb, When
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.conftest import (
    REPO,
    BotProcess,
    Database,
    add_operator_group,
    bot_environment,
    running_emulator,
    seeded_database,
)
from tests.e2e.tourist import Tourist

SECRET = "bench-replicas-secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/tg"
START_TIMEOUT = 90.0  # spawn -> /healthz and setWebhook (aiogram's import takes 10-25 s on a busy 2-core box)
CLIENT_TIMEOUT = 30.0  # a tourist waits this long for each answer before counting it as not answered
DRAIN_TIMEOUT = 60.0  # after the window: every stored update handled
POST_TIMEOUT = 30.0


# ---- the replicas -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_log(path: Path) -> BinaryIO:
    """The replica's log file, emptied (opened before the process starts: a local file, quick)."""
    return path.open("wb")


@dataclass
class Replica:
    port: int
    bot: BotProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"


async def start_replicas(
    count: int, emulator: Emulator, db: Database, operators: int, redis_url: str, logs: Path
) -> list[Replica]:
    """``count`` bot processes in webhook mode; returns once each answers /healthz and all have set the webhook."""
    world = emulator.world
    known = len(world.calls_of("setWebhook"))
    replicas = []
    for n in range(count):
        port = free_port()
        env = bot_environment(emulator, db, operators)
        env.update(
            WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            REDIS_URL=redis_url,
            LOG_LEVEL="WARNING",  # aiogram's line per handled update would cost the replicas CPU
        )
        log_path = logs / f"replica{n + 1}.log"
        with new_log(log_path) as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=REPO,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        replicas.append(Replica(port, BotProcess(process, log_path)))
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as http:
        for replica in replicas:
            while True:
                if not replica.bot.running:
                    raise RuntimeError(f"replica on port {replica.port} exited:\n{replica.bot.tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{replica.port}/healthz") as resp:
                        if resp.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"replica on port {replica.port} not up in {START_TIMEOUT} s")
                await asyncio.sleep(0.2)
    left = max(1.0, deadline - time.monotonic())
    await world.wait_for(lambda: len(world.calls_of("setWebhook")) >= known + count, timeout=left)
    return replicas


# ---- the feed: the world's updates POSTed to the replicas -----------------------------------------------------------


@dataclass
class Feed:
    """Takes each update the world queues for the bot off the queue and POSTs it to the next replica."""

    world: World
    http: aiohttp.ClientSession
    targets: list[str]
    posted: dict[int, float] = field(default_factory=dict)  # update id -> time.time() at the POST's start
    stored: dict[int, float] = field(default_factory=dict)  # update id -> seconds from the POST to its 200
    refused: list[str] = field(default_factory=list)
    _next: itertools.count[int] = field(default_factory=itertools.count)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def install(self) -> None:
        push = self.world.push_update

        def push_and_post(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
            update = push(kind, payload)
            if update is not None:
                self.world.bot.updates.remove(update)  # the emulator's webhook delivery never sees it
                task = asyncio.get_running_loop().create_task(self._post(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return update

        self.world.push_update = push_and_post  # type: ignore[method-assign]  # this bench's world only

    def uninstall(self) -> None:
        with contextlib.suppress(AttributeError):
            del self.world.push_update  # the instance attribute goes: the method is back

    async def _post(self, update: dict[str, Any]) -> None:
        target = self.targets[next(self._next) % len(self.targets)]
        self.posted[update["update_id"]] = time.time()
        try:
            async with self.http.post(
                target, json=update, headers={SECRET_HEADER: SECRET}, timeout=aiohttp.ClientTimeout(POST_TIMEOUT)
            ) as resp:
                if resp.status != 200:
                    self.refused.append(f"{update['update_id']}: {resp.status} {await resp.text()}")
                else:
                    self.stored[update["update_id"]] = time.time() - self.posted[update["update_id"]]
        except (aiohttp.ClientError, TimeoutError) as error:
            self.refused.append(f"{update['update_id']}: {type(error).__name__} {error}")

    async def settle(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


# ---- the clients ----------------------------------------------------------------------------------------------------


@dataclass
class Clients:
    world: World
    region_id: int
    event_id: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    journeys: int = 0
    unanswered: list[str] = field(default_factory=list)
    _names: itertools.count[int] = field(default_factory=itertools.count)

    async def browse(self, tourist: Tourist) -> None:
        """/start -> Events -> the region -> the next 30 days -> sea -> the cruise's card."""
        region = self.region_id
        steps: list[Callable[[], Any]] = [
            lambda: tourist.send("/start"),
            lambda: tourist.press(MenuCb(action=MenuAction.EVENTS)),
            lambda: tourist.press(BrowseCb(region=region, step="when")),
            lambda: tourist.press(BrowseCb(region=region, when=When.UPCOMING, step="category")),
            lambda: tourist.press(BrowseCb(region=region, when=When.UPCOMING, category="sea", step="list")),
            lambda: tourist.press(EventCb(event=self.event_id)),
        ]
        for step in steps:
            if self.stop.is_set():
                return
            await step()
        self.journeys += 1

    async def client(self) -> None:
        while not self.stop.is_set():
            user = self.world.add_user(first_name=f"Bench{next(self._names)}", language_code="en")
            tourist = Tourist(self.world, user, timeout=CLIENT_TIMEOUT)
            try:
                await self.browse(tourist)
            except AssertionError as error:  # no answer in time (or not the screen expected)
                self.unanswered.append(str(error).splitlines()[0][:200])


# ---- one run --------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    replicas: int
    clients: int
    window: float
    done: int
    rate: float
    p50_ms: float
    p99_ms: float
    load: float
    cpu_replicas: float  # CPU seconds per second of the window: all replicas together
    cpu_bench: float  # the same for this process (the emulator and the clients)
    connections: float  # connections opened to PostgreSQL per second (the replicas' pools overflowing)
    stored_p50_ms: float  # POST -> 200 (the update committed to the inbox)
    posted: int
    failed: int
    unfinished: int
    refused: int
    unanswered: int
    problems: list[str]  # the first few refusals and unanswered steps, to read
    journeys: int


@contextlib.asynccontextmanager
async def fresh_database(url: str) -> AsyncIterator[Database]:
    """A database of its own next to ``url``'s, migrated and seeded; dropped afterwards."""
    base = make_url(url)
    name = f"{base.database}_replicas_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        async with seeded_database(base.set(database=name).render_as_string(hide_password=False)) as db:
            yield db
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def flush_redis(url: str) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def inbox_rows(db: Database) -> list[Any]:
    async with db.sessions() as session:
        return list(await session.execute(select(InboxRow.update_id, InboxRow.status, InboxRow.done_at)))


async def sessions_opened(db: Database) -> int:
    """Connections opened to the bench's database so far (``pg_stat_database.sessions``, PostgreSQL 14+)."""
    async with db.sessions() as session:
        query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        return int(await session.scalar(text(query)) or 0)


async def drain(db: Database, timeout: float) -> list[Any]:
    """The inbox once no update is pending or being handled (or as it is after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await inbox_rows(db)
        if all(r.status not in ("pending", "handling") for r in rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 where it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run_once(count: int, args: argparse.Namespace, postgres_url: str, redis_url: str, logs: Path) -> Result:
    await flush_redis(redis_url)
    async with fresh_database(postgres_url) as db, running_emulator() as emulator:
        world = emulator.world
        operators = add_operator_group(world)
        replicas = await start_replicas(count, emulator, db, operators, redis_url, logs)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                feed = Feed(world, http, [r.url for r in replicas])
                feed.install()
                clients = Clients(world, db.seeded.region_id, db.seeded.event_id)
                tasks = [asyncio.create_task(clients.client()) for _ in range(args.clients)]
                try:
                    await asyncio.sleep(args.warmup)
                    pids = [r.bot.process.pid for r in replicas]
                    opened = await sessions_opened(db)
                    cpu_before = sum(map(cpu_seconds, pids)), time.process_time()
                    start = time.time()
                    await asyncio.sleep(args.seconds)
                    end = time.time()
                    cpu_replicas = sum(map(cpu_seconds, pids)) - cpu_before[0]
                    cpu_bench = time.process_time() - cpu_before[1]
                    connections = await sessions_opened(db) - opened
                    load = os.getloadavg()[0]
                finally:
                    clients.stop.set()
                    if tasks:  # the clients finish the step in hand
                        await asyncio.wait(tasks, timeout=CLIENT_TIMEOUT + 5)
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    await feed.settle()
                    feed.uninstall()
                rows = await drain(db, DRAIN_TIMEOUT)
        finally:
            for replica in replicas:
                await replica.bot.stop()
    await flush_redis(redis_url)

    done_in_window = [r for r in rows if r.done_at is not None and start <= r.done_at.timestamp() < end]
    latencies = [
        (r.done_at.timestamp() - feed.posted[r.update_id]) * 1000
        for r in rows
        if r.status == "done" and r.update_id in feed.posted and start <= feed.posted[r.update_id] < end
    ]
    return Result(
        replicas=count,
        clients=args.clients,
        window=end - start,
        done=len(done_in_window),
        rate=len(done_in_window) / (end - start),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        load=load,
        cpu_replicas=cpu_replicas / (end - start),
        cpu_bench=cpu_bench / (end - start),
        connections=connections / (end - start),
        stored_p50_ms=percentile(
            [seconds * 1000 for u, seconds in feed.stored.items() if start <= feed.posted[u] < end], 0.50
        ),
        posted=len(feed.posted),
        failed=sum(1 for r in rows if r.status == "failed"),
        unfinished=sum(1 for r in rows if r.status in ("pending", "handling"))
        + len(set(feed.posted) - {r.update_id for r in rows}),
        refused=len(feed.refused),
        unanswered=len(clients.unanswered),
        problems=feed.refused[:5] + clients.unanswered[:5],
        journeys=clients.journeys,
    )


# ---- the table ------------------------------------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    print()
    print(
        f"{'replicas':>8} {'clients':>7} {'window s':>8} {'done':>6} {'updates/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'stored p50':>10} {'load 1m':>7} {'CPU bots':>8} {'conn/s':>6} {'CPU bench':>9} | "
        f"{'posted':>6} {'failed':>6} {'unfinished':>10} "
        f"{'refused':>7} {'no answer':>9}"
    )
    for r in results:
        print(
            f"{r.replicas:>8} {r.clients:>7} {r.window:>8.1f} {r.done:>6} {r.rate:>9.1f} {r.p50_ms:>7.0f} "
            f"{r.p99_ms:>7.0f} {r.stored_p50_ms:>10.0f} {r.load:>7.2f} {r.cpu_replicas:>8.2f} {r.connections:>6.1f} "
            f"{r.cpu_bench:>9.2f} | {r.posted:>6} "
            f"{r.failed:>6} {r.unfinished:>10} {r.refused:>7} {r.unanswered:>9}"
        )
    medians = {}
    for count in dict.fromkeys(r.replicas for r in results):
        runs = [r for r in results if r.replicas == count]
        medians[count] = tuple(
            statistics.median(getattr(r, name) for r in runs) for name in ("rate", "p50_ms", "p99_ms")
        )
        rate, p50, p99 = medians[count]
        print(f"median of {len(runs)} run(s), {count} replica(s): {rate:.1f} updates/s, ", end="")
        print(f"p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    if 1 in medians and 2 in medians and medians[1][0] > 0:
        (rate1, p50_1, p99_1), (rate2, p50_2, p99_2) = medians[1], medians[2]
        print(
            f"ratio 2 replicas / 1 replica (medians): {rate2 / rate1:.2f} x updates/s, p50 {p50_2 / p50_1:.2f} x, "
            f"p99 {p99_2 / p99_1:.2f} x"
        )
    print(
        f"machine: {os.cpu_count()} CPU cores ({platform.machine()}, Python {platform.python_version()}), shared by "
        "the replicas, PostgreSQL, Redis, the emulator and the clients (this process) and whatever else runs; CPU "
        "columns: cores busy during the window (all replicas; this process); conn/s: connections opened to "
        "PostgreSQL per second"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, in order (default 1,2)")
    parser.add_argument("--clients", type=int, default=60, help="tourists browsing at once (default 60)")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window (default 20)")
    parser.add_argument("--warmup", type=float, default=5.0, help="load before the window (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="the replica counts run in turn this often (default 2)")
    parser.add_argument("--logs", type=Path, default=None, help="keep the replicas' logs here")
    args = parser.parse_args()
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if not postgres_url or not redis_url:
        sys.exit("set BENCH_POSTGRES_URL (or TEST_POSTGRES_URL) and BENCH_REDIS_URL (or TEST_REDIS_URL)")
    counts = [int(n) for n in args.replicas.split(",")]
    print(
        f"replicas bench: {counts} replica(s) in turn, {args.rounds} round(s), {args.clients} clients, "
        f"window {args.seconds:g} s after {args.warmup:g} s warm-up; "
        f"{os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.2f} at start"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as scratch:
        logs = args.logs or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        for count in [c for _ in range(args.rounds) for c in counts]:
            result = await run_once(count, args, postgres_url, redis_url, logs)
            print(
                f"  {count} replica(s): {result.rate:.1f} updates/s, p50 {result.p50_ms:.0f} ms, "
                f"p99 {result.p99_ms:.0f} ms, load {result.load:.2f}",
                flush=True,
            )
            results.append(result)
            for line in result.problems[:5]:
                print(f"    {line}")
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
