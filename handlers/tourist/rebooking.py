"""My orders → an order → "Change date": the tourist moves their own order to another date of the same event.

Three screens: the other dates with free seats (before the organiser's booking cutoff, in the region's zone), the
summary of a move (old → new and what happens to the money), and the result. The rules and the change are in
:mod:`domain.use_cases.rebooking`; every press is re-checked there (someone else's order, a stale or forged button,
a date that filled up or closed meanwhile) and refused with an alert that says why, changing nothing. The price the
summary showed is kept in the conversation's data: Confirm with another price shows the new summary instead.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import (
    ConcurrentChange,
    DomainError,
    InvalidTransition,
    NoChange,
    NotAllowed,
    NotFound,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import EventSession, Region, localized
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus, TicketStatus, format_order_code
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.rebooking import NOT_ACTIVE, TICKETS_GONE, MoneyChange
from domain.use_cases.rebooking import (
    PriceChanged,
    RebookDates,
    Rebooked,
    RebookOrder,
    RebookQuote,
    quote_rebooking,
    rebook_order,
    rebooking_dates,
)
from handlers.tourist.callbacks import OrderAction, OrderCb, RebookAction, RebookCb
from handlers.tourist.keyboards import home_button
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.orders import order_card, redraw_booked_cards
from handlers.ui import Translator, button

router = Router(name=__name__)
log = logging.getLogger(__name__)

SEEN = "rebook_seen"  # the conversation's data: {"order": id, "session": id, "total": minor} of the last summary


# ---- rendering: pure functions of data and a translator ---------------------------------------------------------


def _tickets(order: Order, tr: Translator) -> str:
    return ", ".join(f"{html.quote(ticket_type_name(i.ticket_type, tr))} × {i.quantity}" for i in order.items)


def _back_to_order(tr: Translator, order_id: int) -> list[InlineKeyboardButton]:
    return [button("↩️ " + tr.gettext("Back to the order"), OrderCb(action=OrderAction.VIEW, order=order_id))]


def render_dates(tr: Translator, found: RebookDates) -> tuple[str, InlineKeyboardMarkup]:
    """The other dates the order may move to, as buttons (time in the region's zone, free seats)."""
    _ = tr.gettext
    order, zone = found.order, found.region.timezone
    lines = [
        "🗓 " + _("<b>Change the date of order {code}</b>").format(code=format_order_code(order.code)),
        f"<b>{html.quote(localized(found.event.title, tr.language))}</b>",
        _("Now: {time}").format(time=tr.zoned(found.session.starts_at, zone)),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if found.dates:
        lines.append(
            tr.ngettext(
                "Pick a new date. These dates have a free seat for your ticket:",
                "Pick a new date. These dates have free seats for all {n} of your tickets:",
                order.seats,
            ).format(n=order.seats)
        )
        rows += [[_date_button(tr, order, s, found.region)] for s in found.dates]
    else:
        lines.append(
            _(
                "There is no other date with enough free seats that can still be booked. Your booking stays as it "
                "is; you can also cancel it."
            )
        )
    rows += [_back_to_order(tr, order.stored_id), [home_button(tr)]]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _date_button(tr: Translator, order: Order, session: EventSession, region: Region) -> InlineKeyboardButton:
    seats = tr.ngettext("{n} seat left", "{n} seats left", session.seats_left).format(n=session.seats_left)
    data = RebookCb(action=RebookAction.PICK, order=order.stored_id, session=session.id)
    return button(f"{tr.zoned(session.starts_at, region.timezone)} · {seats}", data)


def _money_lines(tr: Translator, quote: RebookQuote) -> list[str]:
    """What the move does to the money, in the tourist's words."""
    _ = tr.gettext
    order = quote.order
    money = tr.money(abs(quote.difference_minor), order.currency)
    new, old = tr.money(quote.total_minor, order.currency), tr.money(order.total_minor, order.currency)
    match quote.money:
        case MoneyChange.NONE:
            return [_("The price stays the same: {amount}.").format(amount=new)]
        case MoneyChange.REFUND:
            return [
                _("The new date costs {difference} less: {new} instead of {old}.").format(
                    difference=money, new=new, old=old
                ),
                "💶 " + _("Our team will refund the difference of {amount} and message you here.").format(amount=money),
            ]
        case MoneyChange.PAY_FIRST:
            return [
                _("The new date costs {difference} more: {new} instead of {old}.").format(
                    difference=money, new=new, old=old
                ),
                "💳 "
                + _(
                    "You pay the difference of {amount} by invoice; your date changes as soon as it is paid. Until "
                    "then your booking stays as it is."
                ).format(amount=money),
            ]
    lines = [_("The price on the new date: {new} instead of {old}.").format(new=new, old=old)]
    if order.booking is BookingStatus.CONFIRMED and order.payment is PaymentStatus.AWAITING:
        lines.append(_("A new invoice follows; the old one is no longer valid."))
    return lines


def render_summary(tr: Translator, quote: RebookQuote) -> tuple[str, InlineKeyboardMarkup]:
    """Old date → new date, the tickets, what happens to the money and to the organiser; confirm or go back."""
    _ = tr.gettext
    order, zone = quote.order, quote.region.timezone
    lines = [
        "🗓 " + _("<b>Change the date of order {code}?</b>").format(code=format_order_code(order.code)),
        f"<b>{html.quote(localized(quote.event.title, tr.language))}</b>",
        _("From: {time}").format(time=tr.zoned(quote.session.starts_at, zone)),
        _("To: <b>{time}</b>").format(time=tr.zoned(quote.target.starts_at, zone)),
        "🎟 " + _tickets(order, tr),
        "",
        *_money_lines(tr, quote),
    ]
    if order.ticket is TicketStatus.ISSUED:
        lines.append(_("Your ticket code stays the same; you get the ticket for the new date."))
    if order.booking is BookingStatus.AWAITING_ORGANISER:
        lines.append(_("The organiser has not confirmed your booking yet: they will answer for the new date."))
    else:
        lines.append(_("We will let the organiser know."))
    if quote.money is MoneyChange.PAY_FIRST:
        money = tr.money(quote.difference_minor, order.currency)
        confirm = "💳 " + _("Pay {amount} and change the date").format(amount=money)
    else:
        confirm = "✅ " + _("Change the date")
    data = RebookCb(action=RebookAction.CONFIRM, order=order.stored_id, session=quote.target.id)
    rows = [
        [button(confirm, data)],
        [button("🗓 " + _("Other dates"), RebookCb(action=RebookAction.DATES, order=order.stored_id))],
        _back_to_order(tr, order.stored_id),
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def render_invoiced(tr: Translator, done: Rebooked) -> tuple[str, InlineKeyboardMarkup]:
    """A paid order to a dearer date: the invoice for the difference follows; nothing moved yet."""
    _ = tr.gettext
    quote = done.quote
    zone = quote.region.timezone
    text = "💳 " + _(
        "The invoice for the difference of {amount} follows. Your booking moves to {new} as soon as it is paid; "
        "until then it stays on {old}."
    ).format(
        amount=tr.money(done.difference_minor, done.order.currency),
        new=tr.zoned(quote.target.starts_at, zone),
        old=tr.zoned(quote.session.starts_at, zone),
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[_back_to_order(tr, done.order.stored_id), [home_button(tr)]])


def moved_lines(tr: Translator, done: Rebooked) -> list[str]:
    """The head of the order card after a move: done, and what follows for the money."""
    _ = tr.gettext
    lines = ["✅ " + _("Date changed.")]
    amount = tr.money(abs(done.difference_minor), done.order.currency)
    if done.money is MoneyChange.REFUND:
        lines.append(
            "💶 " + _("Our team will refund the difference of {amount} and message you here.").format(amount=amount)
        )
    if done.new_invoice:
        lines.append(_("A new invoice follows; the old one is no longer valid."))
    return lines


# ---- refusals -------------------------------------------------------------------------------------------------------


def refusal_text(tr: Translator, error: DomainError) -> str:
    """Why the press changed nothing, for the alert."""
    _ = tr.gettext
    if isinstance(error, NotAllowed):
        return _("This is not your order.")
    if isinstance(error, InvalidTransition):
        reason = error.data.get("reason")
        if reason == NOT_ACTIVE:
            return _("This booking can no longer be changed.")
        if reason == TICKETS_GONE:
            return _("This booking cannot be moved here. Please ask us a question and our team will help.")
        return _("It is too late to change the date of this booking: the booking time for it has closed.")
    if isinstance(error, SoldOut):
        return _("Sorry, that date no longer has enough free seats for you. Please pick another one.")
    if isinstance(error, PriceChanged):
        return _("The price of that date changed a moment ago. Please check the new summary.")
    if isinstance(error, ConcurrentChange):
        return _("This booking changed a moment ago. Here it is as it is now — please check and try again.")
    return _("That date can no longer be booked. Please pick another one.")


async def _refuse(
    query: CallbackQuery,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    now: datetime,
    order_id: int,
    error: DomainError,
) -> None:
    """An alert that says why, then the screen that still makes sense: the dates when only the new date was the
    problem, the order card when the order itself cannot be moved, nothing for someone else's order."""
    await answer_query(query, refusal_text(tr, error), alert=True)
    if isinstance(error, NotAllowed):
        return
    if isinstance(error, SoldOut | SessionNotBookable | NotFound | NoChange):
        try:
            await show(query, *render_dates(tr, await rebooking_dates(uow, user.id, order_id, now)))
            return
        except DomainError:
            pass  # the order itself can no longer be moved either: its card says how it stands
    try:
        await show(query, *await order_card(uow, order_id, user.id, tr, now))
    except DomainError:
        log.info("order %s: gone while refusing a date change", order_id)


async def _on_booked_card(query: CallbackQuery, uow: UnitOfWork, order_id: int) -> bool:
    """The screens replaced the card the booking turned into (recorded as ``ORDER_CARD``): it becomes that card
    again, its navigation opening below (as after "No, keep it" on a cancel)."""
    if query.message is None:
        return False
    async with uow.read():
        shown = await uow.outbox.order_for_message(
            OutboxKind.ORDER_CARD.value, query.message.chat.id, query.message.message_id
        )
    return shown == order_id


# ---- handlers -------------------------------------------------------------------------------------------------------


@router.callback_query(RebookCb.filter(F.action == RebookAction.DATES))
async def on_dates(
    query: CallbackQuery, callback_data: RebookCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    now = clock.now()
    try:
        found = await rebooking_dates(uow, user.id, callback_data.order, now)
    except DomainError as error:
        await _refuse(query, uow, user, tr, now, callback_data.order, error)
        return
    await answer_query(query)
    await show(query, *render_dates(tr, found))


async def _summary(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, now: datetime, cb: RebookCb
) -> None:
    """The summary of moving to ``cb.session``; its price kept as the one the tourist saw."""
    quote = await quote_rebooking(uow, user.id, cb.order, cb.session, now)
    await state.update_data({SEEN: {"order": cb.order, "session": cb.session, "total": quote.total_minor}})
    await show(query, *render_summary(tr, quote))


@router.callback_query(RebookCb.filter(F.action == RebookAction.PICK))
async def on_pick(
    query: CallbackQuery,
    callback_data: RebookCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
) -> None:
    now = clock.now()
    try:
        await _summary(query, state, uow, user, tr, now, callback_data)
    except DomainError as error:
        await _refuse(query, uow, user, tr, now, callback_data.order, error)
        return
    await answer_query(query)


@router.callback_query(RebookCb.filter(F.action == RebookAction.CONFIRM))
async def on_confirm(
    query: CallbackQuery,
    callback_data: RebookCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
) -> None:
    now = clock.now()
    seen = (await state.get_data()).get(SEEN)
    same = isinstance(seen, dict) and (seen.get("order"), seen.get("session")) == (
        callback_data.order,
        callback_data.session,
    )
    try:
        if not same or not isinstance(seen, dict) or not isinstance(seen.get("total"), int):
            # a summary from another conversation (or forged): show it again, with its price, before any change
            await _summary(query, state, uow, user, tr, now, callback_data)
            await answer_query(query, tr.gettext("Please check the summary and confirm again."))
            return
        cmd = RebookOrder(user.id, callback_data.order, callback_data.session, seen["total"])
        done = await rebook_order(uow, cmd, now)
    except PriceChanged:
        await answer_query(query, refusal_text(tr, PriceChanged()), alert=True)
        try:
            await _summary(query, state, uow, user, tr, now, callback_data)
        except DomainError as error:
            await _refuse(query, uow, user, tr, now, callback_data.order, error)
        return
    except DomainError as error:
        await _refuse(query, uow, user, tr, now, callback_data.order, error)
        return
    await state.update_data({SEEN: None})
    if not done.moved:
        await answer_query(query)
        await show(query, *render_invoiced(tr, done))
        return
    await answer_query(query, tr.gettext("Date changed."))
    keep = await _on_booked_card(query, uow, done.order.stored_id)
    text, markup = await order_card(uow, done.order.stored_id, user.id, tr, now, keep)
    await show(query, "\n".join([*moved_lines(tr, done), "", text]), markup)
    await redraw_booked_cards(query, uow, done.order.stored_id, user.id, tr, now)
