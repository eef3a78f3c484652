"""Paying in chat: the pre-checkout answer (within Telegram's 10 seconds) and the successful payment.

The pre-checkout query is always answered: ok only if the order is still payable for exactly this amount, otherwise
with the reason in the tourist's language, and on any trouble of ours with a plain "try again". A successful payment
is recorded once per charge, with who paid: the ticket itself comes through the outbox; money that cannot pay the
order is due back, and the tourist reads that here (never another person's order code); money for an order we
cannot find is recorded too and becomes a problem card for the operators.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, PreCheckoutQuery, SuccessfulPayment

from domain.errors import NotFound, NotPayable
from domain.model.orders import format_order_code
from domain.model.payments import (
    ALREADY_PAID,
    AMOUNT,
    CANCELLED,
    DECLINED,
    EXPIRED,
    NOT_DUE,
    NOT_YOURS,
    SESSION_STARTED,
    UNKNOWN,
    Payer,
    PaymentOutcome,
    PaymentResult,
    parse_invoice_payload,
)
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.payments import check_payable, record_payment, record_unmatched_payment
from handlers.settings import HandlerSettings
from handlers.ui import Translator

router = Router(name=__name__)
log = logging.getLogger(__name__)

PRE_CHECKOUT_BUDGET_S = 7.0  # Telegram waits 10 s for the answer; leave room for the answer itself


def refusal_text(reason: str, tr: Translator) -> str:
    """Why Telegram's payment form refuses to go on, in the tourist's words."""
    _ = tr.gettext
    texts = {
        ALREADY_PAID: _("This order is already paid — there is nothing more to pay."),
        CANCELLED: _("This booking is cancelled, so there is nothing to pay."),
        DECLINED: _("The organiser could not accept this booking, so there is nothing to pay."),
        EXPIRED: _(
            "The time to pay for this booking has run out and the seats went back on sale. "
            "You are welcome to book again."
        ),
        SESSION_STARTED: _("This session has already started, so it can no longer be paid for."),
        NOT_DUE: _("This order is not waiting for a payment. Please check it under “My orders”."),
        AMOUNT: _(
            "The price of this order has changed since this invoice was sent. Please ask us a question and "
            "our team will sort it out."
        ),
        NOT_YOURS: _("This invoice belongs to someone else's booking. Please book for yourself in the bot."),
        UNKNOWN: _("We cannot find this order. Please check it under “My orders”."),
    }
    return texts.get(reason, texts[UNKNOWN])


def outcome_text(outcome: PaymentOutcome, amount: str, tr: Translator) -> str:
    """What the tourist reads right after paying."""
    _ = tr.gettext
    code = format_order_code(outcome.order.code) if outcome.order else ""
    match outcome.result:
        case PaymentResult.APPLIED:
            return "✅ " + _("Payment of {amount} received for booking <b>{code}</b>. Your ticket follows.").format(
                amount=amount, code=code
            )
        case PaymentResult.DUPLICATE:
            return _("This payment is already recorded — nothing more to do.")
    if outcome.reason == NOT_YOURS:  # someone else's booking: its code is not theirs to see
        return "💸 " + _(
            "This invoice belongs to someone else's booking, so we cannot apply your payment. Our team will refund "
            "{amount} and message you here."
        ).format(amount=amount)
    due_back = {  # why the money could not pay the order, so it goes back
        ALREADY_PAID: _(
            "Booking <b>{code}</b> was already paid, so this second payment of {amount} will be refunded by "
            "our team. We will message you here."
        ),
        EXPIRED: _(
            "Booking <b>{code}</b> had expired before your payment arrived. Our team will refund {amount} and "
            "message you here."
        ),
        CANCELLED: _(
            "Booking <b>{code}</b> is cancelled, so we cannot accept this payment. Our team will refund "
            "{amount} and message you here."
        ),
        DECLINED: _(
            "The organiser could not accept booking <b>{code}</b>, so we cannot accept this payment. Our team "
            "will refund {amount} and message you here."
        ),
    }
    otherwise = _(
        "We could not apply this payment to booking <b>{code}</b>. Our team will refund {amount} and message you here."
    )
    text = due_back.get(outcome.reason or "", otherwise)
    return "💸 " + text.format(code=code, amount=amount)


async def _answer_pre_checkout(query: PreCheckoutQuery, error_message: str | None = None) -> None:
    try:
        if error_message is None:
            await query.answer(ok=True)
        else:
            await query.answer(ok=False, error_message=error_message)
    except TelegramAPIError as error:  # too late, or Telegram is down: nothing more we can do for this query
        log.warning("pre-checkout %s: answer failed: %s", query.id, error)


@router.pre_checkout_query()
async def on_pre_checkout(query: PreCheckoutQuery, uow: UnitOfWork, tr: Translator, clock: Clock) -> None:
    try:
        order_id = parse_invoice_payload(query.invoice_payload)
        if order_id is None:
            raise NotPayable(reason=UNKNOWN)
        await asyncio.wait_for(
            check_payable(uow, order_id, query.from_user.id, query.total_amount, query.currency, clock.now()),
            PRE_CHECKOUT_BUDGET_S,
        )
    except NotPayable as refused:
        await _answer_pre_checkout(query, refusal_text(refused.reason, tr))
        return
    except Exception:  # never leave Telegram waiting: the tourist gets an answer whatever happened here
        log.exception("pre-checkout %s (%r): cannot check", query.id, query.invoice_payload)
        await _answer_pre_checkout(
            query, tr.gettext("Sorry, we cannot take this payment right now. Please try again in a minute.")
        )
        return
    await _answer_pre_checkout(query)


@router.message(F.successful_payment.as_("paid"))
async def on_successful_payment(
    message: Message,
    paid: SuccessfulPayment,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    amount = tr.money(paid.total_amount, paid.currency)
    payer_name = message.from_user.full_name if message.from_user else None
    order_id = parse_invoice_payload(paid.invoice_payload)
    try:
        if order_id is None:
            raise NotFound(payload=paid.invoice_payload)
        outcome = await record_payment(
            uow,
            order_id,
            user.id,
            paid.telegram_payment_charge_id,
            paid.provider_payment_charge_id,
            paid.total_amount,
            paid.currency,
            clock.now(),
            payer_name=payer_name,
        )
    except NotFound:
        log.warning(
            "payment %s of %s for an unknown order (%r): a problem card for the operators",
            paid.telegram_payment_charge_id,
            amount,
            paid.invoice_payload,
        )
        await answer_unmatched_payment(message, uow, Payer(user.id, payer_name), paid, tr, clock, settings)
        return
    await message.answer(outcome_text(outcome, amount, tr))


async def answer_unmatched_payment(
    message: Message,
    uow: UnitOfWork,
    payer: Payer,
    paid: SuccessfulPayment,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    """A payment that matches no booking (or date change): recorded for the operators (a problem card), and the
    payer told that the team will contact them."""
    await record_unmatched_payment(
        uow,
        payer,
        paid.telegram_payment_charge_id,
        paid.provider_payment_charge_id,
        paid.total_amount,
        paid.currency,
        paid.invoice_payload,
        clock.now(),
        settings.desk,
    )
    amount = tr.money(paid.total_amount, paid.currency)
    await message.answer(
        tr.gettext(
            "We received your payment of {amount} but cannot match it to a booking. Our team will contact you."
        ).format(amount=amount)
    )
