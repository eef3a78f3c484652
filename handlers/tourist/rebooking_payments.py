"""Paying the difference of a dearer date (rebooking by oneself): the invoice's pre-checkout answer and its payment.

Only updates whose invoice payload is a date change's (``rebook:…``, :func:`domain.rules.rebooking.difference_payload`)
come here; the router sits before the order payments' one (handlers/tourist/payments.py), which takes every other.
The pre-checkout query is always answered: ok only if the date can still be had for exactly this amount. A payment
is recorded once per charge and moves the order (:func:`domain.use_cases.rebooking.pay_difference`); money that can
no longer move it is due back and the tourist reads that here.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, PreCheckoutQuery, SuccessfulPayment

from domain.errors import NotFound, NotPayable
from domain.model.orders import format_order_code
from domain.model.payments import AMOUNT, CANCELLED, NOT_YOURS, UNKNOWN, Payer, PaymentOutcome, PaymentResult
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.rebooking import DATE_GONE, DIFFERENCE_PAYLOAD_PREFIX, PRICE_CHANGED, parse_difference_payload
from domain.use_cases.rebooking import check_difference_payable, pay_difference
from handlers.settings import HandlerSettings
from handlers.tourist.payments import PRE_CHECKOUT_BUDGET_S, answer_unmatched_payment
from handlers.ui import Translator

router = Router(name=__name__)
log = logging.getLogger(__name__)


def refusal_text(reason: str, tr: Translator) -> str:
    """Why Telegram's payment form refuses the difference, in the tourist's words."""
    _ = tr.gettext
    texts = {
        NOT_YOURS: _("This invoice belongs to someone else's booking. Please book for yourself in the bot."),
        CANCELLED: _("This booking is cancelled, so there is nothing to pay."),
        DATE_GONE: _(
            "The new date can no longer be booked (it filled up or closed), so there is nothing to pay. Your "
            "booking stays as it is."
        ),
        PRICE_CHANGED: _(
            "The price of the new date has changed since this invoice was sent. Please pick the date again under "
            "“My orders”."
        ),
        UNKNOWN: _("We cannot find this order. Please check it under “My orders”."),
    }
    texts[AMOUNT] = texts[PRICE_CHANGED]
    return texts.get(
        reason, _("It is too late to change the date of this booking, so there is nothing to pay. It stays as it is.")
    )


def outcome_text(outcome: PaymentOutcome, amount: str, tr: Translator) -> str:
    """What the tourist reads right after paying the difference."""
    _ = tr.gettext
    code = format_order_code(outcome.order.code) if outcome.order else ""
    match outcome.result:
        case PaymentResult.APPLIED:
            return "✅ " + _(
                "Payment of {amount} received: booking <b>{code}</b> has its new date. Your ticket follows."
            ).format(amount=amount, code=code)
        case PaymentResult.DUPLICATE:
            return _("This payment is already recorded — nothing more to do.")
    if outcome.reason == NOT_YOURS:
        return "💸 " + _(
            "This invoice belongs to someone else's booking, so we cannot apply your payment. Our team will refund "
            "{amount} and message you here."
        ).format(amount=amount)
    return "💸 " + _(
        "We could not change the date of booking <b>{code}</b> any more, so it stays as it was. Our team will "
        "refund {amount} and message you here."
    ).format(code=code, amount=amount)


async def _answer(query: PreCheckoutQuery, error_message: str | None = None) -> None:
    try:
        await query.answer(ok=error_message is None, error_message=error_message)
    except TelegramAPIError as error:  # too late, or Telegram is down: nothing more we can do for this query
        log.warning("pre-checkout %s: answer failed: %s", query.id, error)


@router.pre_checkout_query(F.invoice_payload.startswith(DIFFERENCE_PAYLOAD_PREFIX))
async def on_difference_pre_checkout(query: PreCheckoutQuery, uow: UnitOfWork, tr: Translator, clock: Clock) -> None:
    try:
        if (parsed := parse_difference_payload(query.invoice_payload)) is None:
            raise NotPayable(reason=UNKNOWN)
        order_id, session_id = parsed
        check = check_difference_payable(
            uow, order_id, session_id, query.from_user.id, query.total_amount, query.currency, clock.now()
        )
        await asyncio.wait_for(check, PRE_CHECKOUT_BUDGET_S)
    except NotPayable as refused:
        await _answer(query, refusal_text(refused.reason, tr))
        return
    except Exception:  # never leave Telegram waiting
        log.exception("pre-checkout %s (%r): cannot check", query.id, query.invoice_payload)
        await _answer(query, tr.gettext("Sorry, we cannot take this payment right now. Please try again in a minute."))
        return
    await _answer(query)


@router.message(F.successful_payment.invoice_payload.startswith(DIFFERENCE_PAYLOAD_PREFIX))
async def on_difference_paid(
    message: Message, uow: UnitOfWork, user: User, tr: Translator, clock: Clock, settings: HandlerSettings
) -> None:
    paid = message.successful_payment
    assert isinstance(paid, SuccessfulPayment)  # the filter saw it
    amount = tr.money(paid.total_amount, paid.currency)
    payer_name = message.from_user.full_name if message.from_user else None
    parsed = parse_difference_payload(paid.invoice_payload)
    try:
        if parsed is None:
            raise NotFound(payload=paid.invoice_payload)
        outcome = await pay_difference(
            uow,
            parsed[0],
            parsed[1],
            user.id,
            paid.telegram_payment_charge_id,
            paid.provider_payment_charge_id,
            paid.total_amount,
            paid.currency,
            clock.now(),
            payer_name=payer_name,
        )
    except NotFound:
        log.warning("payment %s of %s for an unknown date change (%r)", paid.telegram_payment_charge_id, amount, parsed)
        await answer_unmatched_payment(message, uow, Payer(user.id, payer_name), paid, tr, clock, settings)
        return
    await message.answer(outcome_text(outcome, amount, tr))
