"""The ``/order`` card's session and tickets: move the order to another session of its event, change how many
tickets of each type it has (a draft edited with ➖/➕, carried in the buttons, then saved)."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import DomainError, InvalidQuantity, NoChange, PaidPriceUp, SoldOut
from domain.model.catalog import BOOKING_CUTOFF
from domain.ports import Clock, UnitOfWork
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases import order_changes as oc
from handlers.operator.access import Operator
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.operator.errors import domain_error_text
from handlers.operator.order_card import OrderDeskAction, OrderDeskCb, back_kb, order_button, order_title
from handlers.operator.order_flow import editable, refresh_card, show_done, view_or_refuse
from handlers.read_models import OrderView
from handlers.settings import HandlerSettings
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator

router = Router(name=__name__)

SESSION_CHOICES = 8
UPCOMING_LOOKED_AT = 50


# ---- another session -------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.SESSIONS))
async def on_order_sessions(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(query, uow, callback_data.order, tr, now, editable(now), zone=settings.desk_timezone)
    if view is None:
        return
    async with uow:
        upcoming = await uow.catalog.upcoming_sessions(view.event.id, now + BOOKING_CUTOFF, UPCOMING_LOOKED_AT)
    seats = view.order.seats
    choices = [s for s in upcoming if s.id != view.session.id and s.bookable(now) and s.seats_left >= seats]
    if not choices:
        await answer_query(
            query, tr.gettext("No other session of this event has {n} free seats.").format(n=seats), alert=True
        )
        return
    desk_clock = DeskClock(tr, await desk_zone(uow, settings.desk_timezone))
    rows = [
        [
            order_button(
                desk_clock.button(
                    s.starts_at, after=" · " + tr.ngettext("{n} left", "{n} left", s.seats_left).format(n=s.seats_left)
                ),
                OrderDeskAction.SESSION,
                view.id,
                s.id,
            )
        ]
        for s in choices[:SESSION_CHOICES]
    ]
    text = "\n".join(
        [
            order_title(tr, view),
            "🗓 " + tr.gettext("Now: {time}").format(time=desk_clock.datetime(view.session.starts_at)),
            "",
            tr.gettext("Move the order ({n} seats) to:").format(n=seats),
        ]
    )
    await answer_query(query)
    await show(query, text, back_kb(tr, view.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.SESSION))
async def on_order_session_pick(
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
        order = await oc.change_session(uow, callback_data.order, callback_data.arg, operator.actor, now)
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    async with uow:
        session = await uow.catalog.session(order.session_id)
    desk_clock = DeskClock(tr, await desk_zone(uow, settings.desk_timezone))
    when = desk_clock.datetime(session.starts_at) if session else ""
    what = tr.gettext("moved to {time}").format(time=when)
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)


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

    def money(minor: int) -> str:
        return tr.money(minor, order.currency)

    booked = {item.ticket_type: item.unit_price_minor for item in order.items}
    lines = [order_title(tr, view), "🎟 " + _("Tickets"), ""]
    rows: list[list[InlineKeyboardButton]] = []
    q = draft_text(draft)
    for index, (ticket, count) in enumerate(zip(event.ticket_types, draft, strict=True)):
        name = ticket_type_name(ticket.code, tr)
        price = booked.get(ticket.code, ticket.price_minor)
        lines.append(
            _("{ticket} × {quantity}: {amount}").format(
                ticket=html.quote(name), quantity=count, amount=money(count * price)
            )
        )
        rows.append(
            [
                order_button("➖", OrderDeskAction.QTY_DEC, view.id, index, q),
                order_button(f"{name}: {count}", OrderDeskAction.QUANTITIES, view.id, 0, q),
                order_button("➕", OrderDeskAction.QTY_INC, view.id, index, q),
            ]
        )
    quantities = {t.code: n for t, n in zip(event.ticket_types, draft, strict=True) if n}
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
    if sum(draft) > order.seats:
        lines.append(_("Free seats in the session: {n}").format(n=view.session.seats_left))
    rows.append([order_button("💾 " + _("Save"), OrderDeskAction.QTY_SAVE, view.id, 0, q)])
    return "\n".join(lines), back_kb(tr, view.id, *rows)


def _stale(tr: Translator) -> str:
    return tr.gettext("This button is no longer valid. Here is the order as it is now.")


@router.callback_query(
    OrderDeskCb.filter(F.action.in_({OrderDeskAction.QUANTITIES, OrderDeskAction.QTY_INC, OrderDeskAction.QTY_DEC}))
)
async def on_order_quantities(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(query, uow, callback_data.order, tr, now, editable(now), zone=settings.desk_timezone)
    if view is None:
        return
    types = view.event.ticket_types
    if callback_data.q:
        draft = parse_draft(callback_data.q, len(types))
        if draft is None:
            await refresh_card(query, uow, view.id, tr, now, _stale(tr), zone=settings.desk_timezone)
            return
    else:
        booked = {item.ticket_type: item.quantity for item in view.order.items}
        draft = [booked.get(t.code, 0) for t in types]
    index = callback_data.arg
    if callback_data.action is not OrderDeskAction.QUANTITIES and not 0 <= index < len(types):
        await refresh_card(query, uow, view.id, tr, now, _stale(tr), zone=settings.desk_timezone)
        return
    if callback_data.action is OrderDeskAction.QTY_INC:
        if sum(draft) >= MAX_TICKETS_PER_ORDER:
            limit = tr.gettext("Choose between 1 and {limit} tickets.").format(limit=MAX_TICKETS_PER_ORDER)
            await answer_query(query, limit)
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
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    async with uow:
        order = await uow.orders.get(callback_data.order)
        event = await uow.catalog.event(order.event_id) if order else None
    draft = parse_draft(callback_data.q, len(event.ticket_types)) if event else None
    if event is None or draft is None:
        await refresh_card(query, uow, callback_data.order, tr, now, _stale(tr), zone=settings.desk_timezone)
        return
    quantities = {t.code: n for t, n in zip(event.ticket_types, draft, strict=True) if n}
    try:
        changed = await oc.change_quantities(uow, callback_data.order, quantities, operator.actor, now)
    except (InvalidQuantity, SoldOut, PaidPriceUp, NoChange) as error:
        await answer_query(query, domain_error_text(error, tr), alert=True)  # the editor stays: fix and save again
        return
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    tickets = ", ".join(f"{ticket_type_name(i.ticket_type, tr)} × {i.quantity}" for i in changed.items)
    what = tr.gettext("tickets changed to {tickets}, total {amount}").format(
        tickets=html.quote(tickets), amount=tr.money(changed.total_minor, changed.currency)
    )
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)
