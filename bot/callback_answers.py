"""``answerCallbackQuery`` on a lean path: one small JSON POST on an aiohttp session of its own (issue 13).

A hot on-sale's Book presses are answered the moment they arrive (bot/room_answers.py): 10,000 within a few seconds
at bench/surge.py's size, from the one process that also stores them. Through aiogram each answer builds its method
model, runs the session's middlewares, encodes a multipart form and validates the reply into a ``Response[bool]``:
0.23 ms of CPU per answer on this machine, against 0.11 ms for the same request as JSON with aiohttp alone (a local
server, 32 in flight, 5,000 answers); in the 10,000-tourist surge the answers were the bot's largest single cost (8 of
its event loop's 27 busy seconds, pyinstrument through ``bench/surge.py --profile-bot``). An answer needs none of it:
a toast, and nothing read back but ``ok``. Nor does it miss the session's middlewares: the retry (a toast retried
seconds later is of no use, and the tourist's queue message follows anyway), the handlers' message budget (an answer
is not a message), and RoomAnswers' own (which lets exactly these answers through).

Written here because aiogram has no cheaper way to make one call; a bot whose session is not aiogram's aiohttp one
(the tests' recording sessions) is answered through aiogram as before.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0  # an answer later than this is of no use: Telegram has stopped the button's spinner
_JSON = {"Content-Type": "application/json"}


class CallbackAnswers:
    """Answers callback queries with a toast (see the module's docstring); never raises for a failed answer."""

    def __init__(self, bot: Bot, in_flight: int) -> None:
        self.bot = bot
        self.in_flight = in_flight
        self._url = bot.session.api.api_url(bot.token, "answerCallbackQuery")
        self._lean = isinstance(bot.session, AiohttpSession)
        self._http: aiohttp.ClientSession | None = None

    async def answer(self, query_id: str, text: str) -> bool:
        """Whether Telegram took the answer (False: refused, or not reachable; logged)."""
        try:
            if not self._lean:
                return await self.bot.answer_callback_query(query_id, text=text)
            async with self._session().post(
                self._url, data=json.dumps({"callback_query_id": query_id, "text": text}), headers=_JSON
            ) as response:
                reply = await response.json(content_type=None)
            if not isinstance(reply, dict) or reply.get("ok") is not True:
                description = reply.get("description") if isinstance(reply, dict) else None
                log.info("a callback query was not answered: %s %s", response.status, description)
                return False
            return True
        except (TelegramAPIError, aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            log.info("a callback query could not be answered: %s", error)
            return False

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.in_flight),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
            await asyncio.sleep(0)  # let the connector's transports close before the loop may end
