"""The running bot: migrations, then long polling through the inbox (no update lost, see bot/inbox.py), with the
scheduler draining the outbox and running the deadline jobs (nudges, pay reminders, expiry, session reminders,
participant lists) alongside."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.inbox import Inbox, InboxPolling
from bot.outbox import OutboxSender
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from scheduler.jobs import DeadlineJobs, DeskJobs, build_scheduler

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    token = settings.require_token()
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    bot = build_bot(settings, token)
    sessions = session_factory(engine)
    dp = build_dispatcher(settings, sessions)
    sender = OutboxSender(
        bot,
        sessions,
        dp["i18n"],
        dp["clock"],
        payment_provider_token=(
            settings.payment_provider_token.get_secret_value() if settings.payment_provider_token else None
        ),
    )

    def uows() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    scheduler = build_scheduler(
        sender.drain,
        settings.scheduler_interval_s,
        DeadlineJobs(uows, dp["clock"]),
        desk_jobs=DeskJobs(uows, dp["clock"], settings.desk),
    )
    log.info("starting: api=%s database=%s", settings.telegram_api_url, engine.url.render_as_string())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows: Ctrl-C then raises KeyboardInterrupt
            loop.add_signal_handler(signum, stop.set)
    workflow = {**dp.workflow_data, "dispatcher": dp, "bots": [bot]}
    me = await bot.me()  # checks the token before anything else talks to Telegram
    log.info("running as @%s (id %s)", me.username, me.id)
    await dp.emit_startup(bot=bot, **workflow)
    scheduler.start()
    try:
        polling = InboxPolling(dp, bot, Inbox(sessions, dp["clock"]), dp.resolve_used_update_types())
        await polling.run(stop)
    finally:
        await sender.stop()  # the message in hand is finished and marked, so a restart does not send it again
        scheduler.shutdown(wait=False)
        await dp.emit_shutdown(bot=bot, **workflow)
        await dp.storage.close()
        await bot.session.close()
        await engine.dispose()
    log.info("stopped")
