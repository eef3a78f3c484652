"""Check-in at the meeting point: the ticket's QR opens ``/start chk-<ticket code>``; its organiser (or an operator)
sees the ticket and checks it in with one tap, anyone else learns only which event it is for.

Who may see and tap is decided on the server for every message and button: the organiser's own chat (as for booking
requests) or an operator (a member of the operator chat, asked of Telegram only when the chat is not the organiser's).
"""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import InvalidTransition, NotAllowed, NotFound
from domain.model.catalog import localized
from domain.model.checkin import CHECKIN_LINK_PREFIX, voided
from domain.model.orders import PaymentStatus, format_order_code, normalize_order_code
from domain.model.payments import normalize_ticket_code
from domain.ports import Clock, UnitOfWork
from domain.use_cases.checkin import Ticket, check_in_ticket, look_up_ticket
from handlers.notifications.parts import answer_lines, tickets
from handlers.operator.access import Operator, OperatorDirectory
from handlers.organiser.callbacks import CheckinCb
from handlers.status_words import organiser_booking_words
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)


async def operator_actor(bot: Bot, operators: OperatorDirectory, user_id: int, name: str) -> str | None:
    """The audit actor of ``user_id`` if they are an operator (asked of Telegram, cached), else None."""
    return Operator(user_id, name).actor if await operators.is_operator(bot, user_id) else None


# ---- screens -------------------------------------------------------------------------------------------------------


def stranger_text(event_title: str, tr: Translator) -> str:
    """All anyone but the organiser learns from a ticket link: which event it is for."""
    _ = tr.gettext
    return "\n".join(
        [
            "🎫 " + _("This is a ticket for <b>{title}</b>.").format(title=html.quote(event_title)),
            _("Only the organiser of the event can see it and check it in at the meeting point."),
        ]
    )


def _payment_line(ticket: Ticket, tr: Translator) -> str:
    _ = tr.gettext
    order = ticket.order
    amount = tr.money(order.total_minor, order.currency)
    if order.money_held:
        return "✅ " + _("Paid: {amount}").format(amount=amount)
    if order.payment is PaymentStatus.ON_SITE:
        return "💶 " + _("To pay on site: {amount}").format(amount=amount)
    if order.payment in (PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED):
        return "↩️ " + _("The money is refunded or being refunded.")
    return "💳 " + _("Not paid: {amount}").format(amount=amount)


def ticket_text(ticket: Ticket, tr: Translator) -> str:
    """The ticket for its organiser: who, what, paid or to pay, answers, and whether it is checked in (or void)."""
    _ = tr.gettext
    order, zone = ticket.order, ticket.region.timezone
    lines = []
    if voided(order):
        state = organiser_booking_words(tr, order.booking)
        lines += [
            "⛔️⛔️⛔️ <b>" + _("VOID TICKET: DO NOT ADMIT") + "</b> ⛔️⛔️⛔️",
            _("This booking is no longer valid: {state}.").format(state=state),
            "",
        ]
    booking = format_order_code(order.code)
    if order.ticket_code:
        head = _("Ticket <code>{code}</code> · booking {order}").format(
            code=html.quote(order.ticket_code), order=booking
        )
    else:
        head = _("<b>Order {code}</b>").format(code=booking)  # paid on site: no ticket, checked in by its order code
    lines += [
        "🎫 " + head,
        f"<b>{html.quote(localized(ticket.event.title, tr.language))}</b>",
        f"🗓 {tr.zoned(ticket.session.starts_at, zone)}",
    ]
    if ticket.tourist is not None:
        lines.append("👤 " + html.quote(ticket.tourist.display_name))
    lines += [f"🎟 {tickets(order, tr)}", _payment_line(ticket, tr), *answer_lines(ticket.organiser, order, tr)]
    if ticket.hotel is not None:
        lines.append("🏨 " + html.quote(ticket.hotel.name))
    if not voided(order):
        lines.append("")
        day = ticket.day
        if day is not None and day.checked_in_at is not None:
            lines.append("✅ <b>" + _("Checked in at {time}.").format(time=tr.zoned(day.checked_in_at, zone)) + "</b>")
        else:
            lines.append("⬜️ " + _("Not checked in yet."))
        if day is not None and day.running_late_at is not None:
            lines.append(
                "🏃 " + _("Said they are running late at {time}.").format(time=tr.zoned(day.running_late_at, zone))
            )
        lines.append(
            "👥 "
            + _("Checked in for this session: {present} of {expected} bookings.").format(
                present=ticket.present, expected=ticket.expected
            )
        )
    return "\n".join(lines)


def ticket_kb(ticket: Ticket, tr: Translator) -> InlineKeyboardMarkup | None:
    """One tap to check in, while the ticket can be and is not yet."""
    if voided(ticket.order) or (ticket.day is not None and ticket.day.checked_in):
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[button("✅ " + tr.gettext("Check in"), CheckinCb(order=ticket.order.stored_id))]]
    )


def _invalid_link_text(tr: Translator) -> str:
    return "❔ " + tr.gettext(
        "This ticket code is not valid: it may have been replaced by a new ticket. Ask the tourist for the ticket "
        "they have now."
    )


# ---- the link ------------------------------------------------------------------------------------------------------


@router.message(
    F.chat.type == ChatType.PRIVATE,
    CommandStart(deep_link=True, magic=F.args.startswith(CHECKIN_LINK_PREFIX)),
)
async def cmd_start_checkin(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    operators: OperatorDirectory,
) -> None:
    await state.clear()
    raw = (command.args or "").removeprefix(CHECKIN_LINK_PREFIX)
    code = normalize_ticket_code(raw) or normalize_order_code(raw)
    if code is None or message.from_user is None:
        await message.answer(_invalid_link_text(tr))
        return
    try:
        look = await look_up_ticket(uow, code, message.chat.id, None)
        if look.ticket is None and (
            actor := await operator_actor(bot, operators, message.from_user.id, message.from_user.full_name)
        ):
            look = await look_up_ticket(uow, code, message.chat.id, actor)
    except NotFound:
        await message.answer(_invalid_link_text(tr))
        return
    if look.ticket is None:
        await message.answer(stranger_text(localized(look.event.title, tr.language), tr))
        return
    await message.answer(ticket_text(look.ticket, tr), reply_markup=ticket_kb(look.ticket, tr))


# ---- the tap -------------------------------------------------------------------------------------------------------


@router.callback_query(CheckinCb.filter())
async def on_ticket_check_in(
    query: CallbackQuery,
    callback_data: CheckinCb,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operators: OperatorDirectory,
) -> None:
    _ = tr.gettext
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    try:
        try:
            done = await check_in_ticket(uow, callback_data.order, chat_id, None, clock.now())
        except NotAllowed:
            actor = await operator_actor(bot, operators, query.from_user.id, query.from_user.full_name)
            if actor is None:
                raise
            done = await check_in_ticket(uow, callback_data.order, chat_id, actor, clock.now())
    except NotAllowed:
        await answer_query(query, _("Only the organiser of this event can check this ticket in."), alert=True)
        return
    except NotFound:
        await answer_query(query, _("This ticket is not valid any more."), alert=True)
        return
    except InvalidTransition as error:
        if error.data.get("voided"):
            await answer_query(query, "⛔️ " + _("This ticket is void: do not admit."), alert=True)
        else:
            await answer_query(query, _("This ticket cannot be checked in: the booking is not confirmed."), alert=True)
        return
    ticket = done.ticket
    if done.new:
        await answer_query(query, "✅ " + _("Checked in."))
    else:
        at = ticket.day.checked_in_at if ticket.day else None
        when = tr.zoned(at, ticket.region.timezone) if at else ""
        await answer_query(query, _("Already checked in at {time}.").format(time=when), alert=True)
    await show(query, ticket_text(ticket, tr), ticket_kb(ticket, tr))
