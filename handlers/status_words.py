"""Every status of an order in words, one table per audience: the tourist, the organiser, the operators.

The words are marked with :func:`~handlers.ui.N_` here and translated where they are shown (``tr.gettext``), in
the reader's language; placeholders are filled after translation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from domain.model.orders import BookingStatus, PaymentStatus, Stage, TicketStatus
from handlers.ui import N_, Translator

S = TypeVar("S", bound=enum.StrEnum)  # a status enum that a words table is keyed by

# ---- the tourist: their order's stage, in full sentences ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouristWords:
    """What a stage means (``status``) and what happens next (``after``; ``after_by`` instead when there is a
    deadline, ``{time}``). ``{amount}`` is the order's total."""

    emoji: str
    status: str
    after: str | None = None
    after_by: str | None = None


TOURIST_STAGE_WORDS: dict[Stage, TouristWords] = {
    Stage.AWAITING_ORGANISER: TouristWords(
        "⏳",
        N_("Waiting for the organiser to confirm. Your seats are held."),
        N_("The organiser answers soon — we will message you here."),
        N_("The organiser answers by {time} — we will message you here."),
    ),
    Stage.AWAITING_PAYMENT: TouristWords(
        "💳",
        N_("Confirmed by the organiser — waiting for your payment."),
        N_("Please pay {amount} soon to keep your seats."),
        N_("Please pay {amount} by {time}, otherwise the seats go back on sale."),
    ),
    Stage.PAY_ON_SITE: TouristWords(
        "✅",
        N_("Confirmed."),
        N_("Pay at the meeting point: {amount}. Please come a few minutes early."),
    ),
    Stage.PAID: TouristWords(
        "✅",
        N_("Confirmed and paid."),
        N_("Show the order code at the meeting point. Have a great time!"),
    ),
    Stage.DECLINED: TouristWords(
        "❌",
        N_("The organiser could not accept this booking."),
        N_("Nothing to pay. Have a look at other dates or events."),
    ),
    Stage.CANCELLED: TouristWords(
        "🚫",
        N_("You cancelled this booking."),
        N_("Nothing to pay. The seats went back on sale."),
    ),
    Stage.REFUND_DUE: TouristWords(
        "💸",
        N_("Cancelled after payment."),
        N_("Refund due: our team will return {amount}. We will message you here when it is done."),
    ),
    Stage.REFUNDED: TouristWords("↩️", N_("Your payment has been refunded.")),
    Stage.EXPIRED: TouristWords(
        "⌛",
        N_("This booking expired: it was not confirmed or paid in time."),
        N_("Nothing to pay. You are welcome to book again."),
    ),
    Stage.SESSION_CANCELLED: TouristWords(
        "🚫",
        N_("The organiser cancelled this session."),
        N_("Nothing to pay. We are sorry — have a look at other dates."),
    ),
    Stage.ATTENDED: TouristWords("🎉", N_("You attended this event. We hope you enjoyed it!")),
    Stage.NO_SHOW: TouristWords(
        "➖",
        N_("You were marked as a no-show."),
        N_("If that is a mistake, ask us a question."),
    ),
    Stage.PAST: TouristWords("🏁", N_("This session has already taken place.")),
}
PARTLY_REFUNDED = N_("Part of your payment has been refunded.")  # REFUNDED, when only part of it was


def tourist_stage_words(
    tr: Translator, stage: Stage, amount: str, by: str | None = None, partly_refunded: bool = False
) -> tuple[str, str | None]:
    """The tourist's order at ``stage`` in plain words and what happens next: ``amount`` is the order's total,
    ``by`` the deadline of the stage (already in the reader's words), if any."""
    words = TOURIST_STAGE_WORDS[stage]
    status = PARTLY_REFUNDED if stage is Stage.REFUNDED and partly_refunded else words.status
    after = words.after_by if by and words.after_by else words.after
    return (
        tr.gettext(status),
        tr.gettext(after).format(amount=amount, time=by) if after else None,
    )


# ---- the organiser: why a booking request can no longer be answered ------------------------------------------------

ORGANISER_BOOKING_WORDS: dict[BookingStatus, str] = {
    BookingStatus.CONFIRMED: N_("it is already confirmed"),
    BookingStatus.DECLINED: N_("it was declined"),
    BookingStatus.CANCELLED: N_("it was cancelled"),
    BookingStatus.EXPIRED: N_("it expired"),
    BookingStatus.ATTENDED: N_("the session is over"),
    BookingStatus.NO_SHOW: N_("the session is over"),
}


def words_for(tr: Translator, table: dict[S, str], status: S) -> str:
    """``status`` in the words of ``table``, translated; its raw value when the table has no words for it."""
    words = table.get(status)
    return tr.gettext(words) if words else status.value


def organiser_booking_words(tr: Translator, booking: BookingStatus) -> str:
    """``Booking K7M-A4X cannot be answered: {it was cancelled}``."""
    return words_for(tr, ORGANISER_BOOKING_WORDS, booking)


# ---- the operators: an order's state in a word or two, on the desk --------------------------------------------------

OPERATOR_STAGE_WORDS: dict[Stage, str] = {
    Stage.AWAITING_ORGANISER: N_("awaiting the organiser"),
    Stage.AWAITING_PAYMENT: N_("awaiting payment"),
    Stage.PAY_ON_SITE: N_("confirmed, pays on site"),
    Stage.PAID: N_("paid"),
    Stage.DECLINED: N_("declined"),
    Stage.CANCELLED: N_("cancelled"),
    Stage.REFUND_DUE: N_("refund due"),
    Stage.REFUNDED: N_("refunded"),
    Stage.EXPIRED: N_("expired"),
    Stage.SESSION_CANCELLED: N_("session cancelled"),
    Stage.ATTENDED: N_("attended"),
    Stage.NO_SHOW: N_("no-show"),
    Stage.PAST: N_("session over"),
}

OPERATOR_BOOKING_WORDS: dict[BookingStatus, str] = {
    BookingStatus.AWAITING_ORGANISER: N_("awaiting the organiser"),
    BookingStatus.CONFIRMED: N_("confirmed"),
    BookingStatus.DECLINED: N_("declined by the organiser"),
    BookingStatus.CANCELLED: N_("cancelled"),
    BookingStatus.EXPIRED: N_("expired"),
    BookingStatus.ATTENDED: N_("attended"),
    BookingStatus.NO_SHOW: N_("no-show"),
}

OPERATOR_PAYMENT_WORDS: dict[PaymentStatus, str] = {
    PaymentStatus.NOT_DUE: N_("nothing to pay"),
    PaymentStatus.AWAITING: N_("awaiting payment"),
    PaymentStatus.ON_SITE: N_("to be paid at the meeting point"),
    PaymentStatus.PAID: N_("paid"),
    PaymentStatus.REFUND_DUE: N_("refund due"),
    PaymentStatus.REFUNDED: N_("refunded"),
    PaymentStatus.PARTIALLY_REFUNDED: N_("partially refunded"),
}

OPERATOR_TICKET_WORDS: dict[TicketStatus, str] = {
    TicketStatus.NONE: N_("not issued"),
    TicketStatus.ISSUED: N_("issued"),
    TicketStatus.VOIDED: N_("void"),
}


def operator_stage_words(tr: Translator, stage: Stage) -> str:
    """An order's stage on the desk (a list line of ``/find``, a question's context): ``awaiting payment``."""
    return words_for(tr, OPERATOR_STAGE_WORDS, stage)


def operator_booking_words(tr: Translator, status: BookingStatus) -> str:
    return words_for(tr, OPERATOR_BOOKING_WORDS, status)


def operator_payment_words(tr: Translator, status: PaymentStatus) -> str:
    return words_for(tr, OPERATOR_PAYMENT_WORDS, status)


def operator_ticket_words(tr: Translator, status: TicketStatus) -> str:
    return words_for(tr, OPERATOR_TICKET_WORDS, status)
