"""Organisers answer booking requests by replying to the bot's message (+ / − and a reason) or with its buttons.

A reply to any other message passes on to the other routers. Only the organiser's own chat may answer; an answer to
an order that no longer waits for one gets the order's state; an unclear reply is not guessed.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from domain.errors import InvalidTransition, NotAllowed, NotFound
from domain.model.orders import BookingStatus, format_order_code
from domain.ports import Clock, UnitOfWork
from domain.rules.replies import OrganiserReply, Verdict, parse_organiser_reply
from domain.use_cases.confirmation import (
    Answered,
    answer_booking_request,
    order_of_request,
)
from handlers.organiser.callbacks import RequestAction, RequestCb
from handlers.settings import HandlerSettings
from handlers.status_words import organiser_booking_words
from handlers.tourist.messaging import answer_query
from handlers.ui import Translator

router = Router(name=__name__)


def outcome_text(answered: Answered, tr: Translator) -> str:
    _ = tr.gettext
    code = format_order_code(answered.order.code)
    match answered.verdict:
        case Verdict.YES:
            return "✅ " + _("Booking {code} confirmed. We have told the tourist.").format(code=code)
        case Verdict.NO:
            return "❌ " + _("Booking {code} declined. We have told the tourist.").format(code=code)
    return "🤔 " + _(
        "I could not tell whether that is a yes or a no. Reply to the booking request with + to confirm, or − and "
        "a reason to decline. Our team has your message too."
    )


async def _answer(
    uow: UnitOfWork,
    order_id: int,
    chat_id: int,
    reply: OrganiserReply,
    text: str,
    clock: Clock,
    settings: HandlerSettings,
    tr: Translator,
) -> tuple[str, bool]:
    """The text to show the organiser, and whether the request is settled (its buttons can go)."""
    _ = tr.gettext
    try:
        answered = await answer_booking_request(
            uow, order_id, chat_id, reply, text, clock.now(), settings.payments_enabled
        )
    except (NotAllowed, NotFound):
        return _("Only the organiser of this event can answer this booking request."), False
    except InvalidTransition as error:
        async with uow:
            order = await uow.orders.get(order_id)
        booking = BookingStatus(str(error.data.get("booking", order.booking if order else "cancelled")))
        code = format_order_code(order.code) if order else ""
        return _("Booking {code} is no longer awaiting an answer: {state}.").format(
            code=code, state=organiser_booking_words(tr, booking)
        ), True
    return outcome_text(answered, tr), answered.verdict is not Verdict.UNCLEAR


async def _drop_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)


@router.message(F.reply_to_message.from_user.is_bot, F.reply_to_message.as_("replied"))
async def on_request_reply(
    message: Message,
    replied: Message,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    if replied.from_user is None or replied.from_user.id != bot.id:
        raise SkipHandler
    order_id = await order_of_request(uow, message.chat.id, replied.message_id, replied.text or replied.caption)
    if order_id is None:
        raise SkipHandler  # a reply to some other message of ours: not a booking answer
    text = message.text or message.caption or ""
    reply = parse_organiser_reply(text)
    answer, settled = await _answer(uow, order_id, message.chat.id, reply, text, clock, settings, tr)
    await message.reply(answer)
    if settled:
        await _drop_buttons(bot, message.chat.id, replied.message_id)


@router.callback_query(RequestCb.filter())
async def on_request_button(
    query: CallbackQuery,
    callback_data: RequestCb,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    message = query.message
    if message is None:
        await answer_query(query, tr.gettext("This button is no longer valid. Please use the menu."), alert=True)
        return
    verdict = Verdict.YES if callback_data.action is RequestAction.CONFIRM else Verdict.NO
    label = "✅" if verdict is Verdict.YES else "❌"
    answer, settled = await _answer(
        uow, callback_data.order, message.chat.id, OrganiserReply(verdict), label, clock, settings, tr
    )
    await answer_query(query, answer[:200], alert=not settled)
    if settled and isinstance(message, Message):
        who = html.quote(query.from_user.full_name)
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(f"{message.html_text}\n\n{answer} ({who})", reply_markup=None)
