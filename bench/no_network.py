"""A Bot API session without a network, for the benches: it serializes each request as aiogram's HTTP session does
(``prepare_value`` on every field), answers with a valid canned result as JSON and parses it through aiogram's own
``check_response``; it keeps each chat's messages as the bot last rendered them, so a simulated user can press the
newest keyboard. It imports aiogram only: bench/memory.py's bare process uses it without importing the application.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiogram import Bot, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

TOKEN = "123456:AAE_bench-token-for-tripdesk-0000000"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Tripdesk", "username": "tripdesk_bench_bot"}


class NoNetworkSession(BaseSession):
    """Serializes a request as aiogram's HTTP session does and answers with a valid canned result, parsed by
    aiogram's ``check_response``; keeps each chat's messages as the bot last rendered them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.by_method: dict[str, int] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_id: dict[int, int] = {}

    def next_message_id(self, chat_id: int) -> int:
        self._next_id[chat_id] = self._next_id.get(chat_id, 0) + 1
        return self._next_id[chat_id]

    def keyboard_message(self, chat_id: int) -> dict[str, Any]:
        for message in reversed(self.messages.get(chat_id, {}).values()):
            if message.get("reply_markup", {}).get("inline_keyboard"):
                return message
        raise RuntimeError(f"no bot message with an inline keyboard in chat {chat_id}")

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never downloads
        raise NotImplementedError
        yield b""

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        files: dict[str, Any] = {}
        params = {}
        for key, value in method.model_dump(warnings=False).items():
            value = self.prepare_value(value, bot=bot, files=files)
            if value:
                params[key] = value
        self.calls += 1
        self.by_method[method.__api_method__] = self.by_method.get(method.__api_method__, 0) + 1
        result = self._answer(method, params)
        response = self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        return response.result

    def _answer(self, method: TelegramMethod[Any], params: dict[str, Any]) -> Any:
        name = method.__api_method__
        returning = getattr(method.__returning__, "__name__", str(method.__returning__))
        if name == "copyMessage":
            return {"message_id": self.next_message_id(int(params["chat_id"]))}
        if name.startswith(("send", "edit")) and "chat_id" in params and "Message" in returning:
            chat_id = int(params["chat_id"])
            chat = self.messages.setdefault(chat_id, {})
            edit = name.startswith("edit") and "message_id" in params
            message_id = int(params["message_id"]) if edit else self.next_message_id(chat_id)
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "first_name": "Tess"},
                "from": BOT_USER,
                "text": params.get("text") or params.get("caption") or "",
            }
            if "reply_markup" in params:
                markup = json.loads(params["reply_markup"])
                if "inline_keyboard" in markup:
                    message["reply_markup"] = markup
            chat.pop(message_id, None)
            chat[message_id] = message  # the newest rendering last
            return message
        if returning == "ForumTopic":
            return {"message_thread_id": self.next_message_id(int(params["chat_id"])), "name": params["name"]}
        if returning == "bool" or "bool" in returning.lower():
            return True
        raise RuntimeError(f"the bench's session does not answer {name} (returning {returning})")


def light_bot(session: NoNetworkSession) -> Bot:
    return Bot(token=TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def same_calls_router() -> Router:
    """The bare reference's screens: the Bot API calls the bot's screens make (``answerCallbackQuery`` +
    ``editMessageText`` with a small keyboard for a press, ``sendMessage`` with one for a message), no logic."""
    router = Router()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Tallinn", callback_data="b:1:::0:when")],
            [InlineKeyboardButton(text="« Back", callback_data="m:menu")],
        ]
    )
    text = (
        "<b>Islands cruise</b>\nThree hours among the islands of Tallinn Bay.\n\nMeeting point: Pier 3\n"
        "Adult 45.00 EUR · Child 25.00 EUR\n\nUpcoming dates:"
    )

    @router.message()
    async def screen_message(message: Message) -> None:
        await message.answer(text, reply_markup=keyboard)

    @router.callback_query()
    async def screen_press(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(text, reply_markup=keyboard)

    return router
