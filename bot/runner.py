"""The running bot: migrations, then updates through the inbox (no update lost, see bot/inbox.py) by long polling
or, with ``WEBHOOK_URL``, a webhook (bot/webhook.py); the per-user throttle (bot/throttle.py) in front of the
handlers.

Any number of these processes may serve one bot on one PostgreSQL (bot/replicas.py): each handles updates; the
leader also polls (in polling mode), drains the outbox and runs the deadline and desk jobs, and another replica
takes those duties over within seconds when it dies or loses its database connection.

Telegram is asked (``getMe``) before anything else talks to it: a refused token or an unreachable server ends the
start with one line (:class:`~bot.telegram_retry.TelegramUnusable`, printed by the CLI) instead of a traceback.

SIGTERM (or Ctrl-C): the webhook answers 503 (Telegram sends the update again, to another replica), polling stops,
the updates in hand finish within ``STOP_UPDATES_S`` and every claim still held is given back, the sender finishes
its requests in flight and the jobs their item, and the process exits 0 within ten seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_bot, build_dispatcher
from bot.bot_descriptions import update_bot_profile
from bot.config import Settings
from bot.health import BotApiWatch, Readiness, add_health_routes, start_health_server
from bot.inbox import Inbox
from bot.inbox_worker import InboxPolling, InboxWorker
from bot.malloc_arenas import limit_malloc_arenas
from bot.metrics import StateGauges, watch_jobs
from bot.outbox import OutboxSender
from bot.ratelimit import Limits, SpendHandlerSends
from bot.replicas import Replica
from bot.room_answers import RoomAnsweringWorker, RoomAnswers
from bot.sender_session import build_sender_bot
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from bot.telegram_retry import TOKEN_REFUSED, TelegramUnusable, check_telegram
from bot.throttle import Throttle, build_throttle
from bot.webhook import WebhookReceiver, webhook_app
from domain.use_cases.waiting_room import RoomSettings
from scheduler.jobs import DeadlineJobs, DeskJobs, RunningJobs, WaitingRoomJobs, build_scheduler, stop_scheduler

log = logging.getLogger(__name__)

STOP_UPDATES_S = 6.0  # the updates in hand get this long to finish at a stop; the whole stop stays under 10 s
STOP_JOBS_S = 2.0


async def run_bot(settings: Settings) -> None:
    """Runs until SIGINT/SIGTERM. Raises :class:`~bot.config.ConfigError` for a missing setting and
    :class:`TelegramUnusable` (one line to print) when Telegram refuses the token or cannot be reached at start;
    every client session is closed either way."""
    token = settings.require_token()
    secret = settings.require_webhook_secret() if settings.webhook_url else None
    limit_malloc_arenas()  # before the pool's threads start
    bot = build_bot(settings, token)
    try:
        await _serve(settings, bot, secret)
    except TelegramUnauthorizedError:  # the token was revoked while running
        raise TelegramUnusable(TOKEN_REFUSED) from None
    except TelegramNetworkError as error:  # the network went away during the start, after getMe
        raise TelegramUnusable(f"cannot reach {settings.telegram_api_url}: {error.message}") from None
    finally:
        await bot.session.close()
    log.info("stopped")


run_polling = run_bot  # the name the CLI and the tests knew


async def _serve(settings: Settings, bot: Bot, secret: str | None) -> None:
    engine = create_engine(settings.database_url)
    replica = Replica(engine)
    throttle: Throttle | None = None
    try:
        await upgrade(engine)
        await replica.connect()
        sessions = session_factory(engine)
        throttle = build_throttle(settings.redis_url)  # shared by the replicas through Redis when it is set
        dp = build_dispatcher(settings, sessions, throttle=throttle)
        me = await check_telegram(bot, settings.telegram_api_url)  # before anything else talks to Telegram
        log.info("running as @%s (id %s), replica %s", me.username, me.id, replica.id)
        await _run(settings, bot, dp, sessions, engine, replica, secret)
    finally:
        if throttle is not None:
            await throttle.close()
        await replica.close()
        await engine.dispose()


async def _run(
    settings: Settings,
    bot: Bot,
    dp: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    replica: Replica,
    secret: str | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows: Ctrl-C then raises KeyboardInterrupt
            loop.add_signal_handler(signum, stop.set)
    inbox = Inbox(sessions, dp["clock"], replica)
    answers = RoomAnswers(bot, sessions, dp["i18n"], dp["clock"])  # a hot date's Book is answered on receipt
    worker = RoomAnsweringWorker(dp, bot, inbox, answers, uows=lambda: SqlUnitOfWork(sessions, dp["catalog_cache"]))
    watch = BotApiWatch()
    bot.session.middleware(watch)
    readiness = Readiness(engine, settings.redis_url, bot, watch)
    workflow = {**dp.workflow_data, "dispatcher": dp, "bots": [bot]}
    await dp.emit_startup(bot=bot, **workflow)
    receiver: WebhookReceiver | None = None
    site: web.AppRunner | None = None
    if settings.webhook_url and secret:
        receiver = WebhookReceiver(inbox, worker, bot, secret)
        app = webhook_app(receiver, settings.webhook_path)
        add_health_routes(app, readiness)
        site = await _listen(app, settings.webhook_listen)
        await bot.set_webhook(  # every replica says the same: harmless to repeat
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=dp.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        log.info("webhook mode: %s, listening on %s", settings.webhook_url, settings.webhook_listen)
    elif settings.metrics_listen:
        site = await start_health_server(settings.metrics_listen, readiness)
    log.info("starting: api=%s database=%s", settings.telegram_api_url, engine.url.render_as_string())
    # Everything built so far (aiogram's and pydantic's models, the routers) lives as long as the process: out of the
    # collector's sight, a full collection no longer stalls the loop for a scan of it (measured in bench/outbox.py).
    gc.freeze()
    duties = Duties(settings, bot, dp, sessions, inbox, worker, replica, watch)
    tasks = [
        asyncio.create_task(worker.run(stop), name="inbox-sweep"),
        asyncio.create_task(duties.run(stop), name="leader-duties"),
        asyncio.create_task(StateGauges(sessions).run(stop), name="state-gauges"),
    ]
    try:
        done, _ = await asyncio.wait([*tasks, asyncio.ensure_future(stop.wait())], return_when="FIRST_COMPLETED")
        for task in done:
            if task in tasks and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        if receiver is not None:
            receiver.accepting = False  # Telegram sends what comes now again, to another replica
        await worker.stop(STOP_UPDATES_S)
        await asyncio.gather(*tasks, return_exceptions=True)  # the duties finish their own stop
        if site is not None:
            await site.cleanup()
        await readiness.close()
        await dp.emit_shutdown(bot=bot, **workflow)
        await dp.storage.close()


async def _listen(app: web.Application, listen: str) -> web.AppRunner:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    return runner


class Duties:
    """What only the leader does (bot/replicas.py): poll (without a webhook), send the outbox, run the jobs."""

    def __init__(
        self,
        settings: Settings,
        bot: Bot,
        dp: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Inbox,
        worker: InboxWorker,
        replica: Replica,
        watch: BotApiWatch,
    ) -> None:
        self.settings, self.bot, self.dp, self.sessions = settings, bot, dp, sessions
        self.inbox, self.worker, self.replica, self.watch = inbox, worker, replica, watch
        self.limits = Limits()  # the sender's, spent by the handlers' own messages too
        bot.session.middleware(SpendHandlerSends(self.limits))

    async def run(self, stop: asyncio.Event) -> None:
        while await self.replica.lead_while(stop):
            log.info(
                "replica %s leads: %s",
                self.replica.id,
                "sender and jobs" + ("" if self.settings.webhook_url else ", polling"),
            )
            await self._term(stop)
            if stop.is_set():
                await self.replica.step_down()
                return
            log.warning("replica %s no longer leads; its duties stopped", self.replica.id)

    async def _term(self, stop: asyncio.Event) -> None:
        """One term of leadership: the duties run until it is lost or the process stops."""
        settings, dp = self.settings, self.dp
        sender = OutboxSender(
            build_sender_bot(settings, self.bot.token),  # its own session, without the blocking retry middleware
            self.sessions,
            dp["i18n"],
            dp["clock"],
            payment_provider_token=(
                settings.payment_provider_token.get_secret_value() if settings.payment_provider_token else None
            ),
            desk_timezone=settings.desk_timezone,
            catalog_cache=dp["catalog_cache"],
            limits=self.limits,
        )

        sender.bot.session.middleware(self.watch)

        def uows() -> SqlUnitOfWork:
            return SqlUnitOfWork(self.sessions, dp["catalog_cache"])

        running = RunningJobs()
        scheduler = build_scheduler(
            sender.drain,
            settings.scheduler_interval_s,
            DeadlineJobs(uows, dp["clock"]),
            desk_jobs=DeskJobs(uows, dp["clock"], settings.desk),
            room_jobs=WaitingRoomJobs(uows, dp["clock"], RoomSettings(desk_chat_id=settings.operator_chat_id)),
            running=running,
        )
        watch_jobs(scheduler)
        ended = asyncio.Event()
        scheduler.start()
        watchers: list[asyncio.Task[Any]] = [asyncio.create_task(self.replica.wait_lost(stop), name="leadership")]
        # the descriptions and the organiser menus, where changed: by the leader only, beside its duties
        profile = asyncio.create_task(
            update_bot_profile(self.bot, self.sessions, dp["i18n"], dp["clock"], dp["organiser_menus"]),
            name="bot-profile",
        )
        if not settings.webhook_url:
            polling = InboxPolling(self.bot, self.inbox, self.worker, dp.resolve_used_update_types())
            watchers.append(asyncio.create_task(polling.run(ended), name="polling"))
        try:
            done, _ = await asyncio.wait([*watchers, asyncio.ensure_future(stop.wait())], return_when="FIRST_COMPLETED")
            for task in done:
                if task in watchers and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            ended.set()  # polling stops at once (its open getUpdates is cancelled; a batch being stored is kept)
            watchers[0].cancel()
            profile.cancel()
            await asyncio.gather(*watchers, profile, return_exceptions=True)
            await asyncio.gather(
                sender.stop(STOP_UPDATES_S),  # the messages in flight are finished and marked: not sent again
                stop_scheduler(scheduler, running, STOP_JOBS_S),  # the job runs in hand finish first
            )
            await sender.bot.session.close()
