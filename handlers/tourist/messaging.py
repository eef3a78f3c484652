"""Showing a screen: edit the message a button belongs to, or send a new one when that is impossible."""

from __future__ import annotations

import contextlib

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A button press edits its own message in place; a typed message gets a new answer.

    Editing to identical content is not an error for us (Telegram answers "message is not modified"); a message
    that can no longer be edited (too old, deleted, inaccessible) gets a fresh one instead.
    """
    if isinstance(target, CallbackQuery):
        message = target.message
        if isinstance(message, Message):
            try:
                await message.edit_text(text, reply_markup=markup)
                return
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return
            await target.bot.send_message(target.from_user.id, text, reply_markup=markup)
            return
        await target.bot.send_message(target.from_user.id, text, reply_markup=markup)
        return
    await target.answer(text, reply_markup=markup)


async def answer_query(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Every callback query is answered (Telegram keeps a spinner otherwise); late answers are harmless."""
    with contextlib.suppress(TelegramBadRequest):
        await query.answer(text=text[:200] if text else None, show_alert=alert)
