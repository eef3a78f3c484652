"""Money on the desk's cards: what is owed back per currency, who paid, and the card of a payment whose order we
cannot find. Money is an amount and a currency: amounts in different currencies are listed side by side, never
added up."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import html

from domain.model.desk import PAYMENT_SUBJECT, Card
from domain.model.orders import Order, PaymentStatus
from domain.model.payments import Payment
from domain.model.users import User
from domain.ports import UnitOfWork
from handlers.operator.desk_time import DeskClock
from handlers.ui import Translator


@dataclass(frozen=True, slots=True)
class PaymentSide:
    """What a card about a payment whose order we cannot find shows: the payment and who paid."""

    payment: Payment | None
    user: User | None  # the payer, as the bot knows them (the card's "write to the tourist" writes to them)


def is_payment_card(card: Card) -> bool:
    return card.subject.startswith(PAYMENT_SUBJECT)


async def load_payment_side(uow: UnitOfWork, card: Card) -> PaymentSide:
    """Inside the caller's transaction."""
    payment = await uow.payments.by_charge_id(card.subject.removeprefix(PAYMENT_SUBJECT))
    user = await uow.users.get(card.user_id) if card.user_id else None
    return PaymentSide(payment, user)


def owed_back_text(order: Order, tr: Translator, whole: bool = True) -> str:
    """``€12.00 + $90.00``: what is owed back, per currency; empty when nothing is. Without ``whole``: not the
    order's own amount while it is refund due (a card says "Refund due" for that)."""
    owed = order.owed_back()
    if not whole and order.payment is PaymentStatus.REFUND_DUE:
        key = order.currency.upper()
        owed[key] = owed.get(key, 0) - order.total_minor
    return " + ".join(tr.money(amount, currency) for currency, amount in owed.items() if amount > 0)


def payer_link(payer_id: int, name: str | None) -> str:
    return f'<a href="tg://user?id={payer_id}">{html.quote(name or str(payer_id))}</a>'


def paid_by(payment: Payment, order: Order, tr: Translator) -> str | None:
    """``paid by Mallory`` when someone other than the order's tourist paid; None otherwise."""
    if payment.payer_id is None or not payment.paid_by_someone_else(order):
        return None
    return tr.gettext("paid by {payer}, not the order's tourist").format(
        payer=payer_link(payment.payer_id, payment.payer_name)
    )


def payment_card_lines(card: Card, side: PaymentSide, titles: str, tr: Translator, clock: DeskClock) -> list[str]:
    """The head of a card about money whose order we cannot find: the amount, both charge ids, the payer."""
    _ = tr.gettext
    lines = [("✅ " if not card.is_open else "💳 ") + f"<b>{titles}</b>"]
    payment = side.payment
    payer_id = payment.payer_id if payment and payment.payer_id is not None else card.user_id
    if payer_id is not None:
        name = payment.payer_name if payment else None
        if side.user is not None:
            name = name or side.user.first_name
        payer = payer_link(payer_id, name)
        if side.user is not None and side.user.username:
            payer += " · @" + html.quote(side.user.username)
        lines.append("👤 " + _("Paid by {payer}").format(payer=payer))
    if payment is not None:
        lines.append(
            "💶 "
            + _("{amount} at {time}").format(
                amount=tr.money(payment.amount_minor, payment.currency), time=clock.datetime(payment.paid_at)
            )
        )
        lines.append(
            _("Telegram charge: {charge}").format(charge=f"<code>{html.quote(payment.telegram_charge_id)}</code>")
        )
        lines.append(
            _("Provider charge: {charge}").format(charge=f"<code>{html.quote(payment.provider_charge_id)}</code>")
        )
    return lines
