"""The pieces messages about an order are built from: whose language, the summary lines, the answers to the
organiser's questions, the button that opens the order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram import html
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import Organiser, localized
from domain.model.messages import OutboxKind
from domain.model.orders import Order
from domain.rules.rebooking import offer_rebooking
from handlers.notifications import AfterSend, RenderContext
from handlers.read_models import OrderView, load_order
from handlers.tourist.callbacks import Below, BelowCb
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.orders import order_card_kb, render_order_card
from handlers.ui import Languages, Translator, button

REDRAW_ATTEMPTS = 4
REDRAW_PAUSE_MAX_S = 10  # a longer pause than this is not waited out in the sender's slot


def tourist_tr(view: OrderView, i18n: Languages) -> Translator:
    return i18n.translator(view.tourist_language)


def organiser_tr(view: OrderView, i18n: Languages) -> Translator:
    return i18n.translator(view.organiser_language)


def tickets(order: Order, tr: Translator) -> str:
    """``Adult × 2, Child × 1``"""
    return ", ".join(f"{html.quote(ticket_type_name(i.ticket_type, tr))} × {i.quantity}" for i in order.items)


def summary(view: OrderView, tr: Translator) -> list[str]:
    """Title, date and time in the region, tickets and total: the lines every message about an order has."""
    total = tr.money(view.order.total_minor, view.order.currency)
    return [
        f"<b>{html.quote(localized(view.event.title, tr.language))}</b>",
        f"🗓 {tr.zoned(view.session.starts_at, view.region.timezone)}",
        f"🎟 {tickets(view.order, tr)} · {total}",
    ]


def answer_lines(organiser: Organiser, order: Order, tr: Translator) -> list[str]:
    """The tourist's answers to the organiser's questions, in the reader's language (choices by their text)."""
    lines = []
    for question in organiser.all_questions:
        answer = order.answers.get(question.id)
        if not answer:
            continue
        choice = next((c for c in question.choices if c.id == answer), None)
        shown = localized(choice.text, tr.language) if choice else answer
        lines.append(f"❓ {html.quote(localized(question.text, tr.language))} <i>{html.quote(shown)}</i>")
    return lines


def order_kb(view: OrderView, tr: Translator) -> InlineKeyboardMarkup:
    """The tourist's way to their order card, opened below the message it is under (which stays)."""
    opened = button("🎟 " + tr.gettext("Open the order"), BelowCb(to=Below.ORDER, id=view.id))
    return InlineKeyboardMarkup(inline_keyboard=[[opened]])


async def edit_sent(rc: RenderContext, key: str, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit every delivered message under the dedup ``key`` (see ``OutboxRepository.sent_messages``) to ``text``:
    a message whose truth changed is redrawn, never left with live buttons. One that is gone or unchanged is fine.
    It runs in the sender's turn for the chat (an ``after_send`` hook), so a flood pause or a failing server is
    waited out here, a few times, before the chat's next message goes."""
    if rc.bot is None:
        return
    async with rc.uow:
        sent = list(await rc.uow.outbox.sent_messages(key))
    for chat_id, message_id in sent:
        for attempt in range(1, REDRAW_ATTEMPTS + 1):
            try:
                await rc.bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
            except TelegramBadRequest:
                break  # gone, or already showing this
            except TelegramRetryAfter as error:  # Telegram asks for a pause: the chat's next message waits with us
                if attempt == REDRAW_ATTEMPTS or error.retry_after > REDRAW_PAUSE_MAX_S:
                    raise
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError):
                if attempt == REDRAW_ATTEMPTS:
                    raise
                await asyncio.sleep(attempt)
            else:
                break


async def redraw_order_cards(rc: RenderContext, view: OrderView) -> None:
    """The order card the tourist was shown when booking (``OutboxKind.ORDER_CARD``, recorded by
    ``handlers.tourist.orders.show_booked_card``) redrawn as the order stands now, with only the buttons that still
    apply: it never keeps saying "waiting for the organiser… seats held" once the order was confirmed, declined,
    paid or cancelled."""
    tr = tourist_tr(view, rc.i18n)
    now = rc.now or datetime.now(UTC)
    can_cancel = view.order.can_be_cancelled_by_tourist(view.session.starts_at, now)
    text = render_order_card(tr, view, now)
    async with rc.uow.read():  # "Change date" while the organiser's cutoff allows it (handlers/tourist/rebooking.py)
        cutoff = (await rc.uow.organiser_settings.extras(view.event.organiser_id)).booking_cutoff
    rebook = offer_rebooking(view.order, view.session, cutoff, now)
    markup = order_card_kb(tr, view.order, can_cancel, keep=True, rebook=rebook)
    await edit_sent(rc, f"{OutboxKind.ORDER_CARD.value}:{view.id}", text, markup)


def cards_redrawn(rc: RenderContext, view: OrderView) -> AfterSend:
    """``after_send`` of a message telling the tourist their order changed: :func:`redraw_order_cards`."""

    async def redraw(_message_id: int) -> None:
        await redraw_order_cards(rc, view)

    return redraw


async def payload_order(rc: RenderContext) -> OrderView | None:
    """The order the outbox row is about (``payload["order_id"]``), re-read at send time; None if it is gone. Read
    without a transaction (``uow.read()``): the sender renders several rows at once, and on SQLite a transaction
    would queue each for the write lock; the message shows the order as it stands, a use case decides nothing on it."""
    return await load_order(rc.uow.read(), int(rc.payload["order_id"]))
