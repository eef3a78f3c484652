"""``/find <phone | @username | ticket code | order code>``: a tourist and their orders, by an exact match only.

Never a list of everyone, never a prefix or a pattern: a query that is only part of a phone, username or code is
refused with a hint. Phones stay masked, as on every desk screen; "👁 Reveal contacts" shows them to the presser
alone (an alert) and is logged in the audit. Usernames are public on Telegram and shown whole (the one searched for
among them).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from aiogram import Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from domain.errors import BadFindQuery, NotFound
from domain.model.catalog import SessionStatus, localized
from domain.model.orders import Order, format_order_code, order_stage
from domain.model.users import User, mask_phone
from domain.ports import Clock, UnitOfWork
from domain.use_cases.desk_tools import FindKind, classify_find_query, reveal_contacts
from handlers.operator.access import Operator
from handlers.operator.bounds import ROW_ID, Bounded, Bounds
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.operator.order_card import OrderDeskAction, OrderDeskCb
from handlers.operator.queries import DeskQueries
from handlers.operator.replies import WriteAction, WriteCb
from handlers.settings import HandlerSettings
from handlers.status_words import operator_stage_words
from handlers.tourist.messaging import answer_query
from handlers.ui import Translator, button

router = Router(name=__name__)

MAX_USERS = 5  # an exact phone is normally one tourist; a few at most share one
MAX_ORDERS = 10  # per tourist, newest first
QUERY_SHOWN = 64


class FindAction(enum.StrEnum):
    REVEAL = "r"


class FindCb(Bounded, CallbackData, prefix="df"):
    BOUNDS: ClassVar[Bounds] = {"user": ROW_ID}

    action: FindAction
    user: int


def _order_button(order: Order) -> InlineKeyboardButton:
    """Opens the order's desk card (``/order``'s view) as a new message."""
    data = OrderDeskCb(action=OrderDeskAction.VIEW, order=order.stored_id)
    return button("🎟 " + format_order_code(order.code), data)


def hint_text(tr: Translator, reason: str) -> str:
    _ = tr.gettext
    first = {
        "empty": _("Find whom? Give one exact value."),
        "too_short": _("That is too short to be an exact phone, username or code."),
        "invalid_phone": _("That is not a valid phone number: give it in full, with the country code."),
    }.get(reason, _("That is not a phone number, @username, ticket code or order code."))
    return "\n".join(
        [
            first,
            _("Usage: {usage}").format(usage=html.quote("/find <+372 5555 0001 | @username | TKT-… | K7M-A4X>")),
            _(
                "Only exact matches are found: a full phone number with the country code, a whole @username, a whole "
                "ticket or order code."
            ),
        ]
    )


async def _orders_lines(
    uow: UnitOfWork, clock: DeskClock, orders: list[Order], now: datetime, highlight: int | None
) -> list[str]:
    tr = clock.tr
    lines = []
    for order in orders:
        event = await uow.catalog.event(order.event_id)
        session = await uow.catalog.session(order.session_id)
        region = await uow.catalog.region(event.region_id) if event else None
        if event is None or session is None or region is None:
            continue
        stage = order_stage(order, session.starts_at, session.status is SessionStatus.CANCELLED, now)
        mark = "🔎" if order.id == highlight else "•"
        title = html.quote(localized(event.title, tr.language))
        lines.append(
            f"{mark} <code>{format_order_code(order.code)}</code> · {title} · "
            f"{clock.datetime(session.starts_at)} · <i>{operator_stage_words(tr, stage)}</i>"
        )
    return lines


def _user_line(tr: Translator, user: User) -> str:
    _ = tr.gettext
    parts = [f"👤 <b>{html.quote(user.first_name or str(user.id))}</b>", tr.language_in_mine(user.language)]
    parts.append("📞 " + (mask_phone(user.phone) if user.phone else _("no phone")))
    if user.username:
        parts.append("@" + html.quote(user.username))  # public on Telegram, and often the very thing searched for
    if user.blocked_bot:
        parts.append("⛔ " + _("blocked the bot"))
    return " · ".join(parts)


async def find_screen(
    uow: UnitOfWork, queries: DeskQueries, tr: Translator, text: str, now: datetime, zone: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What ``/find`` answers; times in the desk's ``zone`` (``DESK_TIMEZONE``, else the first region's)."""
    _ = tr.gettext
    clock = DeskClock(tr, await desk_zone(uow, zone))
    try:
        query = classify_find_query(text)
    except BadFindQuery as error:
        return hint_text(tr, str(error.data.get("reason"))), None
    users: list[User] = []
    order: Order | None = None
    async with uow:
        if query.kind is FindKind.PHONE:
            users = await queries.users_by_phone(query.value, MAX_USERS)
        elif query.kind is FindKind.USERNAME:
            users = await queries.users_by_username(query.value, MAX_USERS)
        else:
            if query.kind is FindKind.TICKET:
                order_id = await queries.order_id_by_ticket(query.value)
            else:
                order_id = await uow.orders.id_by_code(query.value)
            order = await uow.orders.get(order_id) if order_id else None
            user = await uow.users.get(order.user_id) if order and order.user_id else None
            users = [user] if user else []
        if not users and order is None:
            shown = html.quote(text.strip()[:QUERY_SHOWN])
            return "🔎 " + _("Nothing found for {query} (exact matches only).").format(
                query=f"<code>{shown}</code>"
            ), None
        lines = ["🔎 " + _("Found:")]
        rows: list[list[InlineKeyboardButton]] = []
        if not users and order is not None:
            lines += ["", "👤 " + _("The tourist's data was deleted.")]
            lines += await _orders_lines(uow, clock, [order], now, order.id)
            rows.append([_order_button(order)])
        for user in users:
            orders, total = await uow.orders.for_user(user.id, 0, MAX_ORDERS)
            lines += ["", _user_line(tr, user)]
            if orders:
                lines += await _orders_lines(uow, clock, list(orders), now, order.id if order else None)
                if total > len(orders):
                    lines.append(_("… and {n} older").format(n=total - len(orders)))
            else:
                lines.append(_("No orders."))
            buttons = [_order_button(o) for o in orders]
            rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
            who = f" · {user.first_name}"[:30] if len(users) > 1 and user.first_name else ""
            rows.append(
                [
                    button("👁 " + _("Reveal contacts") + who, FindCb(action=FindAction.REVEAL, user=user.id)),
                    button("✍️ " + _("Write to the tourist") + who, WriteCb(action=WriteAction.TOURIST, id=user.id)),
                ]
            )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@router.message(Command("find"))
async def cmd_find(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    desk_queries: DeskQueries,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    text, markup = await find_screen(uow, desk_queries, tr, command.args or "", clock.now(), settings.desk_timezone)
    await message.answer(text, reply_markup=markup)


@router.callback_query(FindCb.filter())
async def on_contacts_reveal(
    query: CallbackQuery, callback_data: FindCb, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    _ = tr.gettext
    try:
        user = await reveal_contacts(uow, callback_data.user, operator.actor, clock.now())
    except NotFound:
        await answer_query(query, _("This tourist is no longer in our records."), alert=True)
        return
    lines = [user.first_name or str(user.id)]
    lines.append("📞 " + (user.phone or _("no phone")))
    lines.append("@" + user.username if user.username else _("no username"))
    await answer_query(query, "\n".join(lines), alert=True)  # only the presser sees it
