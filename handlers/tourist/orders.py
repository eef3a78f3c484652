"""/orders: the tourist's orders, one card per order with its status, what happens next and by when, and cancel.

Every button is re-checked here: the order must exist, belong to the user who pressed and still be in a state
where the action makes sense; anything else is refused with an alert and nothing changes.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from aiogram import F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from domain.errors import ConcurrentChange, InvalidTransition, NotAllowed, NotFound
from domain.model.catalog import SessionStatus, localized
from domain.model.checkin import require_running_late
from domain.model.messages import OutboxKind, keyed_message
from domain.model.orders import (
    BookingStatus,
    Order,
    PaymentStatus,
    Stage,
    TicketStatus,
    format_order_code,
    order_stage,
    stage_deadline,
)
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.rebooking import offer_rebooking
from domain.use_cases.booking import cancel_order, get_own_order
from handlers.read_models import OrderView, read_order, read_session
from handlers.status_words import TOURIST_STAGE_WORDS, tourist_stage_words
from handlers.tourist.callbacks import (
    Below,
    BelowCb,
    EventCb,
    MenuAction,
    MenuCb,
    OrderAction,
    OrderCb,
    OrdersPageCb,
    RebookAction,
    RebookCb,
)
from handlers.tourist.checkout_screens import hotel_discount_minor, order_checkout_lines
from handlers.tourist.copy_code import copy_code_button
from handlers.tourist.keyboards import home_button
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.place_callbacks import CalendarCb
from handlers.tourist.waitlist import router as waitlist_router
from handlers.tourist.waitlist_screens import waitlist_order_rows
from handlers.ui import CANCEL_STYLE, Translator, button, cut

router = Router(name=__name__)
router.include_router(waitlist_router)  # the waitlist's entries are shown and left from My orders

PAGE_SIZE = 5
TITLE_IN_BUTTON = 28  # characters of the event title on a list button


# ---- rendering: pure functions of data and a translator ---------------------------------------------------------


def _deadline(tr: Translator, moment: datetime, timezone: str, now: datetime) -> str:
    """Only the time when it is due today (in the region), otherwise the day and the time; with the region's zone."""
    today = tr.now_local(timezone, moment).date() == tr.now_local(timezone, now).date()
    return tr.zoned(moment, timezone, with_day=not today)


def stage_lines(tr: Translator, order: Order, stage: Stage, timezone: str, now: datetime) -> tuple[str, str | None]:
    """The order's status in plain words and what happens next (and by when), for every stage."""
    deadline = stage_deadline(order, stage)
    return tourist_stage_words(
        tr,
        stage,
        amount=tr.money(order.total_minor, order.currency),
        by=_deadline(tr, deadline, timezone, now) if deadline else None,
        partly_refunded=order.payment is PaymentStatus.PARTIALLY_REFUNDED,
    )


def render_order_card(tr: Translator, view: OrderView, now: datetime) -> str:
    _ = tr.gettext
    order, session, region = view.order, view.session, view.region
    stage = order_stage(order, session.starts_at, session.status is SessionStatus.CANCELLED, now)
    status, after = stage_lines(tr, order, stage, region.timezone, now)
    place = html.quote(localized(region.name, tr.language))
    lines = [
        "🎟 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code)),
        f"<b>{html.quote(localized(view.event.title, tr.language))}</b>",
        "📅 " + tr.zoned(session.starts_at, region.timezone) + f" ({place})",
    ]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=html.quote(meeting_point)))
    if order.ticket is TicketStatus.ISSUED and order.ticket_code:
        lines.append("🎫 " + _("Ticket: {code}").format(code=f"<code>{html.quote(order.ticket_code)}</code>"))
    lines.append("")
    lines.extend(
        _("{ticket} × {quantity}: {amount}").format(
            ticket=html.quote(ticket_type_name(item.ticket_type, tr)),
            quantity=item.quantity,
            amount=tr.money(item.total_minor, order.currency),
        )
        for item in order.items
    )
    if order.discount_percent and hotel_discount_minor(order) > 0:
        discount = tr.money(hotel_discount_minor(order), order.currency)
        if view.hotel is not None:
            lines.append(
                _("Hotel discount ({hotel}, {percent}%): −{amount}").format(
                    hotel=html.quote(view.hotel.name), percent=order.discount_percent, amount=discount
                )
            )
        else:
            lines.append(
                _("Hotel discount ({percent}%): −{amount}").format(percent=order.discount_percent, amount=discount)
            )
    lines.extend(order_checkout_lines(order, tr))  # a discount code, loyalty points (issue 15)
    lines.append(_("<b>Total: {amount}</b>").format(amount=tr.money(order.total_minor, order.currency)))
    lines.append("")
    lines.append(f"{TOURIST_STAGE_WORDS[stage].emoji} <b>{status}</b>")
    if after:
        lines.append("👉 " + after)
    return "\n".join(lines)


def running_late_open(tr: Translator, view: OrderView, now: datetime) -> bool:
    """The tourist can say "I'm running late" now (the rule of the reminder's button: a confirmed order, on the
    day of its session in the region's zone, before it ends)."""
    local_start = tr.now_local(view.region.timezone, view.session.starts_at)
    try:
        require_running_late(view.order, view.session, view.event, local_start, now)
    except InvalidTransition:
        return False
    return True


def order_card_kb(
    tr: Translator, order: Order, can_cancel: bool, keep: bool = False, late: bool = False, rebook: bool = False
) -> InlineKeyboardMarkup:
    """``keep``: the card is the booking's confirmation, so its navigation opens below it (:class:`BelowCb`);
    ``late``: "I'm running late" first (:func:`running_late_open`); ``rebook``: "Change date" (rebooking.py)."""
    _ = tr.gettext
    rows: list[list[InlineKeyboardButton]] = []
    if order.ticket is TicketStatus.ISSUED and order.ticket_code:
        rows.append([copy_code_button(order.ticket_code, tr)])  # the ticket code to the clipboard (copy_code.py)
    if late:
        # the organisers' package imports this module (through the notifications' parts): no cycle at import
        from handlers.organiser.callbacks import LateCb

        rows.append([button("🏃 " + _("I'm running late"), LateCb(order=order.stored_id))])
    if can_cancel:
        rows.append([button("✖️ " + _("Cancel booking"), OrderCb(action=OrderAction.CANCEL, order=order.stored_id))])
    if rebook:
        rows.append([button("🔄 " + _("Change date"), RebookCb(action=RebookAction.DATES, order=order.stored_id))])
    event: CallbackData = BelowCb(to=Below.EVENT, id=order.event_id) if keep else EventCb(event=order.event_id)
    orders: CallbackData = BelowCb(to=Below.ORDERS) if keep else MenuCb(action=MenuAction.ORDERS)
    if order.booking is BookingStatus.CONFIRMED:  # the .ics again (calendar.py)
        rows.append([button("🗓 " + _("Add to calendar"), CalendarCb(order=order.stored_id))])
    rows.append([button("🗺 " + _("Open the event"), event)])
    rows.append([button("🎟 " + _("Back to my orders"), orders)])
    rows.append([button("🏠 " + _("Main menu"), BelowCb(to=Below.HOME)) if keep else home_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel_confirm_kb(tr: Translator, order: Order) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    "✅ " + _("Yes, cancel it"),
                    OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.stored_id),
                    CANCEL_STYLE,
                )
            ],
            [button("↩️ " + _("No, keep it"), OrderCb(action=OrderAction.VIEW, order=order.stored_id))],
        ]
    )


def render_cancel_confirm(tr: Translator, order: Order) -> str:
    _ = tr.gettext
    lines = [_("<b>Cancel booking {code}?</b>").format(code=format_order_code(order.code)), ""]
    if order.payment is PaymentStatus.PAID:
        lines.append(
            _(
                "You have paid {amount}. If you cancel, the payment becomes a refund due: our team will return "
                "it and message you here."
            ).format(amount=tr.money(order.total_minor, order.currency))
        )
    else:
        lines.append(_("Cancelling is free: you have not paid anything."))
    lines.append(_("Your seats go back on sale."))
    return "\n".join(lines)


# ---- reads ------------------------------------------------------------------------------------------------------


async def order_card(
    uow: UnitOfWork, order_id: int, user_id: int, tr: Translator, now: datetime, keep: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    """The card of one of the user's orders (``keep``: see :func:`order_card_kb`); :class:`NotAllowed` for a
    foreign, forged or missing order."""
    async with uow.read():
        order = await get_own_order(uow, user_id, order_id)
        view = await read_order(uow, order.stored_id)
        cutoff = (await uow.organiser_settings.extras(view.event.organiser_id)).booking_cutoff if view else None
    if view is None or cutoff is None:
        raise NotFound(order=order_id)
    can_cancel = view.order.can_be_cancelled_by_tourist(view.session.starts_at, now)
    late = running_late_open(tr, view, now)
    rebook = offer_rebooking(view.order, view.session, cutoff, now)
    return render_order_card(tr, view, now), order_card_kb(tr, view.order, can_cancel, keep, late, rebook)


async def show_booked_card(
    query: CallbackQuery, uow: UnitOfWork, order_id: int, user_id: int, tr: Translator, now: datetime
) -> None:
    """The order card a booking turns into (its confirmation, ``keep``), recorded as :data:`OutboxKind.ORDER_CARD`
    with its message id: when the order is confirmed, declined, paid or cancelled later, that message is redrawn
    (``handlers.notifications.parts.redraw_order_cards``) instead of still saying "waiting for the organiser"."""
    message_id = await show(query, *await order_card(uow, order_id, user_id, tr, now, keep=True))
    if message_id is None or query.message is None:
        return
    chat_id = query.message.chat.id
    shown = keyed_message(OutboxKind.ORDER_CARD, chat_id, {"order_id": order_id}, now, order_id, message_id)
    async with uow:
        await uow.outbox.record_shown(shown, message_id)
        await uow.commit()


async def redraw_booked_cards(
    query: CallbackQuery, uow: UnitOfWork, order_id: int, user_id: int, tr: Translator, now: datetime
) -> None:
    """The recorded booking cards of the order (:func:`show_booked_card`) other than the pressed message, redrawn
    after the tourist changed the order from another message (e.g. cancelled it from "My orders")."""
    if query.bot is None:
        return
    async with uow.read():
        cards = await uow.outbox.sent_messages(f"{OutboxKind.ORDER_CARD.value}:{order_id}")
    pressed = query.message.message_id if query.message is not None else None
    cards = [(chat_id, message_id) for chat_id, message_id in cards if message_id != pressed]
    if not cards:
        return
    text, markup = await order_card(uow, order_id, user_id, tr, now, keep=True)
    for chat_id, message_id in cards:
        with contextlib.suppress(TelegramBadRequest):
            await query.bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)


async def orders_page(
    uow: UnitOfWork, user_id: int, page: int, tr: Translator, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the user's orders, newest first; a page beyond the last shows the last one."""
    _ = tr.gettext
    page = max(page, 0)
    async with uow.read():
        orders, total = await uow.orders.for_user(user_id, page * PAGE_SIZE, PAGE_SIZE)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        if not orders and page > 0 and total:
            page = pages - 1
            orders, total = await uow.orders.for_user(user_id, page * PAGE_SIZE, PAGE_SIZE)
        lines = [await _order_line(uow, order, tr, now) for order in orders]
        waiting = await waitlist_order_rows(uow, user_id, tr, now) if page == 0 else []

    if not total and not waiting:
        text = "\n\n".join(
            [
                _("<b>My orders</b>"),
                _("You have no orders yet. Let's find something nice to do!"),
            ]
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [button("🗺 " + _("Events"), MenuCb(action=MenuAction.EVENTS))],
                [home_button(tr)],
            ]
        )
        return text, markup

    header = [_("<b>My orders</b>"), tr.ngettext("You have {n} order.", "You have {n} orders.", total).format(n=total)]
    if pages > 1:
        header.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    header.append(_("Tap an order to see its status and what happens next."))
    rows = waiting + [
        [button(line, OrderCb(action=OrderAction.VIEW, order=order.stored_id))]
        for order, line in zip(orders, lines, strict=True)
    ]
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(button("◀️ " + _("Newer"), OrdersPageCb(page=page - 1)))
    if page < pages - 1:
        nav.append(button(_("Older") + " ▶️", OrdersPageCb(page=page + 1)))
    if nav:
        rows.append(nav)
    rows.append([home_button(tr)])
    return "\n".join(header), InlineKeyboardMarkup(inline_keyboard=rows)


async def _order_line(uow: UnitOfWork, order: Order, tr: Translator, now: datetime) -> str:
    """``K7M-A4X · Islands cruise · Tue, Dec 1 · ✅`` (buttons are plain text: no HTML here)."""
    code = format_order_code(order.code)
    if (view := await read_session(uow, order.session_id)) is None:
        return code
    session, region = view.session, view.region
    title = cut(localized(view.event.title, tr.language), TITLE_IN_BUTTON)
    day = tr.date(tr.now_local(region.timezone, session.starts_at).date())
    stage = order_stage(order, session.starts_at, session.status is SessionStatus.CANCELLED, now)
    return f"{code} · {title} · {day} · {TOURIST_STAGE_WORDS[stage].emoji}"


# ---- handlers ---------------------------------------------------------------------------------------------------


@router.message(Command("orders"))
async def cmd_orders(
    message: Message, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    await state.clear()
    text, markup = await orders_page(uow, user.id, 0, tr, clock.now())
    await message.answer(text, reply_markup=markup)


@router.callback_query(MenuCb.filter(F.action == MenuAction.ORDERS))
async def on_orders_open(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    await state.clear()
    text, markup = await orders_page(uow, user.id, 0, tr, clock.now())
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(OrdersPageCb.filter())
async def on_orders_page(
    query: CallbackQuery, callback_data: OrdersPageCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    text, markup = await orders_page(uow, user.id, callback_data.page, tr, clock.now())
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(OrderCb.filter(F.action == OrderAction.VIEW))
async def on_order_view(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    try:
        keep = await _booked_card_pressed(query, uow, callback_data.order)
        text, markup = await order_card(uow, callback_data.order, user.id, tr, clock.now(), keep)
    except NotAllowed:
        await _refuse_not_yours(query, tr)
        return
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(OrderCb.filter(F.action == OrderAction.CANCEL))
async def on_order_cancel(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    try:
        async with uow:
            order = await get_own_order(uow, user.id, callback_data.order)
            session = await uow.catalog.session(order.session_id)
    except NotAllowed:
        await _refuse_not_yours(query, tr)
        return
    if session is None or not order.can_be_cancelled_by_tourist(session.starts_at, now):
        await _refuse_stale(query, uow, order, user, tr, now)
        return
    await answer_query(query)
    await show(query, render_cancel_confirm(tr, order), cancel_confirm_kb(tr, order))


@router.callback_query(OrderCb.filter(F.action == OrderAction.CANCEL_CONFIRM))
async def on_order_cancel_confirm(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    try:
        order = await cancel_order(uow, user.id, callback_data.order, now)
    except NotAllowed:
        await _refuse_not_yours(query, tr)
        return
    except (InvalidTransition, ConcurrentChange) as error:
        async with uow:
            order = await get_own_order(uow, user.id, callback_data.order)
        await _refuse_stale(query, uow, order, user, tr, now, changed=isinstance(error, ConcurrentChange))
        return
    keep = await _booked_card_pressed(query, uow, order.stored_id)
    text, markup = await order_card(uow, order.stored_id, user.id, tr, now, keep)
    await answer_query(query, tr.gettext("Booking {code} cancelled.").format(code=format_order_code(order.code)))
    await show(query, text, markup)
    await redraw_booked_cards(query, uow, order.stored_id, user.id, tr, now)


async def _booked_card_pressed(query: CallbackQuery, uow: UnitOfWork, order_id: int) -> bool:
    """The press is on the card the booking turned into (:func:`show_booked_card`; "No, keep it" after Cancel): it
    stays that card, its navigation opening below, so the message later redrawn is still the order's card."""
    if query.message is None:
        return False
    async with uow:
        shown = await uow.outbox.order_for_message(
            OutboxKind.ORDER_CARD.value, query.message.chat.id, query.message.message_id
        )
    return shown == order_id


async def _refuse_not_yours(query: CallbackQuery, tr: Translator) -> None:
    """The button names someone else's order (forged, or from a forwarded message): refuse, change nothing."""
    await answer_query(query, tr.gettext("This is not your order."), alert=True)


async def _refuse_stale(
    query: CallbackQuery,
    uow: UnitOfWork,
    order: Order,
    user: User,
    tr: Translator,
    now: datetime,
    changed: bool = False,
) -> None:
    """The button was pressed on an outdated screen: say why in an alert and show the order as it is now."""
    _ = tr.gettext
    if changed:
        reason = _("This booking changed a moment ago. Here it is as it is now — please check and try again.")
    elif order.booking is BookingStatus.CANCELLED:
        reason = _("This booking is already cancelled.")
    else:
        reason = _("This booking can no longer be cancelled.")
    text, markup = await order_card(uow, order.stored_id, user.id, tr, now)
    await answer_query(query, reason, alert=True)
    await show(query, text, markup)
