"""The stars under the rating request after a session: the tourist rates their own order once, 1 to 5.

The button is re-checked on the server (own order, stars in range, the session has taken place); the first rating
counts, a second press changes nothing. The rating message then shows the stars and loses its buttons.
"""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from domain.errors import InvalidRating, InvalidTransition, NotAllowed
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.deadlines import rate_order
from handlers.tourist.callbacks import RateCb
from handlers.tourist.messaging import answer_query
from handlers.ui import Translator

router = Router(name=__name__)


@router.callback_query(RateCb.filter())
async def on_order_rate(
    query: CallbackQuery,
    callback_data: RateCb,
    uow: UnitOfWork,
    user: User | None,
    tr: Translator,
    clock: Clock,
) -> None:
    _ = tr.gettext
    if user is None:
        await answer_query(query, _("This button is no longer valid. Please use the menu."), alert=True)
        return
    try:
        rated = await rate_order(uow, user.id, callback_data.order, callback_data.stars, clock.now())
    except (NotAllowed, InvalidRating):
        await answer_query(query, _("This button is no longer valid. Please use the menu."), alert=True)
        return
    except InvalidTransition:
        await answer_query(query, _("This booking cannot be rated."), alert=True)
        return
    stars = "⭐" * rated.stars
    if rated.new:
        await answer_query(query, _("Thank you for your rating!"))
    else:
        await answer_query(query, _("You have already rated this booking: {stars}").format(stars=stars))
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        line = _("Your rating: {stars}").format(stars=stars)
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(f"{message.html_text}\n\n{line}", reply_markup=None)
