"""The ``/order`` card: an order and everything around it in the operators' words, its buttons, and its history.

Pure rendering (no handler): :mod:`handlers.operator.orders` shows it and acts on its buttons; other desk modules
open it with :class:`OrderDeskCb` (``VIEW``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.notifications.booking import read_order_context
from domain.model.catalog import (
    Event,
    EventSession,
    Hotel,
    Organiser,
    Region,
    SessionStatus,
    localized,
)
from domain.model.messages import AuditEntry
from domain.model.orders import (
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.model.payments import Payment
from domain.model.users import User, mask_phone
from domain.ports import UnitOfWork
from domain.use_cases import order_changes as oc
from handlers.tourist.labels import ticket_type_name
from handlers.ui import Translator

CARD_AUDIT_ENTRIES = 10
TEXT_LIMIT = 4096
CARD_BUDGET = 3900  # characters of the card, leaving room for the "who did what" line
AUDIT_PAGE_BUDGET = 3600  # characters of audit entries per page of the history
AUDIT_MAX_ENTRIES = 2000
ENTRY_LIMIT = 300  # characters of one audit entry's details on the card
AUDIT_ENTRY_LIMIT = 1200  # in the history: a whole note
ANSWER_LIMIT = 200
ANSWERS_BUDGET = 1500  # characters of the questions' answers on the card


class OrderDeskAction(enum.StrEnum):
    VIEW = "v"  # the card as a new message (from /find, a problem card, a digest)
    REFRESH = "r"  # the card again, in place
    SESSIONS = "s"  # the event's other sessions with free seats
    SESSION = "sp"  # move to session ``arg``
    QUANTITIES = "q"  # the quantities editor (``q`` the draft)
    QTY_INC = "qi"  # ticket type ``arg`` + 1
    QTY_DEC = "qd"
    QTY_SAVE = "qs"
    TICKET = "t"  # asks first
    TICKET_YES = "ty"
    HOTEL = "h"  # asks for a name
    HOTEL_PICK = "hp"  # hotel ``arg``
    HOTEL_NONE = "hn"
    CANCEL = "c"  # asks: with or without the refund
    CANCEL_REFUND = "cr"
    CANCEL_KEEP = "ck"  # without the refund: it stays due
    REFUND = "f"  # asks: everything owed, or an amount
    REFUND_ALL = "fa"
    REFUND_AMOUNT = "ft"  # asks for the amount
    NOTE = "n"  # asks for the text
    HISTORY = "a"  # page ``arg`` of the audit log


class OrderDeskCb(CallbackData, prefix="do"):
    action: OrderDeskAction
    order: int
    arg: int = 0
    q: str = ""  # the quantities draft: one count per ticket type of the event, "2-1-0"


def _e(text: str) -> str:
    return escape(text, quote=False)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _button(text: str, action: OrderDeskAction, order_id: int, arg: int = 0, q: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=OrderDeskCb(action=action, order=order_id, arg=arg, q=q).pack()
    )


# ---- what the card shows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order and everything the card shows, read in one transaction."""

    order: Order
    event: Event
    session: EventSession
    region: Region
    organiser: Organiser
    hotel: Hotel | None
    user: User | None
    payments: tuple[Payment, ...]
    history: tuple[AuditEntry, ...]  # newest first


async def load_order_view(uow: UnitOfWork, order_id: int, history: int = CARD_AUDIT_ENTRIES) -> OrderView | None:
    async with uow:
        ctx = await read_order_context(uow, order_id)
        if ctx is None:
            return None
        payments = tuple(await uow.payments.for_order(order_id))
        entries = tuple(await uow.audit.for_order(order_id, history))
    return OrderView(
        ctx.order, ctx.event, ctx.session, ctx.region, ctx.organiser, ctx.hotel, ctx.user, payments, entries
    )


def booking_words(status: BookingStatus, tr: Translator) -> str:
    _ = tr.gettext
    return {
        BookingStatus.AWAITING_ORGANISER: _("awaiting the organiser"),
        BookingStatus.CONFIRMED: _("confirmed"),
        BookingStatus.DECLINED: _("declined by the organiser"),
        BookingStatus.CANCELLED: _("cancelled"),
        BookingStatus.EXPIRED: _("expired"),
        BookingStatus.ATTENDED: _("attended"),
        BookingStatus.NO_SHOW: _("no-show"),
    }.get(status, status.value)


def payment_words(status: PaymentStatus, tr: Translator) -> str:
    _ = tr.gettext
    return {
        PaymentStatus.NOT_DUE: _("nothing to pay"),
        PaymentStatus.AWAITING: _("awaiting payment"),
        PaymentStatus.ON_SITE: _("to be paid at the meeting point"),
        PaymentStatus.PAID: _("paid"),
        PaymentStatus.REFUND_DUE: _("refund due"),
        PaymentStatus.REFUNDED: _("refunded"),
        PaymentStatus.PARTIALLY_REFUNDED: _("partially refunded"),
    }.get(status, status.value)


def ticket_words(status: TicketStatus, tr: Translator) -> str:
    _ = tr.gettext
    return {
        TicketStatus.NONE: _("not issued"),
        TicketStatus.ISSUED: _("issued"),
        TicketStatus.VOIDED: _("void"),
    }.get(status, status.value)


def actor_words(actor: str, tr: Translator) -> str:
    _ = tr.gettext
    kind, _sep, who = actor.partition(":")
    if kind == "operator":
        return _("operator {id}").format(id=_e(who))
    if kind == "organiser":
        return _("organiser")
    if kind in ("user", "tourist"):
        return _("tourist")
    if kind == "system":
        return _("system")
    return _e(actor)


def action_words(action: str, tr: Translator) -> str:
    _ = tr.gettext
    words = {
        "order.placed": _("order placed"),
        "order.confirmed_by_organiser": _("confirmed by the organiser"),
        "order.declined_by_organiser": _("declined by the organiser"),
        "order.unclear_organiser_reply": _("unclear answer from the organiser"),
        "order.cancelled_by_tourist": _("cancelled by the tourist"),
        "order.expired": _("expired"),
        "order.organiser_nudged": _("organiser reminded"),
        "order.pay_reminded": _("tourist reminded to pay"),
        "order.rated": _("rated"),
        "payment.received": _("payment received"),
        "payment.not_applied": _("payment not applied (due back)"),
        "reminder.sent": _("reminder sent"),
        "reminder.skipped": _("reminder skipped"),
        "order.confirmed_for_organiser": _("confirmed for the organiser"),
        "order.declined_for_organiser": _("declined for the organiser"),
        "order.tourist_reminded": _("tourist reminded"),
        "order.cancelled_by_operator": _("cancelled by an operator"),
        "order.refund_recorded": _("refund recorded"),
        "order.ticket_reissued": _("ticket replaced"),
        "order.session_changed": _("session changed"),
        "order.quantities_changed": _("tickets changed"),
        "order.hotel_set": _("hotel changed"),
        "order.note": _("note"),
    }
    return words.get(action, action)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def entry_details(entry: AuditEntry) -> str:
    """What changed: ``key: before → after`` for the values that differ, then what only ``after`` says."""
    if entry.action == "order.note":
        return str(entry.after.get("note", ""))
    parts = []
    for key, after in entry.after.items():
        if key in entry.before:
            if entry.before[key] != after:
                parts.append(f"{key}: {_value(entry.before[key])} → {_value(after)}")
        elif after not in (None, "", 0, False, {}):
            parts.append(f"{key}: {_value(after)}")
    return "; ".join(parts)


def entry_line(entry: AuditEntry, tr: Translator, timezone: str, limit: int = ENTRY_LIMIT) -> str:
    line = f"{tr.datetime(entry.at, timezone)} · {actor_words(entry.actor, tr)} · <b>{_e(action_words(entry.action, tr))}</b>"
    if details := entry_details(entry):
        cut = limit
        shown = _e(_cut(details, cut))
        while len(shown) > limit and cut > 20:  # escaping can make a text much longer (<<<<)
            cut //= 2
            shown = _e(_cut(details, cut))
        line += ": " + shown
    return line


def paid_minor(view: OrderView) -> int:
    """Money that paid the order (applied payments; the order's total when it was paid without a recorded one)."""
    applied = sum(p.amount_minor for p in view.payments if p.applied)
    if applied:
        return applied
    held_once = view.order.paid_at is not None or view.order.payment in (
        PaymentStatus.PAID,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUND_DUE,
        PaymentStatus.REFUNDED,
    )
    return view.order.total_minor if held_once else 0


def order_card_text(tr: Translator, view: OrderView, now: datetime, done: str | None = None) -> str:
    """The whole order in the operators' language (HTML, under Telegram's 4096 characters)."""
    _ = tr.gettext
    order, session, tz = view.order, view.session, view.region.timezone
    money = lambda minor: tr.money(minor, order.currency)  # noqa: E731
    when = tr.datetime(session.starts_at, tz)
    if session.status is SessionStatus.CANCELLED:
        when += " · " + _("session cancelled")
    elif session.starts_at <= now:
        when += " · " + _("session started or over")
    lines = [
        "🧾 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code)),
        f"<b>{_e(localized(view.event.title, tr.language))}</b> ({_e(localized(view.region.name, tr.language))})",
        "🗓 " + when,
        "",
        _("Booking: {status}").format(status=booking_words(order.booking, tr)),
        _("Payment: {status}").format(status=payment_words(order.payment, tr)),
        _("Ticket: {status}").format(status=ticket_words(order.ticket, tr))
        + (f" · <code>{_e(order.ticket_code)}</code>" if order.ticket_code else ""),
        "",
    ]
    for item in order.items:
        lines.append(
            "🎟 "
            + _("{ticket} × {quantity}: {amount}").format(
                ticket=_e(ticket_type_name(item.ticket_type, tr)),
                quantity=item.quantity,
                amount=money(item.total_minor),
            )
        )
    if order.discount_percent:
        lines.append(
            _("Discount {percent}%: −{amount}").format(
                percent=order.discount_percent, amount=money(order.subtotal_minor - order.total_minor)
            )
        )
    lines.append(_("<b>Total: {amount}</b>").format(amount=money(order.total_minor)))
    lines.append(
        _("Paid: {paid} · refunded: {refunded} · owed back: {owed}").format(
            paid=money(paid_minor(view)), refunded=money(order.refunded_minor), owed=money(oc.owed_minor(order))
        )
    )
    if order.stray_minor:
        lines.append("⚠️ " + _("Payments that did not pay the order: {amount}").format(amount=money(order.stray_minor)))
    if order.partial_refund_minor:
        lines.append("⚠️ " + _("Partial refund due: {amount}").format(amount=money(order.partial_refund_minor)))
    if view.hotel is not None:
        lines.append(
            "🏨 " + _e(view.hotel.name) + (f" ({view.hotel.discount_percent}%)" if view.hotel.discount_percent else "")
        )
    else:
        lines.append("🏨 " + _("no hotel"))
    answers = 0
    for question in view.organiser.questions:
        answer = order.answers.get(question.id)
        if not answer:
            continue
        choice = next((c for c in question.choices if c.id == answer), None)
        shown = localized(choice.text, tr.language) if choice else answer
        line = (
            f"❓ {_e(_cut(localized(question.text, tr.language), ANSWER_LIMIT))} <i>{_e(_cut(shown, ANSWER_LIMIT))}</i>"
        )
        answers += len(line)
        if answers > ANSWERS_BUDGET:
            lines.append("❓ …")
            break
        lines.append(line)
    if order.booking is BookingStatus.AWAITING_ORGANISER and order.confirm_by:
        lines.append("⏳ " + _("Organiser to answer by {time}").format(time=tr.datetime(order.confirm_by, tz)))
    if order.payment is PaymentStatus.AWAITING and order.pay_by:
        lines.append(
            "⏳ "
            + _("To be paid by {time}; seats held until {held}").format(
                time=tr.datetime(order.pay_by, tz), held=tr.datetime(max(order.hold_until, order.pay_by), tz)
            )
        )
    if order.cancelled_at:
        lines.append(_("Ended: {time}").format(time=tr.datetime(order.cancelled_at, tz)))
    if order.unclear_reply:
        lines.append(
            "🤔 "
            + _("Organiser's unclear answer: {text}").format(
                text=f"<i>{_e(_cut(order.unclear_reply, ANSWER_LIMIT))}</i>"
            )
        )
    if order.rating is not None:
        lines.append("⭐ " + _("Rating: {stars}").format(stars=order.rating))
    lines.append("")
    if view.user is None:
        lines.append("👤 " + _("Tourist: data deleted"))
    else:
        name = _e(_cut(view.user.first_name or "", 64)) or str(view.user.id)
        details = [name, tr.language_in_mine(view.user.language)]
        details.append(mask_phone(view.user.phone) if view.user.phone else _("no phone"))
        lines.append("👤 " + _("Tourist: {details}").format(details=" · ".join(details)))
    organiser = [_e(view.organiser.name)]
    if view.organiser.phone:
        organiser.append(mask_phone(view.organiser.phone))
    lines.append("🧭 " + _("Organiser: {details}").format(details=" · ".join(organiser)))
    head = "\n".join(lines)
    history = [entry_line(e, tr, tz) for e in view.history[:CARD_AUDIT_ENTRIES]]
    while history and len(head) + sum(len(h) + 1 for h in history) + 40 > CARD_BUDGET:
        history.pop()  # the oldest of the shown entries go first
    text = head
    if history:
        text += "\n\n" + "📜 " + _("Latest changes:") + "\n" + "\n".join(reversed(history))
    if done:
        text += "\n\n" + done
    return _cut(text, TEXT_LIMIT)


def order_card_kb(tr: Translator, view: OrderView, now: datetime) -> InlineKeyboardMarkup:
    """The actions that apply to the order now."""
    _ = tr.gettext
    order_id = view.order.id
    rows: list[list[InlineKeyboardButton]] = []
    editable = oc.can_edit(view.order, view.session, now)
    if editable:
        rows.append(
            [
                _button("🗓 " + _("Change session"), OrderDeskAction.SESSIONS, order_id),
                _button("🎟 " + _("Quantities"), OrderDeskAction.QUANTITIES, order_id),
            ]
        )
    row = []
    if editable:
        row.append(_button("🏨 " + _("Hotel"), OrderDeskAction.HOTEL, order_id))
    if oc.can_reissue(view.order):
        row.append(_button("🎫 " + _("Replace ticket"), OrderDeskAction.TICKET, order_id))
    if row:
        rows.append(row)
    row = []
    if oc.can_cancel(view.order, view.session, view.event, now):
        row.append(_button("🚫 " + _("Cancel"), OrderDeskAction.CANCEL, order_id))
    if oc.owed_minor(view.order) > 0:
        row.append(_button("💶 " + _("Refund"), OrderDeskAction.REFUND, order_id))
    if row:
        rows.append(row)
    rows.append(
        [
            _button("📝 " + _("Note"), OrderDeskAction.NOTE, order_id),
            _button("📜 " + _("History"), OrderDeskAction.HISTORY, order_id),
            _button("🔄", OrderDeskAction.REFRESH, order_id),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def order_card(
    uow: UnitOfWork, order_id: int, tr: Translator, now: datetime, done: str | None = None
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The card of order ``order_id`` and its buttons; None if there is no such order."""
    view = await load_order_view(uow, order_id)
    if view is None:
        return None
    return order_card_text(tr, view, now, done), order_card_kb(tr, view, now)


def back_kb(tr: Translator, order_id: int, *extra: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[*extra, [_button("↩️ " + tr.gettext("Back to the order"), OrderDeskAction.REFRESH, order_id)]]
    )


def _title(tr: Translator, view: OrderView) -> str:
    return (
        "🧾 "
        + tr.gettext("<b>Order {code}</b>").format(code=format_order_code(view.order.code))
        + " · "
        + _e(localized(view.event.title, tr.language))
    )


# ---- the history -----------------------------------------------------------------------------------------------------


def audit_pages(tr: Translator, view: OrderView, entries: list[AuditEntry]) -> list[str]:
    """The order's history, oldest first, cut into pages of whole entries under Telegram's limit."""
    lines = [entry_line(e, tr, view.region.timezone, AUDIT_ENTRY_LIMIT) for e in entries]
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > AUDIT_PAGE_BUDGET:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return ["\n".join(page) for page in pages]


async def history_screen(
    uow: UnitOfWork, order_id: int, page: int, tr: Translator
) -> tuple[str, InlineKeyboardMarkup] | None:
    view = await load_order_view(uow, order_id, history=AUDIT_MAX_ENTRIES)
    if view is None:
        return None
    _ = tr.gettext
    entries = list(reversed(view.history))
    pages = audit_pages(tr, view, entries)
    page = min(max(page, 0), len(pages) - 1)
    head = [_title(tr, view), "📜 " + _("History")]
    if len(pages) > 1:
        head.append(_("Page {page} of {pages}").format(page=page + 1, pages=len(pages)))
    body = pages[page] or _("No entries yet.")
    nav = []
    if page > 0:
        nav.append(_button("◀️", OrderDeskAction.HISTORY, order_id, page - 1))
    if page < len(pages) - 1:
        nav.append(_button("▶️", OrderDeskAction.HISTORY, order_id, page + 1))
    markup = back_kb(tr, order_id, *([nav] if nav else []))
    return _cut("\n".join(head) + "\n\n" + body, TEXT_LIMIT), markup
