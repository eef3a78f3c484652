"""Every status has its words for every audience (handlers/status_words.py), in every language we speak."""

from __future__ import annotations

import pytest

from bot.i18n import I18n
from domain.model.orders import BookingStatus, Stage
from handlers.status_words import (
    ORGANISER_BOOKING_WORDS,
    TOURIST_STAGE_WORDS,
    organiser_booking_words,
    tourist_stage_words,
)

I18N = I18n()


def test_every_stage_has_the_tourists_words() -> None:
    assert set(TOURIST_STAGE_WORDS) == set(Stage)


def test_every_answered_booking_has_the_organisers_words() -> None:
    assert set(ORGANISER_BOOKING_WORDS) == set(BookingStatus) - {BookingStatus.AWAITING_ORGANISER}


@pytest.mark.parametrize("language", I18N.languages)
def test_the_tourists_words_fill_the_amount_and_the_deadline(language: str) -> None:
    tr = I18N.translator(language)
    for stage in Stage:
        status, after = tourist_stage_words(tr, stage, amount="€45.00", by="11:30")
        assert status.strip(), (language, stage)
        assert "{" not in status and (after is None or "{" not in after), (language, stage)
    _status, pay = tourist_stage_words(tr, Stage.AWAITING_PAYMENT, amount="€45.00", by="11:30")
    assert pay is not None and "€45.00" in pay and "11:30" in pay
    _status, soon = tourist_stage_words(tr, Stage.AWAITING_PAYMENT, amount="€45.00")
    assert soon is not None and "€45.00" in soon and "11:30" not in soon


def test_a_partial_refund_says_so() -> None:
    tr = I18N.translator("en")
    assert tourist_stage_words(tr, Stage.REFUNDED, amount="€1")[0] == "Your payment has been refunded."
    partly = tourist_stage_words(tr, Stage.REFUNDED, amount="€1", partly_refunded=True)
    assert partly == ("Part of your payment has been refunded.", None)


def test_the_organiser_reads_why_a_request_is_closed() -> None:
    tr = I18N.translator("en")
    assert organiser_booking_words(tr, BookingStatus.CANCELLED) == "it was cancelled"
    assert organiser_booking_words(tr, BookingStatus.AWAITING_ORGANISER) == "awaiting_organiser"
