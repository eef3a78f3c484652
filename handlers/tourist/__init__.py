"""The tourists' side, in their private chat with the bot: start and menu, browsing, booking, orders, paying,
rating, profile and questions.

:data:`router` holds every tourist router, filtered once to private chats (messages and button presses). Payment
updates come first, so no conversation's state swallows them; a pre-checkout query is not a chat update, so the
private-chat filter does not apply to it.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.tourist import (
    below,
    booking,
    browse,
    orders,
    payments,
    profile,
    question,
    rating,
    start,
    waiting_room,
)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
router.include_routers(
    payments.router,  # money first: no conversation's state may swallow a payment update
    start.router,
    browse.router,
    booking.router,
    waiting_room.router,
    orders.router,
    profile.router,
    question.router,
    rating.router,
    below.router,
)
