"""The ``/order`` card's details: replace the ticket, set or remove the hotel (found by a typed part of its name)
and add an internal note (typed; only operators see it, in the order's history)."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from domain.errors import DomainError, InvalidNote
from domain.model.catalog import localized
from domain.model.orders import format_order_code
from domain.ports import Clock, UnitOfWork
from domain.use_cases import order_changes as oc
from handlers.operator.access import Operator
from handlers.operator.errors import domain_error_text
from handlers.operator.order_card import OrderDeskAction, OrderDeskCb, back_kb, order_button, order_title
from handlers.operator.order_flow import (
    OrderDeskInput,
    answer_data,
    ask,
    asked_order,
    editable,
    leave_order_input,
    refresh_card,
    reply_prompt,
    show_done,
    show_typed_done,
    view_or_refuse,
)
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator

router = Router(name=__name__)

HOTEL_QUERY_MIN, HOTEL_QUERY_MAX = 2, 64
HOTEL_RESULTS = 8


# ---- the ticket ------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.TICKET))
async def on_order_ticket(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(
        query, uow, callback_data.order, tr, now, lambda v: oc.can_reissue(v.order), zone=settings.desk_timezone
    )
    if view is None:
        return
    _ = tr.gettext
    ticket = f"<code>{html.quote(view.order.ticket_code or '')}</code>"
    question = _(
        "Replace the ticket {ticket}? The old code stops working at once; the tourist gets the new one with its "
        "QR image."
    ).format(ticket=ticket)
    text = "\n".join([order_title(tr, view), "", question])
    yes = [order_button("🎫 " + _("Yes, replace the ticket"), OrderDeskAction.TICKET_YES, view.id)]
    await answer_query(query)
    await show(query, text, back_kb(tr, view.id, yes))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.TICKET_YES))
async def on_order_ticket_replace(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    try:
        order = await oc.reissue_ticket(uow, callback_data.order, operator.actor, now)
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    what = tr.gettext("ticket replaced, new code {ticket} sent").format(
        ticket=f"<code>{html.quote(order.ticket_code or '')}</code>"
    )
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)


# ---- the hotel -------------------------------------------------------------------------------------------------------


def _no_hotel_row(tr: Translator, order_id: int) -> list[InlineKeyboardButton]:
    return [order_button("🚫 " + tr.gettext("No hotel"), OrderDeskAction.HOTEL_NONE, order_id)]


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.HOTEL))
async def on_order_hotel(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(query, uow, callback_data.order, tr, now, editable(now), zone=settings.desk_timezone)
    if view is None:
        return
    _ = tr.gettext
    current = html.quote(view.hotel.name) if view.hotel else _("no hotel")
    region = html.quote(localized(view.region.name, tr.language))
    text = "\n".join(
        [
            order_title(tr, view),
            "",
            "🏨 " + _("Hotel now: {hotel}").format(hotel=current),
            _(
                "Reply to this message with (part of) the hotel's name; I will list the matching hotels of {region}."
            ).format(region=region),
        ]
    )
    markup = back_kb(tr, view.id, _no_hotel_row(tr, view.id))
    await ask(state, OrderDeskInput.hotel, view.id, query, text, markup)


@router.message(OrderDeskInput.hotel, F.text, ~F.text.startswith("/"))
async def on_order_hotel_name(message: Message, uow: UnitOfWork, tr: Translator, state: FSMContext) -> None:
    data = await answer_data(message, state)
    order_id = asked_order(data)
    text = " ".join((message.text or "").split())
    if not HOTEL_QUERY_MIN <= len(text) <= HOTEL_QUERY_MAX:
        await reply_prompt(
            message,
            state,
            tr.gettext("Please type between {low} and {high} characters of the hotel's name.").format(
                low=HOTEL_QUERY_MIN, high=HOTEL_QUERY_MAX
            ),
        )
        return
    async with uow:
        order = await uow.orders.get(order_id)
        event = await uow.catalog.event(order.event_id) if order else None
        hotels = await uow.catalog.search_hotels(event.region_id, text, HOTEL_RESULTS) if event else []
    if order is None:
        await state.clear()
        await message.reply(tr.gettext("There is no such order."))
        return
    rows = [
        [
            order_button(
                f"{h.name} ({h.discount_percent}%)" if h.discount_percent else h.name,
                OrderDeskAction.HOTEL_PICK,
                order_id,
                h.id,
            )
        ]
        for h in hotels
    ]
    rows.append(_no_hotel_row(tr, order_id))
    if hotels:
        answer = tr.gettext("Hotels matching “{text}” for order {code}:").format(
            text=html.quote(text), code=format_order_code(order.code)
        )
    else:
        answer = tr.gettext("No hotel matches “{text}”. Reply with another name, or:").format(text=html.quote(text))
    await reply_prompt(message, state, answer, back_kb(tr, order_id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action.in_({OrderDeskAction.HOTEL_PICK, OrderDeskAction.HOTEL_NONE})))
async def on_order_hotel_pick(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    await leave_order_input(state)
    hotel_id = callback_data.arg if callback_data.action is OrderDeskAction.HOTEL_PICK else None
    try:
        order = await oc.set_hotel(uow, callback_data.order, hotel_id, operator.actor, now)
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    async with uow:
        hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
    total = tr.money(order.total_minor, order.currency)
    if hotel:
        what = tr.gettext("hotel set to {hotel}, total {amount}").format(hotel=html.quote(hotel.name), amount=total)
    else:
        what = tr.gettext("hotel removed, total {amount}").format(amount=total)
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)


# ---- the note --------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.NOTE))
async def on_order_note(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    view = await view_or_refuse(query, uow, callback_data.order, tr, clock.now(), zone=settings.desk_timezone)
    if view is None:
        return
    prompt = tr.gettext(
        "Reply to this message with the note (at most {limit} characters). Only operators see "
        "it, in the order's history."
    ).format(limit=oc.NOTE_MAX_LENGTH)
    text = "\n".join([order_title(tr, view), "", "📝 " + prompt])
    await ask(state, OrderDeskInput.note, view.id, query, text, back_kb(tr, view.id))


@router.message(OrderDeskInput.note, F.text, ~F.text.startswith("/"))
async def on_order_note_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    data = await answer_data(message, state)
    order_id = asked_order(data)
    try:
        await oc.add_note(uow, order_id, operator.actor, message.text or "", now)
    except InvalidNote as error:
        await reply_prompt(message, state, domain_error_text(error, tr))  # still waiting for a note
        return
    except DomainError as error:
        await state.clear()
        await message.reply(domain_error_text(error, tr))
        return
    await show_typed_done(
        message, bot, state, data, uow, tr, now, operator, tr.gettext("note added"), zone=settings.desk_timezone
    )
