"""The running bot: migrations, then long polling, with the scheduler draining the outbox alongside."""

from __future__ import annotations

import logging

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.outbox import OutboxSender
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from scheduler.jobs import build_scheduler

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    token = settings.require_token()
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    bot = build_bot(settings, token)
    sessions = session_factory(engine)
    dp = build_dispatcher(settings, sessions)
    scheduler = build_scheduler(
        OutboxSender(
            bot,
            sessions,
            dp["i18n"],
            dp["clock"],
            payment_provider_token=(
                settings.payment_provider_token.get_secret_value() if settings.payment_provider_token else None
            ),
        ),
        settings.scheduler_interval_s,
    )
    log.info("starting: api=%s database=%s", settings.telegram_api_url, engine.url.render_as_string())
    scheduler.start()
    try:
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(), handle_signals=True)
    finally:
        scheduler.shutdown(wait=False)
        await bot.session.close()
        await engine.dispose()
