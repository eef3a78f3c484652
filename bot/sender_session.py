"""The outbox sender's own Bot: its own HTTP session to the same API server, without the retry middleware.

The bot that answers updates retries a 429 by sleeping out ``retry_after`` inside the request
(:mod:`bot.telegram_retry`): right for a reply someone is waiting for, wrong for the sender, where it would hold
up every other chat's message. The sender sees each 429 and network error itself and defers only that chat
(:mod:`bot.outbox`). Its own connection pool also keeps its requests in flight from queueing behind the updates'.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.config import Settings


def build_sender_bot(settings: Settings, token: str) -> Bot:
    """The same API server, token and defaults as :func:`bot.app.build_bot`, with no request middleware."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
