"""bot/callback_answers.py: a Book press's toast as one JSON POST to the Bot API server the bot is configured with;
a refusal or an unreachable server is logged and reported as False, never raised; a bot on another session
(the tests' recording ones) is answered through aiogram."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.callback_answers import CallbackAnswers
from tests.telegram.recorder import RecordingSession

TOKEN = "42:TEST-callback-answers-token"


class Api:
    """A Bot API server that records what it was asked and answers as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []
        self.reply: tuple[int, dict[str, Any]] = (200, {"ok": True, "result": True})

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, request.content_type, json.loads(await request.read())))
        status, body = self.reply
        return web.json_response(body, status=status)


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    fake = Api()
    app = web.Application()
    app.router.add_post("/{tail:.*}", fake.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield fake, str(server.make_url(""))
    finally:
        await server.close()


async def answer_over_aiohttp(base: str, query_id: str, text: str) -> bool:
    """One answer by a bot on aiogram's aiohttp session to the Bot API server at ``base``; both sessions closed."""
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    answers = CallbackAnswers(bot, in_flight=4)
    try:
        return await answers.answer(query_id, text)
    finally:
        await answers.close()
        await bot.session.close()


async def test_the_answer_is_one_json_post_to_the_configured_server(api: tuple[Api, str]) -> None:
    fake, base = api
    assert await answer_over_aiohttp(base, "query-1", "⏳ Вы в очереди") is True
    assert fake.calls == [
        (
            f"/bot{TOKEN}/answerCallbackQuery",
            "application/json",
            {"callback_query_id": "query-1", "text": "⏳ Вы в очереди"},
        )
    ]


async def test_a_refused_answer_is_logged_not_raised(api: tuple[Api, str], caplog: pytest.LogCaptureFixture) -> None:
    fake, base = api
    fake.reply = (400, {"ok": False, "error_code": 400, "description": "Bad Request: query is too old"})
    caplog.set_level(logging.INFO, "bot.callback_answers")
    assert await answer_over_aiohttp(base, "query-old", "late") is False
    assert "query is too old" in caplog.text


async def test_an_unreachable_server_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "bot.callback_answers")
    assert await answer_over_aiohttp("http://127.0.0.1:9", "query-2", "hello") is False  # the discard port
    assert "could not be answered" in caplog.text


async def test_another_session_is_answered_through_aiogram() -> None:
    recorder = RecordingSession()
    bot = Bot(TOKEN, session=recorder)
    answers = CallbackAnswers(bot, in_flight=4)
    assert await answers.answer("query-3", "toast") is True
    await answers.close()
    [call] = [r for r in recorder.requests if r.method == "answerCallbackQuery"]
    assert (call.get("callback_query_id"), call.get("text")) == ("query-3", "toast")
    assert recorder.violations == []
