"""Showing a screen: edit the message a button belongs to, or send a new one when that is impossible (or when the
pressed message must stay: :func:`show_below`)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

# how a pressed button's screen appears: :func:`show` (in place) or :func:`show_below`; the id of its message
Present = Callable[[CallbackQuery, str, InlineKeyboardMarkup], Awaitable[int | None]]


async def show(target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> int | None:
    """A button press edits its own message in place; a typed message gets a new answer. Returns the id of the
    message that shows the screen (None only when Telegram did not say).

    Editing to identical content is not an error for us (Telegram answers "message is not modified"); a message
    that can no longer be edited (too old, deleted, inaccessible) gets a fresh one instead, in the same chat (and
    forum topic) — a private chat for a tourist, the operator group for the desk.
    """
    if isinstance(target, CallbackQuery):
        message = target.message
        if isinstance(message, Message):
            try:
                await message.edit_text(text, reply_markup=markup)
                return message.message_id
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return message.message_id
        chat_id = message.chat.id if message is not None else target.from_user.id
        thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
        assert target.bot is not None, "an update fed through the Dispatcher is bound to its bot"
        sent = await target.bot.send_message(chat_id, text, reply_markup=markup, message_thread_id=thread)
        return sent.message_id
    return (await target.answer(text, reply_markup=markup)).message_id


async def show_below(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> int | None:
    """A new message under the pressed one, which stays as it is (a confirmation, a decline, a ticket...)."""
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    assert query.bot is not None, "an update fed through the Dispatcher is bound to its bot"
    return (await query.bot.send_message(chat_id, text, reply_markup=markup)).message_id


async def answer_query(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Every callback query is answered (Telegram keeps a spinner otherwise); late answers are harmless."""
    with contextlib.suppress(TelegramBadRequest):
        await query.answer(text=text[:200] if text else None, show_alert=alert)
