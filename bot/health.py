"""Health and metrics over HTTP: ``/healthz`` (the process is alive), ``/readyz`` (it can do its work) and
``/metrics`` (Prometheus). The webhook app carries these routes (:func:`add_health_routes`); in polling mode they get
an app of their own on ``METRICS_LISTEN`` (:func:`start_health_server`).

Ready means: the database answers ``SELECT 1``, Redis answers ``PING`` (when ``REDIS_URL`` is set) and the Bot API
answered recently. The last is seen by :class:`BotApiWatch`, a session middleware on the bot's and the sender's
sessions that notes each successful call; a process that has not talked to Telegram for ``TELEGRAM_FRESH_S`` asks
``getMe`` itself. Every check is bounded by ``timeout`` and says "ok" or one line of why not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.reads import read_engine

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 5.0
TELEGRAM_FRESH_S = 120.0  # a successful Bot API call this recent makes Telegram "ok" without asking again
OK = "ok"


class BotApiWatch(BaseRequestMiddleware):
    """Notes the monotonic time of the last successful Bot API call (``bot.session.middleware(watch)``)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.last_ok: float | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        self.succeeded()
        return response

    def succeeded(self) -> None:
        self.last_ok = self.monotonic()

    def seconds_since_ok(self) -> float | None:
        """Seconds since the last successful call; None before the first."""
        return None if self.last_ok is None else self.monotonic() - self.last_ok


def _reason(error: BaseException) -> str:
    """One line: the error's kind and the first line of what it says."""
    lines = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return line[:300]


class Readiness:
    def __init__(
        self,
        engine: AsyncEngine,
        redis_url: str | None,
        bot: Bot,
        watch: BotApiWatch,
        timeout: float = CHECK_TIMEOUT_S,
    ) -> None:
        self.engine = read_engine(engine)  # no transaction: on SQLite a check never queues for the write lock
        self.redis_url = redis_url
        self.bot = bot
        self.watch = watch
        self.timeout = timeout
        self._redis: Redis | None = None
        self._asking = asyncio.Lock()  # one getMe at a time, however many probes come

    async def check(self) -> dict[str, str]:
        """``{"database": ..., "redis": ... (only when configured), "telegram": ...}``: "ok" or why not."""
        checks: dict[str, Callable[[], Awaitable[None]]] = {"database": self._database}
        if self.redis_url:
            checks["redis"] = self._redis_ping
        checks["telegram"] = self._telegram
        results = await asyncio.gather(*(self._bounded(check) for check in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def close(self) -> None:
        """Close the Redis connection (when one was made)."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _bounded(self, check: Callable[[], Awaitable[None]]) -> str:
        try:
            await asyncio.wait_for(check(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as error:
            return _reason(error)
        return OK

    async def _database(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def _redis_ping(self) -> None:
        if self._redis is None:
            assert self.redis_url is not None  # only checked when configured
            from redis.asyncio import Redis  # only with REDIS_URL: a bot without Redis never loads it

            self._redis = Redis.from_url(
                self.redis_url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout
            )
        await self._redis.ping()

    async def _telegram(self) -> None:
        if self._fresh():
            return
        async with self._asking:
            if self._fresh():  # another probe asked meanwhile
                return
            # getMe straight through the session, past the retry middleware: one answer, or the reason there is none
            await self.bot.session.make_request(self.bot, GetMe(), timeout=max(1, int(self.timeout)))
            self.watch.succeeded()

    def _fresh(self) -> bool:
        since = self.watch.seconds_since_ok()
        return since is not None and since < TELEGRAM_FRESH_S


def add_health_routes(app: web.Application, readiness: Readiness) -> None:
    """GET /healthz, /readyz and /metrics on ``app``."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_request: web.Request) -> web.Response:
        checks = await readiness.check()
        ready = all(result == OK for result in checks.values())
        if not ready:
            log.warning("not ready: %s", ", ".join(f"{name}: {why}" for name, why in checks.items() if why != OK))
        return web.json_response(checks, status=200 if ready else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def _host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not host:port: {listen!r}")
    return host.strip("[]"), int(port)


async def start_health_server(listen: str, readiness: Readiness) -> web.AppRunner:
    """An app with only the health and metrics routes, listening on ``listen`` (host:port); stop it with
    ``await runner.cleanup()``."""
    host, port = _host_port(listen)
    app = web.Application()
    add_health_routes(app, readiness)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("health and metrics on http://%s:%s (/healthz, /readyz, /metrics)", *_address(runner, host, port))
    return runner


def _address(runner: web.AppRunner, host: str, port: int) -> tuple[Any, Any]:
    """The address really bound (port 0 picks a free one)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return address[0], address[1]
    return host, port
