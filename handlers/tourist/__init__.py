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
    area,
    below,
    blocking,
    booking,
    browse,
    calendar,
    checkout,
    favourites,
    hotel,
    inline_mode,
    offers,
    orders,
    payments,
    photos,
    points,
    profile,
    question,
    rating,
    rebooking,
    rebooking_payments,
    referral,
    start,
    waiting_room,
)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
router.include_routers(
    rebooking_payments.router,  # a date change's difference (its own invoice payload), before the orders' money
    payments.router,  # money first: no conversation's state may swallow a payment update
    referral.router,  # /start ref-…: a friend's invitation (issue 15), before start's other deep links
    start.router,
    browse.router,
    favourites.router,  # ☆ on the event card, My favourites (issue 15)
    inline_mode.router,  # @bot <words> in any chat: inline queries only (no chat to filter)
    booking.router,
    checkout.router,  # the booking summary's points and discount code (issue 15)
    waiting_room.router,
    orders.router,
    rebooking.router,  # "Change date" under an order
    profile.router,
    points.router,  # Profile → My points (issue 15)
    offers.router,  # Profile → Offers, "Stop offers" under an offer (issue 15)
    question.router,
    rating.router,
    hotel.router,  # the hotel page, the area guide, photos and the calendar file (issue 15)
    area.router,
    photos.router,
    calendar.router,
    below.router,
    blocking.router,  # my_chat_member only: a guest blocks or unblocks the bot
)
