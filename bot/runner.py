"""The running bot: migrations, then long polling with every update handled before it is confirmed."""

from __future__ import annotations

import logging

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    token = settings.require_token()
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    bot = build_bot(settings, token)
    dp = build_dispatcher(settings, session_factory(engine))
    log.info("starting: api=%s database=%s", settings.telegram_api_url, engine.url.render_as_string())
    try:
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(), handle_signals=True)
    finally:
        await bot.session.close()
        await engine.dispose()
