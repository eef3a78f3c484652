"""The ``/order`` card: an order and everything around it in the operators' words, its buttons, and its history.

Pure rendering (no handler): :mod:`handlers.operator.orders` shows it, the ``order_*`` modules act on its buttons;
other desk modules open it with :class:`OrderDeskCb` (``VIEW``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import SessionStatus, localized
from domain.model.orders import BookingStatus, PaymentStatus, format_order_code
from domain.model.users import mask_phone
from domain.ports import UnitOfWork
from domain.use_cases import order_changes as oc
from handlers.operator.audit_entries import actor_names, audit_pages, entry_line
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.operator.money_lines import owed_back_text
from handlers.read_models import OrderView, load_order
from handlers.status_words import operator_booking_words, operator_payment_words, operator_ticket_words
from handlers.tourist.checkout_screens import hotel_discount_minor, order_checkout_lines
from handlers.tourist.labels import ticket_type_name
from handlers.ui import Translator, button, cut

CARD_AUDIT_ENTRIES = 10
TEXT_LIMIT = 4096
CARD_BUDGET = 3900  # characters of the card, leaving room for the "who did what" line
AUDIT_MAX_ENTRIES = 2000
ANSWER_LIMIT = 200
ANSWERS_BUDGET = 1500  # characters of the questions' answers on the card
HELD_ONCE = frozenset(
    {PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED}
)


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


def order_button(text: str, action: OrderDeskAction, order_id: int, arg: int = 0, q: str = "") -> InlineKeyboardButton:
    return button(text, OrderDeskCb(action=action, order=order_id, arg=arg, q=q))


def back_kb(tr: Translator, order_id: int, *extra: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    back = order_button("↩️ " + tr.gettext("Back to the order"), OrderDeskAction.REFRESH, order_id)
    return InlineKeyboardMarkup(inline_keyboard=[*extra, [back]])


def order_title(tr: Translator, view: OrderView) -> str:
    """The first line of every screen about the order: its code and event."""
    code = tr.gettext("<b>Order {code}</b>").format(code=format_order_code(view.order.code))
    return f"🧾 {code} · {html.quote(localized(view.event.title, tr.language))}"


# ---- the card --------------------------------------------------------------------------------------------------------


def paid_minor(view: OrderView) -> int:
    """Money that paid the order (applied payments; the order's total when it was paid without a recorded one)."""
    applied = sum(p.amount_minor for p in view.payments if p.applied)
    if applied:
        return applied
    held_once = view.order.paid_at is not None or view.order.payment in HELD_ONCE
    return view.order.total_minor if held_once else 0


def _answer_lines(tr: Translator, view: OrderView) -> list[str]:
    """The tourist's answers to the organiser's questions, within :data:`ANSWERS_BUDGET`."""
    lines: list[str] = []
    size = 0
    for question in view.organiser.all_questions:
        answer = view.order.answers.get(question.id)
        if not answer:
            continue
        choice = next((c for c in question.choices if c.id == answer), None)
        shown = localized(choice.text, tr.language) if choice else answer
        asked = html.quote(cut(localized(question.text, tr.language), ANSWER_LIMIT))
        line = f"❓ {asked} <i>{html.quote(cut(shown, ANSWER_LIMIT))}</i>"
        size += len(line)
        if size > ANSWERS_BUDGET:
            lines.append("❓ …")
            break
        lines.append(line)
    return lines


def _people_lines(tr: Translator, view: OrderView) -> list[str]:
    """The tourist (phone masked, as on every desk screen until Reveal) and the organiser (phone in full)."""
    _ = tr.gettext
    if view.user is None:
        tourist = "👤 " + _("Tourist: data deleted")
    else:
        name = html.quote(cut(view.user.first_name or "", 64)) or str(view.user.id)
        details = [name, tr.language_in_mine(view.user.language)]
        details.append(mask_phone(view.user.phone) if view.user.phone else _("no phone"))
        tourist = "👤 " + _("Tourist: {details}").format(details=" · ".join(details))
    organiser = [html.quote(view.organiser.name)]
    if view.organiser.phone:
        organiser.append(html.quote(view.organiser.phone))  # a business contact: in full, as on every desk screen
    return [tourist, "🧭 " + _("Organiser: {details}").format(details=" · ".join(organiser))]


def order_card_text(
    tr: Translator,
    view: OrderView,
    now: datetime,
    zone: str,
    done: str | None = None,
    names: Mapping[int, str] | None = None,
) -> str:
    """The whole order in the operators' language (HTML, under Telegram's 4096 characters); times in the desk's
    ``zone``, labelled."""
    _ = tr.gettext
    order, session, clock = view.order, view.session, DeskClock(tr, zone)

    def money(minor: int) -> str:
        return tr.money(minor, order.currency)

    when = clock.datetime(session.starts_at)
    if session.status is SessionStatus.CANCELLED:
        when += " · " + _("session cancelled")
    elif session.starts_at <= now:
        when += " · " + _("session started or over")
    event, region = localized(view.event.title, tr.language), localized(view.region.name, tr.language)
    ticket = _("Ticket: {status}").format(status=operator_ticket_words(tr, order.ticket))
    if order.ticket_code:
        ticket += f" · <code>{html.quote(order.ticket_code)}</code>"
    lines = [
        "🧾 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code)),
        f"<b>{html.quote(event)}</b> ({html.quote(region)})",
        "🗓 " + when,
        "",
        _("Booking: {status}").format(status=operator_booking_words(tr, order.booking)),
        _("Payment: {status}").format(status=operator_payment_words(tr, order.payment)),
        ticket,
        "",
    ]
    for item in order.items:
        tickets = _("{ticket} × {quantity}: {amount}").format(
            ticket=html.quote(ticket_type_name(item.ticket_type, tr)),
            quantity=item.quantity,
            amount=money(item.total_minor),
        )
        lines.append("🎟 " + tickets)
    if order.discount_percent:
        lines.append(
            _("Discount {percent}%: −{amount}").format(
                percent=order.discount_percent, amount=money(hotel_discount_minor(order))
            )
        )
    lines.extend(order_checkout_lines(order, tr))  # a discount code, loyalty points (issue 15)
    lines.append(_("<b>Total: {amount}</b>").format(amount=money(order.total_minor)))
    lines.append(
        _("Paid: {paid} · refunded: {refunded} · owed back: {owed}").format(
            paid=money(paid_minor(view)),
            refunded=money(order.refunded_minor),
            owed=owed_back_text(order, tr) or money(0),  # per currency, never added up
        )
    )
    if order.stray_minor:
        lines.append("⚠️ " + _("Payments that did not pay the order: {amount}").format(amount=money(order.stray_minor)))
    if order.partial_refund_minor:
        lines.append("⚠️ " + _("Partial refund due: {amount}").format(amount=money(order.partial_refund_minor)))
    if view.hotel is not None:
        discount = f" ({view.hotel.discount_percent}%)" if view.hotel.discount_percent else ""
        lines.append("🏨 " + html.quote(view.hotel.name) + discount)
    else:
        lines.append("🏨 " + _("no hotel"))
    lines += _answer_lines(tr, view)
    if order.booking is BookingStatus.AWAITING_ORGANISER and order.confirm_by:
        lines.append("⏳ " + _("Organiser to answer by {time}").format(time=clock.datetime(order.confirm_by)))
    if order.payment is PaymentStatus.AWAITING and order.pay_by:
        lines.append(
            "⏳ "
            + _("To be paid by {time}; seats held until {held}").format(
                time=clock.datetime(order.pay_by), held=clock.datetime(max(order.hold_until, order.pay_by))
            )
        )
    if order.cancelled_at:
        lines.append(_("Ended: {time}").format(time=clock.datetime(order.cancelled_at)))
    if order.unclear_reply:
        reply = f"<i>{html.quote(cut(order.unclear_reply, ANSWER_LIMIT))}</i>"
        lines.append("🤔 " + _("Organiser's unclear answer: {text}").format(text=reply))
    if order.rating is not None:
        lines.append("⭐ " + _("Rating: {stars}").format(stars=order.rating))
    lines.append("")
    lines += _people_lines(tr, view)
    head = "\n".join(lines)
    history = [entry_line(e, tr, clock, order.currency, names) for e in view.history[:CARD_AUDIT_ENTRIES]]
    while history and len(head) + sum(len(h) + 1 for h in history) + 40 > CARD_BUDGET:
        history.pop()  # the oldest of the shown entries go first
    text = head
    if history:
        text += "\n\n" + "📜 " + _("Latest changes:") + "\n" + "\n".join(reversed(history))
    if done:
        text += "\n\n" + done
    return cut(text, TEXT_LIMIT)


def order_card_kb(tr: Translator, view: OrderView, now: datetime) -> InlineKeyboardMarkup:
    """The actions that apply to the order now."""
    _ = tr.gettext
    order_id = view.id
    rows: list[list[InlineKeyboardButton]] = []
    editable = oc.can_edit(view.order, view.session, now)
    if editable:
        rows.append(
            [
                order_button("🗓 " + _("Change session"), OrderDeskAction.SESSIONS, order_id),
                order_button("🎟 " + _("Quantities"), OrderDeskAction.QUANTITIES, order_id),
            ]
        )
    row = []
    if editable:
        row.append(order_button("🏨 " + _("Hotel"), OrderDeskAction.HOTEL, order_id))
    if oc.can_reissue(view.order):
        row.append(order_button("🎫 " + _("Replace ticket"), OrderDeskAction.TICKET, order_id))
    if row:
        rows.append(row)
    row = []
    if oc.can_cancel(view.order, view.session, view.event, now):
        row.append(order_button("🚫 " + _("Cancel"), OrderDeskAction.CANCEL, order_id))
    if view.order.owed_back():  # in any currency
        row.append(order_button("💶 " + _("Refund"), OrderDeskAction.REFUND, order_id))
    if row:
        rows.append(row)
    rows.append(
        [
            order_button("📝 " + _("Note"), OrderDeskAction.NOTE, order_id),
            order_button("📜 " + _("History"), OrderDeskAction.HISTORY, order_id),
            order_button("🔄 " + _("Refresh"), OrderDeskAction.REFRESH, order_id),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def order_card(
    uow: UnitOfWork,
    order_id: int,
    tr: Translator,
    now: datetime,
    done: str | None = None,
    *,
    zone: str | None,
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The card of order ``order_id`` and its buttons; None if there is no such order. Times are in ``zone``
    (``DESK_TIMEZONE``), else the first region's: every caller passes the setting, so no redraw of the card can
    fall back to another zone than the one it was opened in."""
    view = await load_order(uow, order_id, payments=True, history=CARD_AUDIT_ENTRIES)
    if view is None:
        return None
    desk = await desk_zone(uow, zone)
    names = await actor_names(uow, view.history)
    return order_card_text(tr, view, now, desk, done, names), order_card_kb(tr, view, now)


# ---- the history -----------------------------------------------------------------------------------------------------


async def history_screen(
    uow: UnitOfWork, order_id: int, page: int, tr: Translator, zone: str | None
) -> tuple[str, InlineKeyboardMarkup] | None:
    """Page ``page`` of the order's history, oldest first, times in ``zone`` (else the first region's); None if
    there is no such order."""
    view = await load_order(uow, order_id, history=AUDIT_MAX_ENTRIES)
    if view is None:
        return None
    _ = tr.gettext
    clock = DeskClock(tr, await desk_zone(uow, zone))
    names = await actor_names(uow, view.history)
    pages = audit_pages(tr, list(reversed(view.history)), clock, view.order.currency, names)
    page = min(max(page, 0), len(pages) - 1)
    head = [order_title(tr, view), "📜 " + _("History")]
    if len(pages) > 1:
        head.append(_("Page {page} of {pages}").format(page=page + 1, pages=len(pages)))
    body = pages[page] or _("No entries yet.")
    nav = []
    if page > 0:
        nav.append(order_button("◀️", OrderDeskAction.HISTORY, order_id, page - 1))
    if page < len(pages) - 1:
        nav.append(order_button("▶️", OrderDeskAction.HISTORY, order_id, page + 1))
    markup = back_kb(tr, order_id, *([nav] if nav else []))
    return cut("\n".join(head) + "\n\n" + body, TEXT_LIMIT), markup
