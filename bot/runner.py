"""The running bot: migrations, then long polling through the inbox (no update lost, see bot/inbox.py), with the
scheduler draining the outbox and running the deadline jobs (nudges, pay reminders, expiry, session reminders,
participant lists) alongside, and the per-user throttle (bot/throttle.py) in front of the handlers.

Telegram is asked (``getMe``) before anything else talks to it: a refused token or an unreachable server ends the
start with one line (:class:`~bot.telegram_retry.TelegramUnusable`, printed by the CLI) instead of a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.inbox import Inbox, InboxPolling
from bot.outbox import OutboxSender
from bot.sender_session import build_sender_bot
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from bot.telegram_retry import TOKEN_REFUSED, TelegramUnusable, check_telegram
from bot.throttle import Throttle
from scheduler.jobs import DeadlineJobs, DeskJobs, RunningJobs, build_scheduler, stop_scheduler

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    """Runs until SIGINT/SIGTERM. Raises :class:`TelegramUnusable` (one line to print) when Telegram refuses the
    token or cannot be reached at start; every client session is closed either way."""
    token = settings.require_token()
    bot = build_bot(settings, token)
    try:
        await _serve(settings, bot)
    except TelegramUnauthorizedError:  # the token was revoked while running
        raise TelegramUnusable(TOKEN_REFUSED) from None
    except TelegramNetworkError as error:  # the network went away during the start, after getMe
        raise TelegramUnusable(f"cannot reach {settings.telegram_api_url}: {error.message}") from None
    finally:
        await bot.session.close()
    log.info("stopped")


async def _serve(settings: Settings, bot: Bot) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        dp = build_dispatcher(settings, sessions, throttle=Throttle())
        me = await check_telegram(bot, settings.telegram_api_url)  # before anything else talks to Telegram
        log.info("running as @%s (id %s)", me.username, me.id)
        await _poll(settings, bot, dp, sessions, engine.url.render_as_string())
    finally:
        await engine.dispose()


async def _poll(
    settings: Settings, bot: Bot, dp: Dispatcher, sessions: async_sessionmaker[AsyncSession], database: str
) -> None:
    sender = OutboxSender(
        build_sender_bot(settings, bot.token),  # its own session, without the blocking retry middleware
        sessions,
        dp["i18n"],
        dp["clock"],
        payment_provider_token=(
            settings.payment_provider_token.get_secret_value() if settings.payment_provider_token else None
        ),
        desk_timezone=settings.desk_timezone,
        catalog_cache=dp["catalog_cache"],
    )

    def uows() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, dp["catalog_cache"])

    running = RunningJobs()
    scheduler = build_scheduler(
        sender.drain,
        settings.scheduler_interval_s,
        DeadlineJobs(uows, dp["clock"]),
        desk_jobs=DeskJobs(uows, dp["clock"], settings.desk),
        running=running,
    )
    log.info("starting: api=%s database=%s", settings.telegram_api_url, database)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows: Ctrl-C then raises KeyboardInterrupt
            loop.add_signal_handler(signum, stop.set)
    workflow = {**dp.workflow_data, "dispatcher": dp, "bots": [bot]}
    await dp.emit_startup(bot=bot, **workflow)
    scheduler.start()
    # Everything built so far (aiogram's and pydantic's models, the routers) lives as long as the process: out of the
    # collector's sight, a full collection no longer stalls the loop for a scan of it (measured in bench/outbox.py).
    gc.freeze()
    try:
        polling = InboxPolling(dp, bot, Inbox(sessions, dp["clock"]), dp.resolve_used_update_types())
        await polling.run(stop)
    finally:
        await sender.stop()  # the messages in flight are finished and marked, so a restart does not send them again
        await stop_scheduler(scheduler, running)  # the job runs in hand finish first
        await sender.bot.session.close()
        await dp.emit_shutdown(bot=bot, **workflow)
        await dp.storage.close()
