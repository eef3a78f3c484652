"""``/order CODE``: the full card of any order, with the operator's edit actions; ``/audit CODE``: its history.

The card shows every status dimension in words, the money (paid, refunded, owed back), the hotel, the organiser's
questions' answers, the deadlines, the ticket code, the tourist and the organiser (phones masked) and the last audit
entries. Its buttons (``OrderDeskCb``, prefix ``do``) change the session, the quantities, the hotel, replace the
ticket, cancel (with or without the refund), record a refund, add an internal note and show the history. Every press
is checked again on the server: an action that no longer applies answers with the order as it is now. After an
action the card is rendered again in place with a line saying who did what.

Typed input (a hotel's name, a refund amount, a note) is asked for with an FSM state of the operator in the group;
in a group with privacy mode on the bot only sees it as a reply to its message, so the prompt says "reply".

How the card looks is :mod:`handlers.operator.order_card`; :func:`send_order_card` posts it for other desk modules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from domain.errors import (
    DomainError,
    InvalidAmount,
    InvalidNote,
    InvalidQuantity,
    InvalidTransition,
    NoChange,
    PaidPriceUp,
    SoldOut,
)
from domain.model.catalog import BOOKING_CUTOFF, localized
from domain.model.orders import PaymentStatus, format_order_code, normalize_order_code
from domain.ports import Clock, UnitOfWork
from domain.rules.money import parse_amount
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases import order_changes as oc
from handlers.operator.access import Operator, guard
from handlers.operator.errors import domain_error_text
from handlers.operator.order_card import (
    OrderDeskAction,
    OrderDeskCb,
    OrderView,
    _button,
    _cut,
    _e,
    _title,
    back_kb,
    history_screen,
    load_order_view,
    order_card,
)
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.ui import N_, Translator

router = guard(Router(name=__name__))

HOTEL_QUERY_MIN, HOTEL_QUERY_MAX = 2, 64
HOTEL_RESULTS = 8
SESSION_CHOICES = 8
AMOUNT_TEXT_MAX = 32


class OrderDeskInput(StatesGroup):
    hotel = State()
    refund_amount = State()
    note = State()


MY_STATES = {OrderDeskInput.hotel.state, OrderDeskInput.refund_amount.state, OrderDeskInput.note.state}


# ---- talking back --------------------------------------------------------------------------------------------------


async def _edit_card(
    bot: Bot, chat_id: int, message_id: int | None, text: str, markup: InlineKeyboardMarkup, fallback: Message
) -> None:
    """Put the card back into the message it came from; answer ``fallback`` with it if that is impossible."""
    if message_id:
        try:
            await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
            return
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return
    await fallback.answer(text, reply_markup=markup)


def done_line(operator: Operator, what: str) -> str:
    return f"✅ <i>{_e(_cut(operator.name, 64))}: {what}</i>"


async def _refresh(
    query: CallbackQuery, uow: UnitOfWork, order_id: int, tr: Translator, now: datetime, alert: str | None = None
) -> None:
    """Answer the press (with ``alert`` if given) and show the card as it is now."""
    card = await order_card(uow, order_id, tr, now)
    if card is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query, alert, alert=alert is not None)
    await show(query, *card)


async def _done(
    query: CallbackQuery, uow: UnitOfWork, order_id: int, tr: Translator, now: datetime, operator: Operator, what: str
) -> None:
    card = await order_card(uow, order_id, tr, now, done_line(operator, what))
    await answer_query(query, tr.gettext("Done."))
    if card is not None:
        await show(query, *card)


async def _view_or_refuse(
    query: CallbackQuery,
    uow: UnitOfWork,
    order_id: int,
    tr: Translator,
    now: datetime,
    applies: Any = None,
) -> OrderView | None:
    """The order's view if the press still applies to it; otherwise the press is answered with the fresh card."""
    view = await load_order_view(uow, order_id)
    if view is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return None
    if applies is not None and not applies(view):
        await _refresh(query, uow, order_id, tr, now, domain_error_text(InvalidTransition(), tr))
        return None
    return view


async def _leave_my_state(state: FSMContext) -> None:
    if await state.get_state() in MY_STATES:
        await state.clear()


# ---- commands ------------------------------------------------------------------------------------------------------


def _order_code_or_usage(command: CommandObject, tr: Translator, usage: str) -> tuple[str | None, str | None]:
    """The normalized code, or the text to answer instead."""
    raw = (command.args or "").strip()
    if not raw:
        return None, usage
    code = normalize_order_code(raw[:32])
    if code is None:
        return None, tr.gettext("That is not an order code. Order codes look like K7M-A4X.")
    return code, None


@router.message(Command("order"))
async def cmd_order(
    message: Message, command: CommandObject, uow: UnitOfWork, tr: Translator, clock: Clock, state: FSMContext
) -> None:
    await _leave_my_state(state)
    code, answer = _order_code_or_usage(
        command,
        tr,
        tr.gettext("Usage: /order and the order code, e.g. /order K7M-A4X: the order's card with its actions."),
    )
    if code is None:
        await message.answer(answer)
        return
    async with uow:
        order_id = await uow.orders.id_by_code(code)
    card = await order_card(uow, order_id, tr, clock.now()) if order_id else None
    if card is None:
        await message.answer(tr.gettext("No order with the code {code}.").format(code=format_order_code(code)))
        return
    await message.answer(card[0], reply_markup=card[1])


@router.message(Command("audit"))
async def cmd_audit(
    message: Message, command: CommandObject, uow: UnitOfWork, tr: Translator, state: FSMContext
) -> None:
    await _leave_my_state(state)
    code, answer = _order_code_or_usage(
        command,
        tr,
        tr.gettext("Usage: /audit and the order code, e.g. /audit K7M-A4X: the order's history, oldest first."),
    )
    if code is None:
        await message.answer(answer)
        return
    async with uow:
        order_id = await uow.orders.id_by_code(code)
    screen = await history_screen(uow, order_id, 0, tr) if order_id else None
    if screen is None:
        await message.answer(tr.gettext("No order with the code {code}.").format(code=format_order_code(code)))
        return
    await message.answer(screen[0], reply_markup=screen[1])


# ---- opening and refreshing ----------------------------------------------------------------------------------------


async def send_order_card(query: CallbackQuery, order_id: int, uow: UnitOfWork, tr: Translator, clock: Clock) -> bool:
    """Post the order's card as a new message into the chat (and forum topic) of the pressed message; the caller
    answers the query. False (nothing sent) if there is no such order."""
    card = await order_card(uow, order_id, tr, clock.now())
    message = query.message
    if card is None or message is None:
        return False
    thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
    await query.bot.send_message(message.chat.id, card[0], reply_markup=card[1], message_thread_id=thread)
    return True


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.VIEW))
async def on_order_view(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    async with uow:
        exists = await uow.orders.get(callback_data.order) is not None
    if not exists or query.message is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query)
    await send_order_card(query, callback_data.order, uow, tr, clock)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFRESH))
async def on_order_refresh(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, state: FSMContext
) -> None:
    await _leave_my_state(state)
    await _refresh(query, uow, callback_data.order, tr, clock.now())


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.HISTORY))
async def on_order_history(query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator) -> None:
    screen = await history_screen(uow, callback_data.order, callback_data.arg, tr)
    if screen is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query)
    await show(query, *screen)


# ---- another session -------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.SESSIONS))
async def on_order_sessions(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    view = await _view_or_refuse(
        query, uow, callback_data.order, tr, now, lambda v: oc.can_edit(v.order, v.session, now)
    )
    if view is None:
        return
    async with uow:
        upcoming = await uow.catalog.upcoming_sessions(view.event.id, now + BOOKING_CUTOFF, 50)
    choices = [s for s in upcoming if s.id != view.session.id and s.bookable(now) and s.seats_left >= view.order.seats][
        :SESSION_CHOICES
    ]
    if not choices:
        await answer_query(
            query,
            tr.gettext("No other session of this event has {n} free seats.").format(n=view.order.seats),
            alert=True,
        )
        return
    rows = [
        [
            _button(
                f"{tr.datetime(s.starts_at, view.region.timezone)} · "
                + tr.ngettext("{n} seat left", "{n} seats left", s.seats_left).format(n=s.seats_left),
                OrderDeskAction.SESSION,
                view.order.id,
                s.id,
            )
        ]
        for s in choices
    ]
    text = "\n".join(
        [
            _title(tr, view),
            "🗓 " + tr.gettext("Now: {time}").format(time=tr.datetime(view.session.starts_at, view.region.timezone)),
            "",
            tr.gettext("Move the order ({n} seats) to:").format(n=view.order.seats),
        ]
    )
    await answer_query(query)
    await show(query, text, back_kb(tr, view.order.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.SESSION))
async def on_order_session_pick(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    now = clock.now()
    try:
        order = await oc.change_session(uow, callback_data.order, callback_data.arg, operator.actor, now)
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    async with uow:
        session = await uow.catalog.session(order.session_id)
        event = await uow.catalog.event(order.event_id)
        region = await uow.catalog.region(event.region_id)
    what = tr.gettext("moved to {time}").format(time=tr.datetime(session.starts_at, region.timezone))
    await _done(query, uow, order.id, tr, now, operator, what)


# ---- quantities ------------------------------------------------------------------------------------------------------


def parse_draft(text: str, types: int) -> list[int] | None:
    """A draft from callback data, or None if it is not one (forged, or made for other ticket types)."""
    parts = text.split("-") if text else []
    if len(parts) != types or not all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        return None
    counts = [int(p) for p in parts]
    return counts if sum(counts) <= MAX_TICKETS_PER_ORDER else None


def draft_text(draft: list[int]) -> str:
    return "-".join(str(n) for n in draft)


def quantities_screen(tr: Translator, view: OrderView, draft: list[int]) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    order, event = view.order, view.event
    money = lambda minor: tr.money(minor, order.currency)  # noqa: E731
    booked = {item.ticket_type: item.unit_price_minor for item in order.items}
    lines = [_title(tr, view), "🎟 " + _("Tickets"), ""]
    rows = []
    q = draft_text(draft)
    for index, (ticket, count) in enumerate(zip(event.ticket_types, draft)):
        name = ticket_type_name(ticket.code, tr)
        price = booked.get(ticket.code, ticket.price_minor)
        lines.append(
            _("{ticket} × {quantity}: {amount}").format(ticket=_e(name), quantity=count, amount=money(count * price))
        )
        rows.append(
            [
                _button("➖", OrderDeskAction.QTY_DEC, order.id, index, q),
                _button(f"{name}: {count}", OrderDeskAction.QUANTITIES, order.id, 0, q),
                _button("➕", OrderDeskAction.QTY_INC, order.id, index, q),
            ]
        )
    quantities = {t.code: n for t, n in zip(event.ticket_types, draft) if n}
    lines.append("")
    try:
        _items, _subtotal, total = oc.requote(event, order, quantities)
    except InvalidQuantity:
        lines.append(_("Choose between 1 and {limit} tickets.").format(limit=MAX_TICKETS_PER_ORDER))
    else:
        lines.append(_("New total: {new} (now {old})").format(new=money(total), old=money(order.total_minor)))
        if order.money_held and total > order.total_minor:
            lines.append("⚠️ " + _("A paid order can only get cheaper: we never charge more after payment."))
        elif order.money_held and total < order.total_minor:
            lines.append(
                _("The difference of {amount} becomes a refund due.").format(amount=money(order.total_minor - total))
            )
    extra = sum(draft) - order.seats
    if extra > 0:
        lines.append(_("Free seats in the session: {n}").format(n=view.session.seats_left))
    rows.append([_button("💾 " + _("Save"), OrderDeskAction.QTY_SAVE, order.id, 0, q)])
    return "\n".join(lines), back_kb(tr, order.id, *rows)


@router.callback_query(
    OrderDeskCb.filter(F.action.in_({OrderDeskAction.QUANTITIES, OrderDeskAction.QTY_INC, OrderDeskAction.QTY_DEC}))
)
async def on_order_quantities(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    view = await _view_or_refuse(
        query, uow, callback_data.order, tr, now, lambda v: oc.can_edit(v.order, v.session, now)
    )
    if view is None:
        return
    types = view.event.ticket_types
    if callback_data.q:
        draft = parse_draft(callback_data.q, len(types))
        if draft is None:
            await _refresh(
                query,
                uow,
                view.order.id,
                tr,
                now,
                tr.gettext("This button is no longer valid. Here is the order as it is now."),
            )
            return
    else:
        booked = {item.ticket_type: item.quantity for item in view.order.items}
        draft = [booked.get(t.code, 0) for t in types]
    index = callback_data.arg
    if callback_data.action is not OrderDeskAction.QUANTITIES and not 0 <= index < len(types):
        await _refresh(
            query,
            uow,
            view.order.id,
            tr,
            now,
            tr.gettext("This button is no longer valid. Here is the order as it is now."),
        )
        return
    if callback_data.action is OrderDeskAction.QTY_INC:
        if sum(draft) >= MAX_TICKETS_PER_ORDER:
            await answer_query(
                query, tr.gettext("Choose between 1 and {limit} tickets.").format(limit=MAX_TICKETS_PER_ORDER)
            )
            return
        draft[index] += 1
    elif callback_data.action is OrderDeskAction.QTY_DEC:
        if draft[index] == 0:
            await answer_query(query)
            return
        draft[index] -= 1
    await answer_query(query)
    await show(query, *quantities_screen(tr, view, draft))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.QTY_SAVE))
async def on_order_quantities_save(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    now = clock.now()
    async with uow:
        order = await uow.orders.get(callback_data.order)
        event = await uow.catalog.event(order.event_id) if order else None
    draft = parse_draft(callback_data.q, len(event.ticket_types)) if event else None
    if order is None or event is None or draft is None:
        await _refresh(
            query,
            uow,
            callback_data.order,
            tr,
            now,
            tr.gettext("This button is no longer valid. Here is the order as it is now."),
        )
        return
    quantities = {t.code: n for t, n in zip(event.ticket_types, draft) if n}
    try:
        order = await oc.change_quantities(uow, order.id, quantities, operator.actor, now)
    except (InvalidQuantity, SoldOut, PaidPriceUp, NoChange) as error:
        await answer_query(query, domain_error_text(error, tr), alert=True)  # the editor stays: fix and save again
        return
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    tickets = ", ".join(f"{ticket_type_name(i.ticket_type, tr)} × {i.quantity}" for i in order.items)
    what = tr.gettext("tickets changed to {tickets}, total {amount}").format(
        tickets=_e(tickets), amount=tr.money(order.total_minor, order.currency)
    )
    await _done(query, uow, order.id, tr, now, operator, what)


# ---- the ticket ------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.TICKET))
async def on_order_ticket(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    view = await _view_or_refuse(query, uow, callback_data.order, tr, now, lambda v: oc.can_reissue(v.order))
    if view is None:
        return
    _ = tr.gettext
    text = "\n".join(
        [
            _title(tr, view),
            "",
            _(
                "Replace the ticket {ticket}? The old code stops working at once; the tourist gets the new one with its "
                "QR image."
            ).format(ticket=f"<code>{_e(view.order.ticket_code or '')}</code>"),
        ]
    )
    yes = [_button("🎫 " + _("Yes, replace the ticket"), OrderDeskAction.TICKET_YES, view.order.id)]
    await answer_query(query)
    await show(query, text, back_kb(tr, view.order.id, yes))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.TICKET_YES))
async def on_order_ticket_replace(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    now = clock.now()
    try:
        order = await oc.reissue_ticket(uow, callback_data.order, operator.actor, now)
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    what = tr.gettext("ticket replaced, new code {ticket} sent").format(
        ticket=f"<code>{_e(order.ticket_code or '')}</code>"
    )
    await _done(query, uow, order.id, tr, now, operator, what)


# ---- the hotel -------------------------------------------------------------------------------------------------------


def _no_hotel_row(tr: Translator, order_id: int) -> list[InlineKeyboardButton]:
    return [_button("🚫 " + tr.gettext("No hotel"), OrderDeskAction.HOTEL_NONE, order_id)]


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.HOTEL))
async def on_order_hotel(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, state: FSMContext
) -> None:
    now = clock.now()
    view = await _view_or_refuse(
        query, uow, callback_data.order, tr, now, lambda v: oc.can_edit(v.order, v.session, now)
    )
    if view is None:
        return
    _ = tr.gettext
    current = _e(view.hotel.name) if view.hotel else _("no hotel")
    text = "\n".join(
        [
            _title(tr, view),
            "",
            "🏨 " + _("Hotel now: {hotel}").format(hotel=current),
            _(
                "Reply to this message with (part of) the hotel's name; I will list the matching hotels of {region}."
            ).format(region=_e(localized(view.region.name, tr.language))),
        ]
    )
    await _ask(
        state,
        OrderDeskInput.hotel,
        view.order.id,
        query,
        text,
        back_kb(tr, view.order.id, _no_hotel_row(tr, view.order.id)),
    )


@router.message(OrderDeskInput.hotel, F.text, ~F.text.startswith("/"))
async def on_order_hotel_name(message: Message, uow: UnitOfWork, tr: Translator, state: FSMContext) -> None:
    data = await _answer_data(message, state)
    order_id = int(data.get("do_order", 0))
    text = " ".join(message.text.split())
    if not HOTEL_QUERY_MIN <= len(text) <= HOTEL_QUERY_MAX:
        await _reply_prompt(
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
            _button(
                f"{h.name} ({h.discount_percent}%)" if h.discount_percent else h.name,
                OrderDeskAction.HOTEL_PICK,
                order.id,
                h.id,
            )
        ]
        for h in hotels
    ]
    rows.append(_no_hotel_row(tr, order.id))
    if hotels:
        answer = tr.gettext("Hotels matching “{text}” for order {code}:").format(
            text=_e(text), code=format_order_code(order.code)
        )
    else:
        answer = tr.gettext("No hotel matches “{text}”. Reply with another name, or:").format(text=_e(text))
    await _reply_prompt(message, state, answer, back_kb(tr, order.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action.in_({OrderDeskAction.HOTEL_PICK, OrderDeskAction.HOTEL_NONE})))
async def on_order_hotel_pick(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    state: FSMContext,
) -> None:
    now = clock.now()
    await _leave_my_state(state)
    hotel_id = callback_data.arg if callback_data.action is OrderDeskAction.HOTEL_PICK else None
    try:
        order = await oc.set_hotel(uow, callback_data.order, hotel_id, operator.actor, now)
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    async with uow:
        hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
    what = (
        tr.gettext("hotel set to {hotel}, total {amount}") if hotel else tr.gettext("hotel removed, total {amount}")
    ).format(hotel=_e(hotel.name) if hotel else "", amount=tr.money(order.total_minor, order.currency))
    await _done(query, uow, order.id, tr, now, operator, what)


# ---- cancel ----------------------------------------------------------------------------------------------------------


NO_REFUND_API = N_(
    "Telegram cannot refund a card payment itself: return the money in the payment provider's dashboard first; "
    "this button only records that you did."
)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.CANCEL))
async def on_order_cancel(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    view = await _view_or_refuse(
        query, uow, callback_data.order, tr, now, lambda v: oc.can_cancel(v.order, v.session, v.event, now)
    )
    if view is None:
        return
    _ = tr.gettext
    order = view.order
    lines = [_title(tr, view), "", _("Cancel this order? The seats go back on sale and the tourist is told.")]
    rows = []
    if order.money_held:
        held = order.total_minor + order.partial_refund_minor + order.stray_minor
        lines += [
            "",
            _("The tourist has paid {amount}.").format(amount=tr.money(held, order.currency)),
            _(NO_REFUND_API),
        ]
        rows.append([_button("💶 " + _("Cancel, money returned"), OrderDeskAction.CANCEL_REFUND, order.id)])
        rows.append([_button("⏳ " + _("Cancel, refund later"), OrderDeskAction.CANCEL_KEEP, order.id)])
    else:
        rows.append([_button("🚫 " + _("Yes, cancel the order"), OrderDeskAction.CANCEL_KEEP, order.id)])
    await answer_query(query)
    await show(query, "\n".join(lines), back_kb(tr, order.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action.in_({OrderDeskAction.CANCEL_REFUND, OrderDeskAction.CANCEL_KEEP})))
async def on_order_cancel_confirm(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    now = clock.now()
    refund = callback_data.action is OrderDeskAction.CANCEL_REFUND
    try:
        order = await oc.cancel_order(uow, callback_data.order, operator.actor, now, refund=refund)
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    if order.refunded_minor and refund:
        what = tr.gettext("cancelled, refund of {amount} recorded").format(
            amount=tr.money(order.refunded_minor, order.currency)
        )
    elif order.payment is PaymentStatus.REFUND_DUE:
        what = tr.gettext("cancelled, refund due")
    else:
        what = tr.gettext("cancelled")
    await _done(query, uow, order.id, tr, now, operator, what)


# ---- refund ----------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND))
async def on_order_refund(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    view = await _view_or_refuse(query, uow, callback_data.order, tr, now, lambda v: oc.owed_minor(v.order) > 0)
    if view is None:
        return
    _ = tr.gettext
    order = view.order
    owed = tr.money(oc.owed_minor(order), order.currency)
    lines = [_title(tr, view), "", "💶 " + _("Owed to the tourist: {amount}").format(amount=owed)]
    if order.stray_minor:
        lines.append(
            _("of which payments that did not pay the order: {amount}").format(
                amount=tr.money(order.stray_minor, order.currency)
            )
        )
    if order.partial_refund_minor:
        lines.append(
            _("of which a partial refund: {amount}").format(amount=tr.money(order.partial_refund_minor, order.currency))
        )
    lines += ["", _(NO_REFUND_API)]
    rows = [
        [_button("💶 " + _("Returned everything: {amount}").format(amount=owed), OrderDeskAction.REFUND_ALL, order.id)],
        [_button("✏️ " + _("Returned another amount"), OrderDeskAction.REFUND_AMOUNT, order.id)],
    ]
    await answer_query(query)
    await show(query, "\n".join(lines), back_kb(tr, order.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND_ALL))
async def on_order_refund_all(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    now = clock.now()
    async with uow:
        before = await uow.orders.get(callback_data.order)
    try:
        order = await oc.record_refund(uow, callback_data.order, operator.actor, now)
    except DomainError as error:
        await _refresh(query, uow, callback_data.order, tr, now, domain_error_text(error, tr))
        return
    amount = order.refunded_minor - (before.refunded_minor if before else 0)
    what = tr.gettext("refund of {amount} recorded").format(amount=tr.money(amount, order.currency))
    await _done(query, uow, order.id, tr, now, operator, what)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND_AMOUNT))
async def on_order_refund_amount(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, state: FSMContext
) -> None:
    now = clock.now()
    view = await _view_or_refuse(query, uow, callback_data.order, tr, now, lambda v: oc.owed_minor(v.order) > 0)
    if view is None:
        return
    _ = tr.gettext
    owed = tr.money(oc.owed_minor(view.order), view.order.currency)
    text = "\n".join(
        [
            _title(tr, view),
            "",
            _("Reply to this message with the amount you returned in {currency}, e.g. 12.50 (at most {owed}).").format(
                currency=view.order.currency, owed=owed
            ),
            _(NO_REFUND_API),
        ]
    )
    await _ask(state, OrderDeskInput.refund_amount, view.order.id, query, text, back_kb(tr, view.order.id))


@router.message(OrderDeskInput.refund_amount, F.text, ~F.text.startswith("/"))
async def on_order_refund_typed(
    message: Message, bot: Bot, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator, state: FSMContext
) -> None:
    now = clock.now()
    data = await _answer_data(message, state)
    order_id = int(data.get("do_order", 0))
    async with uow:
        order = await uow.orders.get(order_id)
    if order is None:
        await state.clear()
        await message.reply(tr.gettext("There is no such order."))
        return
    raw = message.text.strip().replace(",", ".")
    try:
        if len(raw) > AMOUNT_TEXT_MAX:
            raise ValueError(raw)
        amount = parse_amount(raw.removesuffix(order.currency).strip(), order.currency)
    except ValueError:
        await _reply_prompt(message, state, tr.gettext("That is not an amount. Reply with a number such as 12.50."))
        return
    try:
        order = await oc.record_refund(uow, order_id, operator.actor, now, amount)
    except InvalidAmount as error:
        await _reply_prompt(message, state, domain_error_text(error, tr, order.currency))  # still waiting for an amount
        return
    except DomainError as error:
        await state.clear()
        await message.reply(domain_error_text(error, tr, order.currency))
        return
    await state.clear()
    what = tr.gettext("refund of {amount} recorded").format(amount=tr.money(amount, order.currency))
    card = await order_card(uow, order_id, tr, now, done_line(operator, what))
    if card is not None:
        await _edit_card(bot, message.chat.id, data.get("do_message"), *card, fallback=message)


# ---- the note --------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.NOTE))
async def on_order_note(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, clock: Clock, state: FSMContext
) -> None:
    view = await _view_or_refuse(query, uow, callback_data.order, tr, clock.now())
    if view is None:
        return
    text = "\n".join(
        [
            _title(tr, view),
            "",
            "📝 "
            + tr.gettext(
                "Reply to this message with the note (at most {limit} characters). Only operators see "
                "it, in the order's history."
            ).format(limit=oc.NOTE_MAX_LENGTH),
        ]
    )
    await _ask(state, OrderDeskInput.note, view.order.id, query, text, back_kb(tr, view.order.id))


@router.message(OrderDeskInput.note, F.text, ~F.text.startswith("/"))
async def on_order_note_typed(
    message: Message, bot: Bot, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator, state: FSMContext
) -> None:
    now = clock.now()
    data = await _answer_data(message, state)
    order_id = int(data.get("do_order", 0))
    try:
        await oc.add_note(uow, order_id, operator.actor, message.text, now)
    except InvalidNote as error:
        await _reply_prompt(message, state, domain_error_text(error, tr))  # still waiting for a note
        return
    except DomainError as error:
        await state.clear()
        await message.reply(domain_error_text(error, tr))
        return
    await state.clear()
    card = await order_card(uow, order_id, tr, now, done_line(operator, tr.gettext("note added")))
    if card is not None:
        await _edit_card(bot, message.chat.id, data.get("do_message"), *card, fallback=message)


async def _ask(
    state: FSMContext, wanted: State, order_id: int, query: CallbackQuery, prompt: str, markup: InlineKeyboardMarkup
) -> None:
    """Show ``prompt`` in the pressed message and wait for the operator's typed answer: a reply to that message
    (``do_prompts``)."""
    message_id = query.message.message_id if query.message is not None else None
    await state.set_state(wanted)
    await state.set_data({"do_order": order_id, "do_message": message_id, "do_prompts": [message_id]})
    await answer_query(query)
    await show(query, prompt, markup)


async def _reply_prompt(
    message: Message, state: FSMContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer the operator's input; a reply to this answer counts as the next try."""
    sent = await message.reply(text, reply_markup=markup)
    data = await state.get_data()
    await state.update_data(do_prompts=[*data.get("do_prompts", []), sent.message_id][-10:])


async def _answer_data(message: Message, state: FSMContext) -> dict[str, Any]:
    """The flow's data if ``message`` replies to one of its prompts; anything else is not for us (a colleague's
    chat, an answer to a tourist's question) and goes on to the other routers."""
    data = await state.get_data()
    replied = message.reply_to_message
    if replied is None or replied.message_id not in data.get("do_prompts", []):
        raise SkipHandler
    return data
