"""How a problem card looks: pure functions from a card and what it is about to text and buttons; and
:func:`load_card_side`, which reads what a card is about.

The outbox renders cards with these (the desk's notifications) and so do the handlers that answer an operator, so a
card reads the same wherever it appears. Every text is in the operators' language.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.desk import Card
from domain.model.orders import Order, format_order_code
from domain.model.users import User, mask_phone
from domain.ports import UnitOfWork
from domain.rules.problems import Action, ProblemKind, actions_for, sort_kinds
from handlers.operator.desk_time import DeskClock
from handlers.operator.money_lines import (
    PaymentSide,
    is_payment_card,
    load_payment_side,
    owed_back_text,
    paid_by,
    payment_card_lines,
)
from handlers.read_models import OrderView, read_order
from handlers.ui import N_, Translator, button, cut


class CardAction(enum.StrEnum):
    CONFIRM = "cf"
    DECLINE = "dc"
    REMIND = "rm"
    WRITE_TOURIST = "wt"
    WRITE_ORGANISER = "wo"
    REFUND = "rf"  # asks: everything owed, or another amount
    REFUND_ALL = "ra"
    CANCEL = "cn"  # asks first
    CANCEL_YES = "cy"
    REISSUE = "ri"
    OPEN = "op"
    TAKE = "tk"  # asks first when someone else has it
    TAKE_OVER = "to"
    SNOOZE_15 = "s1"
    SNOOZE_60 = "s6"
    RESOLVE = "rs"
    BACK = "bk"  # from a question back to the card's buttons
    SHOW = "sh"  # post the card as its own message (from a digest or /problems)


class CardCb(CallbackData, prefix="dc"):
    action: CardAction
    card: int


KIND_TITLES: dict[ProblemKind, str] = {
    ProblemKind.SESSION_CANCELLED: N_("Session cancelled, order still open"),
    ProblemKind.REFUND_DUE: N_("Refund due"),
    ProblemKind.LATE_PAYMENT: N_("Payment that did not pay the order"),
    ProblemKind.PAID_NO_TICKET: N_("Paid but no ticket"),
    ProblemKind.ORGANISER_SILENT: N_("Organiser silent"),
    ProblemKind.UNCLEAR_REPLY: N_("Unclear answer from the organiser"),
    ProblemKind.UNPAID: N_("Unpaid past the deadline"),
    ProblemKind.PARTIAL_REFUND_DUE: N_("Partial refund due"),
    ProblemKind.UNDELIVERED: N_("Message not delivered"),
    ProblemKind.LOW_RATING: N_("Low rating"),
    ProblemKind.QUESTION_UNANSWERED: N_("Question waiting for an answer"),
    ProblemKind.UNMATCHED_PAYMENT: N_("Payment for an order we cannot find"),
    ProblemKind.INCONSISTENT: N_("Order in an unexpected state"),
}

KIND_HINTS: dict[ProblemKind, str] = {
    ProblemKind.SESSION_CANCELLED: N_("Cancel the order (with a refund if paid) and offer the tourist another date."),
    ProblemKind.REFUND_DUE: N_("Return the money in the payment provider's dashboard, then record the refund here."),
    ProblemKind.LATE_PAYMENT: N_(
        "The money arrived after the order expired, or twice: return it and record the refund."
    ),
    ProblemKind.PAID_NO_TICKET: N_("Issue the ticket again so the tourist has a valid code."),
    ProblemKind.ORGANISER_SILENT: N_(
        "Call the organiser, then confirm or decline for them; tell the tourist if it takes longer."
    ),
    ProblemKind.UNCLEAR_REPLY: N_("Read the organiser's answer, ask them if needed, then confirm or decline for them."),
    ProblemKind.UNPAID: N_("Remind the tourist or write to them; cancel the order if they no longer want it."),
    ProblemKind.PARTIAL_REFUND_DUE: N_("The order became cheaper after payment: return the difference and record it."),
    ProblemKind.UNDELIVERED: N_(
        "We could not deliver a message about this order: reach the person another way (phone)."
    ),
    ProblemKind.LOW_RATING: N_("Write to the tourist to hear what went wrong; tell the organiser if it is about them."),
    ProblemKind.QUESTION_UNANSWERED: N_("Answer the tourist: reply to their question or use a canned reply."),
    ProblemKind.UNMATCHED_PAYMENT: N_(
        "We told the payer our team will contact them: write to them, return the money in the payment "
        "provider's dashboard (the charge ids are above), then resolve."
    ),
    ProblemKind.INCONSISTENT: N_("Open the order and check its history; fix it by hand and resolve."),
}

_ACTION_BUTTONS: dict[Action, tuple[str, str, CardAction]] = {
    Action.CONFIRM: ("✅", N_("Confirm"), CardAction.CONFIRM),
    Action.DECLINE: ("❌", N_("Decline"), CardAction.DECLINE),
    Action.REMIND: ("🔔", N_("Remind the tourist"), CardAction.REMIND),
    Action.WRITE_TOURIST: ("✍️", N_("Write to the tourist"), CardAction.WRITE_TOURIST),
    Action.WRITE_ORGANISER: ("✍️", N_("Write to the organiser"), CardAction.WRITE_ORGANISER),
    Action.REFUND: ("💸", N_("Refund"), CardAction.REFUND),
    Action.CANCEL: ("🚫", N_("Cancel the order"), CardAction.CANCEL),
    Action.REISSUE: ("🎟", N_("New ticket"), CardAction.REISSUE),
    Action.OPEN: ("📄", N_("Order"), CardAction.OPEN),
    Action.TAKE: ("🙋", N_("Take"), CardAction.TAKE),
    Action.RESOLVE: ("✔️", N_("Resolve"), CardAction.RESOLVE),
}

ACTION_DONE: dict[str, str] = {
    "take": N_("took it"),
    "snooze": N_("snoozed it"),
    "resolve": N_("resolved it"),
    "confirm": N_("confirmed for the organiser"),
    "decline": N_("declined for the organiser"),
    "remind": N_("reminded the tourist"),
    "refund": N_("recorded a refund"),
    "cancel": N_("cancelled the order"),
    "reissue": N_("issued a new ticket"),
    "write_tourist": N_("wrote to the tourist"),
    "write_organiser": N_("wrote to the organiser"),
    "back_to_normal": N_("the order is back to normal"),
    "answered": N_("the question was answered"),
}


@dataclass(frozen=True, slots=True)
class QuestionSide:
    """What a card about a tourist's question shows besides the card itself."""

    user: User | None
    asked_at: datetime
    question: str | None = None  # the latest question's text (None: asked before it was kept, or forgotten)


# What a card is about: an order (with its payments), a question, a payment without an order, or nothing to show.
CardSide = OrderView | QuestionSide | PaymentSide | None

QUESTION_ON_CARD = 500  # characters of the tourist's question a card shows (the relayed message has it whole)

MONEY_KINDS = frozenset({ProblemKind.REFUND_DUE, ProblemKind.LATE_PAYMENT, ProblemKind.PARTIAL_REFUND_DUE})


def card_id(card: Card) -> int:
    """A stored card's id (a card read from storage always has one)."""
    assert card.id is not None, "a card read from storage has an id"
    return card.id


def card_button(text: str, action: CardAction, card: Card) -> InlineKeyboardButton:
    """A button acting on ``card``."""
    return button(text, CardCb(action=action, card=card_id(card)))


async def load_card_side(uow: UnitOfWork, card: Card) -> CardSide:
    """What ``card`` is about, read in a transaction of its own."""
    async with uow:
        if card.order_id is not None:
            return await read_order(uow, card.order_id, payments=True)
        if card.subject.startswith("question:"):
            thread = await uow.desk.question_thread(int(card.subject.split(":", 1)[1]))
            user = await uow.users.get(card.user_id) if card.user_id else None
            if thread is None:
                return QuestionSide(user, card.opened_at)
            return QuestionSide(user, thread.asked_at, thread.last_question)
        if is_payment_card(card):
            return await load_payment_side(uow, card)
    return None


def kind_title(kind: ProblemKind | str, tr: Translator) -> str:
    return tr.gettext(KIND_TITLES[ProblemKind(kind)])


def _who(user: User | None, user_id: int | None, tr: Translator) -> str:
    if user is None:
        return tr.gettext("tourist's data deleted") if user_id is None else f"#{user_id}"
    parts = [f'<a href="tg://user?id={user.id}">{html.quote(user.first_name or str(user.id))}</a>']
    if user.username:
        parts.append("@" + html.quote(user.username))
    parts.append(tr.language_in_mine(user.language))
    if user.phone:
        parts.append(mask_phone(user.phone))
    return " · ".join(parts)


def card_text(card: Card, side: CardSide, tr: Translator, zone: str, digest: bool = False) -> str:
    """The card in the operators' language; every time in the desk's ``zone``, labelled."""
    _ = tr.gettext
    clock = DeskClock(tr, zone)
    kinds = sort_kinds(card.kinds)
    titles = ", ".join(kind_title(k, tr) for k in kinds)
    lines: list[str] = []
    if isinstance(side, OrderView):
        code = format_order_code(side.order.code)
        lines.append(("✅ " if not card.is_open else "🚨 ") + f"<b>{code}</b> · {titles}")
        lines.append(
            f"{html.quote(localized(side.event.title, tr.language))} · {clock.datetime(side.session.starts_at)}"
        )
        lines.append("👤 " + _who(side.user, side.order.user_id, tr))
        organiser = html.quote(side.organiser.name)
        if side.organiser.chat_id > 0:  # a person: the name opens their Telegram profile
            organiser = f'<a href="tg://user?id={side.organiser.chat_id}">{organiser}</a>'
        if side.organiser.phone:
            organiser += " · " + html.quote(side.organiser.phone)
        lines.append("🏢 " + organiser)
        lines.append("💶 " + _money_line(side.order, tr))
        if ProblemKind.UNCLEAR_REPLY in kinds and side.order.unclear_reply:
            lines.append(_("The organiser wrote:") + f" <i>{html.quote(side.order.unclear_reply[:500])}</i>")
        if ProblemKind.LOW_RATING in kinds and side.order.rating is not None:
            lines.append("⭐" * side.order.rating + " " + _("rating {stars} of 5").format(stars=side.order.rating))
        if MONEY_KINDS.intersection(kinds):
            for payment in side.payments:  # what to look for in the provider's dashboard
                state = _("paid the order") if payment.applied else _("did not pay the order")
                lines.append(
                    f"💳 {tr.money(payment.amount_minor, payment.currency)} · "
                    f"<code>{html.quote(payment.provider_charge_id)}</code> · {state}"
                    + (f" · {payer}" if (payer := paid_by(payment, side.order, tr)) else "")
                )
        if ProblemKind.UNDELIVERED in kinds and side.order.undelivered:
            if side.order.undelivered.startswith("organiser."):
                lines.append("📵 " + _("A message to the organiser could not be delivered."))
            else:
                lines.append("📵 " + _("A message to the tourist could not be delivered (did they block the bot?)."))
    elif isinstance(side, QuestionSide):
        lines.append(("✅ " if not card.is_open else "❓ ") + f"<b>{titles}</b>")
        lines.append("👤 " + _who(side.user, card.user_id, tr))
        lines.append(_("Asked at {time}").format(time=clock.datetime(side.asked_at)))
        if side.question:
            lines.append(_("The tourist wrote:") + f" <i>{html.quote(cut(side.question, QUESTION_ON_CARD))}</i>")
    elif isinstance(side, PaymentSide):
        lines += payment_card_lines(card, side, titles, tr, clock)
    else:
        lines.append(("✅ " if not card.is_open else "🚨 ") + f"<b>{titles}</b>")
    if card.is_open:
        lines.append("")
        lines += ["💡 " + tr.gettext(KIND_HINTS[k]) for k in kinds]
        status = [_("open since {time}").format(time=clock.time(card.opened_at))]
        if card.taken_by_name:
            status.append(_("taken by {name}").format(name=html.quote(card.taken_by_name)))
        if card.snoozed_until:
            status.append(_("snoozed until {time}").format(time=clock.time(card.snoozed_until)))
        lines.append("⏱ " + " · ".join(status))
        if card.last_action and card.last_action.get("action") not in (None, "take"):
            lines.append(_last_action(card.last_action, tr))
    else:
        lines += ["", "✔️ " + _resolved_line(card, tr)]
    if digest:
        lines.insert(0, _("(from the digest)"))
    return "\n".join(lines)


def _resolved_line(card: Card, tr: Translator) -> str:
    """``Olga resolved it within a minute.``; ``Resolved 25 minutes after it opened: the order is back to normal.``"""
    _ = tr.gettext
    took = (card.resolved_at - card.opened_at) if card.resolved_at else timedelta(0)
    how = _(ACTION_DONE.get(card.resolution or "", ACTION_DONE["back_to_normal"]))
    quick = took < timedelta(minutes=1)
    if card.resolved_by_name:
        who = html.quote(card.resolved_by_name)
        if quick:
            return _("{who} {how} within a minute.").format(who=who, how=how)
        return _("{who} {how}, {duration} after it opened.").format(who=who, how=how, duration=tr.duration(took))
    if quick:
        return _("Resolved within a minute: {how}.").format(how=how)
    return _("Resolved {duration} after it opened: {how}.").format(duration=tr.duration(took), how=how)


def _money_line(order: Order, tr: Translator) -> str:
    _ = tr.gettext
    parts = [tr.money(order.total_minor, order.currency)]
    if order.refunded_minor:
        parts.append(_("refunded {amount}").format(amount=tr.money(order.refunded_minor, order.currency)))
    if owed := owed_back_text(order, tr, whole=False):  # per currency, never added up
        parts.append(_("owed back {amount}").format(amount=owed))
    return " · ".join(parts)


def _last_action(action: dict[str, Any], tr: Translator) -> str:
    what = tr.gettext(ACTION_DONE.get(str(action.get("action")), ACTION_DONE["back_to_normal"]))
    who = html.quote(str(action.get("by") or ""))
    return "↪️ " + tr.gettext("{who} {how}.").format(who=who, how=what)


def card_kb(card: Card, side: CardSide, tr: Translator) -> InlineKeyboardMarkup | None:
    """The buttons that fit the card's problems; none once it is resolved."""
    if not card.is_open:
        return None
    _ = tr.gettext
    buttons: list[InlineKeyboardButton] = []
    for action in actions_for(card.kinds):
        if action is Action.SNOOZE:
            continue
        if action is Action.OPEN and not isinstance(side, OrderView):
            continue
        if action is Action.WRITE_TOURIST and (side is None or side.user is None):
            continue
        icon, label, code = _ACTION_BUTTONS[action]
        if action is Action.TAKE and card.taken_by is not None:
            label = N_("Take over")  # asks first: it names who has it
        buttons.append(card_button(f"{icon} {_(label)}", code, card))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            card_button("💤 " + _("15 min"), CardAction.SNOOZE_15, card),
            card_button("💤 " + _("1 hour"), CardAction.SNOOZE_60, card),
        ]
    )
    if isinstance(side, OrderView) and side.organiser.phone and (url := whatsapp_url(side.organiser.phone)):
        rows.append([InlineKeyboardButton(text="📞 " + _("Organiser on WhatsApp"), url=url)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_kb(card: Card, yes: CardAction, yes_label: str, tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                card_button(yes_label, yes, card),
                card_button("↩️ " + tr.gettext("Back"), CardAction.BACK, card),
            ]
        ]
    )


def whatsapp_url(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    return f"https://wa.me/{digits}" if 7 <= len(digits) <= 15 else None
