"""The booking screens: ticket quantities, one of the organiser's questions, the summary to confirm. Pure
functions of what :func:`load_booking` read and a translator."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import Question, QuestionKind, localized
from domain.model.users import User
from domain.ports import UnitOfWork
from domain.rules.checkout import Checkout
from domain.rules.pricing import MAX_TICKETS_PER_ORDER, hotel_discount, quote
from handlers.read_models import SessionView, read_session
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.tourist.checkout_screens import checkout_buttons, checkout_lines
from handlers.tourist.labels import ticket_type_name
from handlers.ui import CONFIRM_STYLE, Translator, button


@dataclass(frozen=True, slots=True)
class Booking:
    """What a booking screen shows: the session with its surroundings, and the tourist's partner-hotel discount on
    its event (in percent)."""

    view: SessionView
    discount: int

    @property
    def limit(self) -> int:
        """The most tickets this booking may have."""
        return min(self.view.session.seats_left, MAX_TICKETS_PER_ORDER)


async def load_booking(uow: UnitOfWork, session_id: int, user: User) -> Booking | None:
    async with uow.read():
        view = await read_session(uow, session_id)
        if view is None:
            return None
        hotel = await uow.catalog.hotel(user.hotel_id) if user.hotel_id else None
    return Booking(view, hotel_discount(hotel, view.event))


def _heading(view: SessionView, tr: Translator) -> str:
    title = html.quote(localized(view.event.title, tr.language))
    return f"<b>{title}</b>\n🗓 {tr.datetime(view.session.starts_at, view.region.timezone)}"


def _cancel_button(session_id: int, tr: Translator) -> InlineKeyboardButton:
    return button("✖️ " + tr.gettext("Cancel"), BookCb(action=BookAction.ABORT, session=session_id))


def tickets_screen(booking: Booking, qty: dict[str, int], tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    view = booking.view
    sid = view.session.id
    left = view.session.seats_left
    seats = tr.ngettext("{n} seat left", "{n} seats left", left).format(n=left)
    lines = [_heading(view, tr), f"💺 {seats}", "", _("How many tickets? Use − and +.")]
    rows = []
    for index, ticket in enumerate(view.event.ticket_types):
        count = qty.get(ticket.code, 0)
        name = ticket_type_name(ticket.code, tr)
        lines.append(f"• {html.quote(name)}: {tr.money(ticket.price_minor, view.event.currency)} × {count}")
        rows.append(
            [
                button(f"− {name}", BookCb(action=BookAction.DEC, session=sid, value=index)),
                button(f"+ {name} ({count})", BookCb(action=BookAction.INC, session=sid, value=index)),
            ]
        )
    if sum(qty.values()):
        priced = quote(view.event, qty, booking.discount)
        lines += ["", _("Total: {total}").format(total=tr.money(priced.total_minor, priced.currency))]
    rows.append([button("➡️ " + _("Continue"), BookCb(action=BookAction.NEXT, session=sid))])
    rows.append([_cancel_button(sid, tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def question_screen(view: SessionView, question: Question, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    sid = view.session.id
    lines = [_heading(view, tr), "", f"❓ <b>{html.quote(localized(question.text, tr.language))}</b>"]
    rows = []
    if question.kind is QuestionKind.CHOICE:
        rows += [
            [button(localized(choice.text, tr.language), BookCb(action=BookAction.CHOICE, session=sid, value=i))]
            for i, choice in enumerate(question.choices)
        ]
    else:
        lines.append(_("Type your answer in a message (up to {limit} characters).").format(limit=question.max_length))
    if not question.required:
        rows.append([button(_("Skip"), BookCb(action=BookAction.SKIP, session=sid))])
    rows.append([_cancel_button(sid, tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def summary_screen(
    view: SessionView, checkout: Checkout, answers: dict[str, str], tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    money = tr.money
    priced = checkout.quote
    lines = [_heading(view, tr)]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + html.quote(meeting_point))
    lines += ["", "<b>" + _("Your booking") + "</b>"]
    for item in priced.items:
        name = html.quote(ticket_type_name(item.ticket_type, tr))
        lines.append(f"• {name} × {item.quantity} = {money(item.total_minor, priced.currency)}")
    if priced.discount_percent:
        lines.append(
            _("Partner hotel discount {percent}%: −{amount}").format(
                percent=priced.discount_percent, amount=money(priced.discount_minor, priced.currency)
            )
        )
    lines += checkout_lines(checkout, tr)
    lines.append("<b>" + _("Total: {total}").format(total=money(checkout.total_minor, priced.currency)) + "</b>")
    for question in view.organiser.questions:
        answer = answers.get(question.id, "")
        if question.kind is QuestionKind.CHOICE:
            choice = next((c for c in question.choices if c.id == answer), None)
            answer = localized(choice.text, tr.language) if choice else answer
        if answer:
            lines.append(f"{html.quote(localized(question.text, tr.language))} <i>{html.quote(answer)}</i>")
    lines.append("")
    hold = tr.duration(view.organiser.hold)
    if view.event.needs_confirmation:
        lines.append(
            _(
                "After you confirm, we hold your seats for {hold} and ask the organiser; they usually answer within "
                "{confirm}."
            ).format(hold=hold, confirm=tr.duration(view.organiser.confirm_within))
        )
    else:
        lines.append(_("Instant confirmation: your seats are booked as soon as you confirm."))
    sid = view.session.id
    rows = [
        [button("✅ " + _("Confirm booking"), BookCb(action=BookAction.CONFIRM, session=sid), CONFIRM_STYLE)],
        *checkout_buttons(sid, checkout, tr),  # points and a discount code (issue 15)
        [_cancel_button(sid, tr)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)
