"""The ticket code with a "Copy code" button (``copy_text``, Bot API 7.11): one tap puts the code on the clipboard."""

from __future__ import annotations

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from handlers.ui import Translator

COPY_TEXT_LIMIT = 256  # Telegram's limit of the copied text


def copy_code_button(code: str, tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text="📋 " + tr.gettext("Copy code"), copy_text=CopyTextButton(text=code[:COPY_TEXT_LIMIT])
    )


def with_copy_code(markup: InlineKeyboardMarkup | None, code: str, tr: Translator) -> InlineKeyboardMarkup:
    """``markup`` with the copy button as its first row."""
    rows = list(markup.inline_keyboard) if markup is not None else []
    return InlineKeyboardMarkup(inline_keyboard=[[copy_code_button(code, tr)], *rows])
