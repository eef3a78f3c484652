"""The booking summary's checkout (issue 15): its discount code and loyalty points lines and buttons, the prompt for
a code, and the draft's price as it stands now (:func:`draft_checkout`).

The draft (FSM data of :mod:`handlers.tourist.booking`) carries ``code`` (as the guest typed it, checked) and
``points`` (how many to use); the buttons carry only the session and a number, and every press is checked again on
the server (:func:`domain.use_cases.points.price_booking`), and once more when the order is placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import Event
from domain.model.orders import Order
from domain.ports import UnitOfWork
from domain.rules.checkout import CHECKOUT_ERRORS, Checkout
from domain.rules.pricing import quote
from domain.use_cases.points import price_booking
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.tourist.points_screens import POINTS_ICON, points_text
from handlers.ui import Translator, button

CODE = "code"  # the draft's keys
POINTS = "points"


async def draft_checkout(
    uow: UnitOfWork, event: Event, discount: int, data: dict[str, Any], user_id: int, now: datetime
) -> Checkout:
    """The draft's price with its code and points as they are allowed now; a code that no longer is (expired, used
    up meanwhile) or points beyond what the guest has now are dropped from ``data`` (the caller stores it)."""
    priced = quote(event, data["qty"], discount)
    try:
        return await price_booking(uow, user_id, event, priced, data.get(CODE), data.get(POINTS, 0), now)
    except CHECKOUT_ERRORS:
        data.update({CODE: None, POINTS: 0})
        return await price_booking(uow, user_id, event, priced, None, 0, now)


def checkout_lines(checkout: Checkout, tr: Translator) -> list[str]:
    """The code's and the points' discount lines of the summary (none when neither is used)."""
    return discount_lines(checkout.code, checkout.code_minor, checkout.points, checkout.currency, tr)


def order_checkout_lines(order: Order, tr: Translator) -> list[str]:
    """The same lines for a placed order (its card)."""
    return discount_lines(order.discount_code, order.code_discount_minor, order.points_used, order.currency, tr)


def hotel_discount_minor(order: Order) -> int:
    """What the partner hotel's discount took off the order (the code and the points came off after it)."""
    return order.subtotal_minor - order.total_minor - order.code_discount_minor - order.points_used


def discount_lines(code: str | None, code_minor: int, points: int, currency: str, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = []
    if code:
        amount = tr.money(code_minor, currency)
        lines.append("🏷 " + _("Code {code}: −{amount}").format(code=html.quote(code), amount=amount))
    if points:
        amount = tr.money(points, currency)
        lines.append(
            f"{POINTS_ICON} "
            + _("Points used: {points}: −{amount}").format(points=points_text(tr, points), amount=amount)
        )
    return lines


def checkout_buttons(session_id: int, checkout: Checkout, tr: Translator) -> list[list[InlineKeyboardButton]]:
    """ "Use my points" (or "Don't use my points") and "Have a code?" (or "Remove the code")."""
    _ = tr.gettext
    rows = []
    if checkout.points:
        rows.append([button("↩️ " + _("Don't use my points"), BookCb(action=BookAction.POINTS, session=session_id))])
    elif checkout.usable > 0:
        label = _("Use my points: −{amount}").format(amount=tr.money(checkout.usable, checkout.currency))
        rows.append(
            [
                button(
                    f"{POINTS_ICON} {label}",
                    BookCb(action=BookAction.POINTS, session=session_id, value=checkout.usable),
                )
            ]
        )
    if checkout.code:
        rows.append([button("✖️ " + _("Remove the code"), BookCb(action=BookAction.NO_CODE, session=session_id))])
    else:
        rows.append([button("🏷 " + _("Have a code?"), BookCb(action=BookAction.CODE, session=session_id))])
    return rows


def code_prompt_screen(session_id: int, tr: Translator, refusal: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """Asks for the discount code (after a refused one, with the reason first)."""
    _ = tr.gettext
    lines = [refusal, ""] if refusal else []
    lines.append("🏷 " + _("Type your discount code in a message."))
    back = button("↩️ " + _("Back to the summary"), BookCb(action=BookAction.NO_CODE, session=session_id))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[back]])


def with_checkout(data: Mapping[str, Any], checkout: Checkout) -> dict[str, Any]:
    """The draft's code and points as ``checkout`` priced them (what Confirm places)."""
    return {**data, CODE: checkout.code, POINTS: checkout.points}
