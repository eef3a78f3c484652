"""Helpers of the replica tests: bot processes in webhook mode, the round-robin proxy in front of them, and the
reads the tests check (the inbox, the outbox, the leader, each process's metrics).

- :func:`start_replicas`: ``python -m bot run`` with ``WEBHOOK_URL`` (one or several at once, each on its own
  ``WEBHOOK_LISTEN`` port); ready once each has called ``setWebhook`` (the emulator records the call, which wakes
  ``World.wait_for``) and its ``/healthz`` answers (the listener starts before ``setWebhook``, so that is one probe).
- :class:`RoundRobinProxy`: an aiohttp app that forwards each POST, with its headers, to the replicas in turn (the
  turns are kept per chat, so every booking's screens alternate between the replicas) and notes each forward.
- :func:`leader_id`: the replica holding the leadership lock (``pg_locks``), as ``pg-<pid>``.

Every wait is bounded; waits on the chat are event-driven (``World.wait_for``); the database and the processes' HTTP
ports wake nobody, so they are polled briefly (:func:`tests.e2e_lifecycle.harness.wait_db`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.replicas import LEADER_LOCK
from bot.storage.tables import InboxRow, OrderItemRow, OrderRow, OutboxRow, SessionRow
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.conftest import REPO, STARTUP_TIMEOUT, BotProcess, bot_environment
from tests.e2e_lifecycle.harness import wait_db

SECRET = "e2e-webhook-secret-0123456789"  # WEBHOOK_SECRET: 16+ characters
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/tg"
HTTP_TIMEOUT = 10.0
PROBE_S = 0.02  # how often a port or the database is looked at while waiting
STOP_LIMIT_S = 10.0  # SIGTERM -> exit: the promise
HOLDING = ("awaiting_organiser", "confirmed", "attended", "no_show")  # the booking states that hold their seats
_REPLICA_ID = re.compile(r"running as @\S+ \(id \d+\), replica (\S+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- the bot processes ---------------------------------------------------------------------------------------------


@dataclass
class Replica:
    """One ``python -m bot run`` in webhook mode."""

    process: BotProcess
    port: int
    name: str  # the test's name for it (its log file)
    id: str = ""  # the replica's own id (``pg-<pid>`` on PostgreSQL), from its log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.running

    def __repr__(self) -> str:
        return f"<replica {self.name} {self.id} :{self.port} pid {self.process.process.pid}>"


async def start_replicas(
    emulator: Emulator,
    database_url: str,
    operators: int,
    folder: Path,
    names: Iterable[str],
    webhook_url: str,
    ports: Iterable[int] = (),
    **env: str,
) -> list[Replica]:
    """Bot processes in webhook mode (``webhook_url`` is what each sets with ``setWebhook``), started together,
    each listening on its port of ``ports`` (default: free ones); returns once every one has set the webhook and
    answers ``/healthz``. Fails the test (with the logs) otherwise."""
    world = emulator.world
    known = len(world.calls_of("setWebhook"))
    replicas = []
    chosen = list(ports)
    for index, name in enumerate(names):
        port = chosen[index] if index < len(chosen) else free_port()
        environment = bot_environment(emulator, SimpleNamespace(url=database_url), operators)  # type: ignore[arg-type]
        environment.update(
            WEBHOOK_URL=webhook_url,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            METRICS_LISTEN="",
            LOG_FORMAT="text",
        )
        environment.update(env)
        log_path = folder / f"{name}.log"
        with open(log_path, "ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=REPO,
                env=environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        replicas.append(Replica(BotProcess(process, log_path), port, name))
    try:
        await _wait_started(world, replicas, known + len(replicas))
    except (RuntimeError, TimeoutError) as error:
        for replica in replicas:
            await replica.process.stop()
        logs = "\n".join(f"---- {r.name} ----\n{r.process.tail()}" for r in replicas)
        pytest.fail(f"{error}; the logs:\n{logs}")
    for replica in replicas:
        found = _REPLICA_ID.search(replica.process.log())
        assert found, f"{replica}: no 'running as ..., replica <id>' line in its log:\n{replica.process.tail()}"
        replica.id = found.group(1)
    return replicas


async def _wait_started(world: World, replicas: list[Replica], set_webhooks: int) -> None:
    processes = [asyncio.ensure_future(r.process.process.wait()) for r in replicas]
    hooked = asyncio.ensure_future(
        world.wait_for(lambda: len(world.calls_of("setWebhook")) >= set_webhooks, STARTUP_TIMEOUT)
    )
    try:
        done, _ = await asyncio.wait(
            {hooked, *processes}, timeout=STARTUP_TIMEOUT + 1, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (hooked, *processes):
            task.cancel()
        await asyncio.gather(hooked, *processes, return_exceptions=True)
    exited = [r for r in replicas if r.process.process.returncode is not None]
    if exited:
        raise RuntimeError(f"{exited} exited ({[r.process.process.returncode for r in exited]}) before it was ready")
    if hooked not in done or hooked.cancelled() or hooked.exception() is not None:
        calls = len(world.calls_of("setWebhook"))
        raise TimeoutError(f"{calls} of {set_webhooks} setWebhook calls within {STARTUP_TIMEOUT} s")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as client:
        for replica in replicas:
            status = await http_status(client, "GET", f"{replica.url}/healthz")
            if status != 200:
                raise RuntimeError(f"{replica} set the webhook but /healthz answers {status}")


async def http_status(client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> int | str:
    """The HTTP status, or the connection error's name (the listener is gone)."""
    try:
        async with client.request(method, url, **kwargs) as response:
            await response.read()
            return response.status
    except aiohttp.ClientConnectionError as error:
        return type(error).__name__


async def metrics_of(replica: Replica) -> str:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as client,
        client.get(f"{replica.url}/metrics") as response,
    ):
        assert response.status == 200, f"{replica}: /metrics answered {response.status}"
        return await response.text()


def metric(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` in a Prometheus exposition."""
    total = 0.0
    for line in exposition.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not found:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1) or ""))
        if all(have.get(key) == value for key, value in labels.items()):
            total += float(found.group(2))
    return total


async def stop_replica(replica: Replica) -> int | None:
    """SIGTERM; the exit code once it exits, None if it has not within :data:`STOP_LIMIT_S` (then it is killed)."""
    process = replica.process.process
    if process.returncode is not None:
        return process.returncode
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        return await asyncio.wait_for(process.wait(), STOP_LIMIT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return None


# ---- the proxy in front of the replicas ------------------------------------------------------------------------------


def update_chat(update: dict[str, Any]) -> int:
    """The chat (or user) an update is about, as the proxy tells them apart; 0 when it shows none."""
    for value in update.values():
        if not isinstance(value, dict):
            continue
        for holder in (value, value.get("message") or {}):
            chat = holder.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        sender = value.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return 0


@dataclass
class Forward:
    update_id: int | None
    chat: int
    target: int  # the replica's port
    status: int | str  # the replica's answer, or the connection error's name


@dataclass
class RoundRobinProxy:
    """Forwards each POST (body and headers) to the replicas in turn: each chat's updates alternate between them,
    a chat starting on the replica its id picks (so a burst of new chats spreads too); answers what the replica
    answered (502 when it cannot be reached), so that the emulator's delivery retries, at the next turn."""

    targets: list[int]  # the replicas' ports; a test may replace one
    forwards: list[Forward] = field(default_factory=list)
    url: str = ""
    _turns: Counter[int] = field(default_factory=Counter)
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        try:
            update = json.loads(body)
        except ValueError:
            update = {}
        update = update if isinstance(update, dict) else {}
        chat = update_chat(update)
        turn = self._turns[chat]
        self._turns[chat] += 1
        target = self.targets[(chat + turn) % len(self.targets)]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        forward = Forward(update.get("update_id"), chat, target, 0)
        self.forwards.append(forward)
        try:
            async with self._client.post(
                f"http://127.0.0.1:{target}{request.path_qs}", data=body, headers=headers
            ) as answer:
                forward.status = answer.status
                return web.Response(status=answer.status, body=await answer.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            forward.status = type(error).__name__
            return web.Response(status=502, text=f"replica on port {target} unreachable: {type(error).__name__}")


# ---- what the database shows -----------------------------------------------------------------------------------------

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class InboxEntry:
    update_id: int
    chat_id: int
    status: str
    attempts: int
    claimed_by: str | None


async def inbox_rows(sessions: Sessions) -> dict[int, InboxEntry]:
    async with sessions() as db:
        rows = await db.execute(
            select(InboxRow.update_id, InboxRow.chat_id, InboxRow.status, InboxRow.attempts, InboxRow.claimed_by)
        )
        return {r.update_id: InboxEntry(*r) for r in rows}


def open_rows(rows: dict[int, InboxEntry]) -> dict[int, InboxEntry]:
    return {k: v for k, v in rows.items() if v.status in ("pending", "handling")}


async def wait_inbox_done(sessions: Sessions, timeout: float = 20.0) -> dict[int, InboxEntry]:
    """Until no stored update is pending or being handled; returns the inbox then."""
    return await wait_db(
        lambda: inbox_rows(sessions),
        "inbox with nothing pending or handling",
        until=lambda rows: not open_rows(rows),
        timeout=timeout,
    )


async def outbox_rows(sessions: Sessions) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def wait_outbox_drained(sessions: Sessions, timeout: float = 20.0) -> list[OutboxRow]:
    return await wait_db(
        lambda: outbox_rows(sessions),
        "outbox with nothing pending or sending",
        until=lambda rows: all(r.status not in ("pending", "sending") for r in rows),
        timeout=timeout,
    )


async def leader_id(sessions: Sessions) -> str | None:
    """The replica holding the leadership advisory lock on this database (``pg-<pid>``), None when none does."""
    async with sessions() as db:
        pid = await db.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = :key "
                "AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LEADER_LOCK},
        )
    return None if pid is None else f"pg-{pid}"


async def seats_held(sessions: Sessions, session_id: int) -> tuple[int, int, int]:
    """(capacity, seats left, seats held by the session's orders that hold seats)."""
    async with sessions() as db:
        capacity, left = (
            await db.execute(select(SessionRow.capacity, SessionRow.seats_left).where(SessionRow.id == session_id))
        ).one()
        held = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id, OrderRow.booking.in_(HOLDING))
        )
    return capacity, left, int(held or 0)


# ---- what the emulator shows ---------------------------------------------------------------------------------------


def bot_messages(world: World, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in world.transcript(chat_id) if m["from"]["is_bot"]]


def repeated_messages(world: World, chat_id: int) -> list[str]:
    """The bot's messages in the chat that repeat an earlier one (the same text and buttons as first sent)."""
    seen: set[str] = set()
    repeats = []
    for message in bot_messages(world, chat_id):
        original = message["original"]
        key = json.dumps(
            [original.get("text") or original.get("caption"), original.get("reply_markup")], sort_keys=True
        )
        if key in seen:
            repeats.append(str(original.get("text") or original.get("caption"))[:80])
        seen.add(key)
    return repeats


def unseen_outbox(world: World, rows: list[OutboxRow]) -> list[str]:
    """Outbox rows marked sent whose message the chat does not show, or that share a message with another row."""
    problems = []
    shown = {(chat, m["message_id"]) for chat in {r.chat_id for r in rows} for m in bot_messages(world, chat)}
    claimed: set[tuple[int, int | None]] = set()
    for row in rows:
        if row.status != "sent":
            continue
        key = (row.chat_id, row.sent_message_id)
        if key not in shown:
            problems.append(f"row {row.id} ({row.kind}) sent as message {key} that chat {row.chat_id} does not show")
        if key in claimed:
            problems.append(f"row {row.id} ({row.kind}) shares message {key} with another row")
        claimed.add(key)
    return problems
