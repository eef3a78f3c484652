"""The operators' words for an order's state (handlers/status_words.py): every stage and every status of every
dimension has them, translated in every language we speak."""

from __future__ import annotations

import pytest

from bot.i18n import I18n
from domain.model.orders import BookingStatus, PaymentStatus, Stage, TicketStatus
from handlers.status_words import (
    OPERATOR_BOOKING_WORDS,
    OPERATOR_PAYMENT_WORDS,
    OPERATOR_STAGE_WORDS,
    OPERATOR_TICKET_WORDS,
    operator_booking_words,
    operator_payment_words,
    operator_stage_words,
    operator_ticket_words,
)

I18N = I18n()


def test_every_state_has_the_operators_words() -> None:
    assert set(OPERATOR_STAGE_WORDS) == set(Stage)
    assert set(OPERATOR_BOOKING_WORDS) == set(BookingStatus)
    assert set(OPERATOR_PAYMENT_WORDS) == set(PaymentStatus)
    assert set(OPERATOR_TICKET_WORDS) == set(TicketStatus)


@pytest.mark.parametrize("language", I18N.languages)
def test_the_operators_words_are_translated(language: str) -> None:
    tr = I18N.translator(language)
    words = [
        *(operator_stage_words(tr, s) for s in Stage),
        *(operator_booking_words(tr, s) for s in BookingStatus),
        *(operator_payment_words(tr, s) for s in PaymentStatus),
        *(operator_ticket_words(tr, s) for s in TicketStatus),
    ]
    assert all(w.strip() and "_" not in w for w in words), language


def test_the_desk_reads_short_words() -> None:
    tr = I18N.translator("en")
    assert operator_stage_words(tr, Stage.PAY_ON_SITE) == "confirmed, pays on site"
    assert operator_booking_words(tr, BookingStatus.DECLINED) == "declined by the organiser"
    assert operator_payment_words(tr, PaymentStatus.ON_SITE) == "to be paid at the meeting point"
    assert operator_ticket_words(tr, TicketStatus.VOIDED) == "void"
