"""How a problem card looks: pure functions from a card and what it is about to text and buttons; and
:func:`load_card_side`, which reads what a card is about.

The outbox renders cards with these (the desk's notifications) and so do the handlers that answer an operator, so a
card reads the same wherever it appears. Every text is in the operators' language.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
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
from handlers.read_models import OrderView, read_order
from handlers.ui import N_, Translator, button


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
    TAKE = "tk"
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


# What a card is about: an order (with its payments), a question, or nothing left to show.
CardSide = OrderView | QuestionSide | None

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
            return QuestionSide(user, thread.asked_at if thread else card.opened_at)
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


def card_text(card: Card, side: CardSide, tr: Translator, digest: bool = False) -> str:
    _ = tr.gettext
    kinds = sort_kinds(card.kinds)
    titles = ", ".join(kind_title(k, tr) for k in kinds)
    lines: list[str] = []
    timezone = "UTC"
    if isinstance(side, OrderView):
        timezone = side.region.timezone
        code = format_order_code(side.order.code)
        lines.append(("✅ " if not card.is_open else "🚨 ") + f"<b>{code}</b> · {titles}")
        lines.append(
            f"{html.quote(localized(side.event.title, tr.language))} · {tr.datetime(side.session.starts_at, timezone)}"
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
                )
        if ProblemKind.UNDELIVERED in kinds and side.order.undelivered:
            if side.order.undelivered.startswith("organiser."):
                lines.append("📵 " + _("A message to the organiser could not be delivered."))
            else:
                lines.append("📵 " + _("A message to the tourist could not be delivered (did they block the bot?)."))
    elif isinstance(side, QuestionSide):
        lines.append(("✅ " if not card.is_open else "❓ ") + f"<b>{titles}</b>")
        lines.append("👤 " + _who(side.user, card.user_id, tr))
        lines.append(_("Asked at {time}").format(time=tr.datetime(side.asked_at, timezone)))
    else:
        lines.append(("✅ " if not card.is_open else "🚨 ") + f"<b>{titles}</b>")
    if card.is_open:
        lines.append("")
        lines += ["💡 " + tr.gettext(KIND_HINTS[k]) for k in kinds]
        status = [_("open since {time}").format(time=tr.time(card.opened_at, timezone))]
        if card.taken_by_name:
            status.append(_("taken by {name}").format(name=html.quote(card.taken_by_name)))
        if card.snoozed_until:
            status.append(_("snoozed until {time}").format(time=tr.time(card.snoozed_until, timezone)))
        lines.append("⏱ " + " · ".join(status))
        if card.last_action and card.last_action.get("action") not in (None, "take"):
            lines.append(_last_action(card.last_action, tr))
    else:
        minutes = max(int((card.resolved_at - card.opened_at).total_seconds() // 60), 0) if card.resolved_at else 0
        how = _(ACTION_DONE.get(card.resolution or "", ACTION_DONE["back_to_normal"]))
        if card.resolved_by_name:
            done = _("Resolved: {who} — {how}, after {minutes} min.").format(
                who=html.quote(card.resolved_by_name), how=how, minutes=minutes
            )
        else:
            done = _("Resolved — {how}, after {minutes} min.").format(how=how, minutes=minutes)
        lines += ["", "✔️ " + done]
    if digest:
        lines.insert(0, _("(from the digest)"))
    return "\n".join(lines)


def _money_line(order: Order, tr: Translator) -> str:
    _ = tr.gettext
    parts = [tr.money(order.total_minor, order.currency)]
    owed = order.partial_refund_minor + order.stray_minor
    if order.refunded_minor:
        parts.append(_("refunded {amount}").format(amount=tr.money(order.refunded_minor, order.currency)))
    if owed:
        parts.append(_("owed back {amount}").format(amount=tr.money(owed, order.currency)))
    return " · ".join(parts)


def _last_action(action: dict[str, Any], tr: Translator) -> str:
    what = tr.gettext(ACTION_DONE.get(str(action.get("action")), ACTION_DONE["back_to_normal"]))
    return "↪️ " + f"{html.quote(str(action.get('by') or ''))}: {what}"


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
