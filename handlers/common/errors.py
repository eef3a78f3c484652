"""The backstop: any exception a handler lets through is logged with the update and the user gets an apology."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from handlers.ui import Languages

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.error()
async def on_error(event: ErrorEvent, i18n: Languages) -> None:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    user = update.event.from_user if hasattr(update.event, "from_user") else None
    tr = i18n.translator(i18n.best(user.language_code if user else None))
    text = tr.gettext("Sorry, something went wrong on our side. Please try again in a moment.")
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == ChatType.PRIVATE:
            await update.message.answer(text)
