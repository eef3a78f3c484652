"""The order: the stage a tourist sees for every combination, the cancel rules, and the public code."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidAmount, InvalidRating, InvalidTransition, NothingOwed, PaidPriceUp
from domain.model.orders import (
    ACTIVE_BOOKINGS,
    CODE_ALPHABET,
    CODE_LENGTH,
    BookingStatus,
    Order,
    OrderItem,
    PaymentStatus,
    Stage,
    TicketStatus,
    format_order_code,
    new_order_code,
    normalize_order_code,
    order_stage,
    stage_deadline,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=2)


def make_order(
    booking: BookingStatus = BookingStatus.AWAITING_ORGANISER,
    payment: PaymentStatus = PaymentStatus.NOT_DUE,
    ticket: TicketStatus = TicketStatus.NONE,
) -> Order:
    return Order(
        code="K7MA4X",
        user_id=42,
        session_id=1,
        event_id=1,
        currency="EUR",
        items=[OrderItem("adult", 2, 4500), OrderItem("child", 1, 2500)],
        subtotal_minor=11500,
        discount_percent=10,
        total_minor=10350,
        created_at=NOW,
        hold_until=NOW + timedelta(minutes=15),
        language="en",
        booking=booking,
        payment=payment,
        ticket=ticket,
        hotel_id=1,
        answers={"pickup": "Hotel Telegraaf", "lunch": "fish"},
        confirm_by=NOW + timedelta(minutes=10),
        pay_by=NOW + timedelta(minutes=30),
        id=7,
    )


# ---- stage ------------------------------------------------------------------------------------------------------

_TERMINAL = {
    BookingStatus.DECLINED: Stage.DECLINED,
    BookingStatus.EXPIRED: Stage.EXPIRED,
    BookingStatus.ATTENDED: Stage.ATTENDED,
    BookingStatus.NO_SHOW: Stage.NO_SHOW,
}
_REFUNDED = {PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}


def expected_stage(booking: BookingStatus, payment: PaymentStatus, session_cancelled: bool, past: bool) -> Stage | None:
    """The stage the tourist must see, written from the rules rather than from the code; None = not specified."""
    if payment is PaymentStatus.REFUND_DUE:
        return Stage.REFUND_DUE
    active = booking in ACTIVE_BOOKINGS
    if not active and payment in _REFUNDED:
        return Stage.REFUNDED
    if booking in _TERMINAL:
        return _TERMINAL[booking]
    if booking is BookingStatus.CANCELLED:
        return Stage.SESSION_CANCELLED if session_cancelled else Stage.CANCELLED
    if session_cancelled:
        return Stage.SESSION_CANCELLED
    if past:
        return Stage.PAST
    if booking is BookingStatus.AWAITING_ORGANISER:
        return Stage.AWAITING_ORGANISER
    return {
        PaymentStatus.PAID: Stage.PAID,
        PaymentStatus.ON_SITE: Stage.PAY_ON_SITE,
        PaymentStatus.AWAITING: Stage.AWAITING_PAYMENT,
        PaymentStatus.NOT_DUE: Stage.AWAITING_PAYMENT,
        PaymentStatus.PARTIALLY_REFUNDED: Stage.PAID,  # paid, part of it returned (hotel added after payment)
        PaymentStatus.REFUNDED: None,  # refunded yet still confirmed: an operator problem, any stage will do
    }[payment]


COMBINATIONS = list(itertools.product(BookingStatus, PaymentStatus, TicketStatus, (False, True), (False, True)))


def test_every_combination_is_covered() -> None:
    assert len(COMBINATIONS) == len(BookingStatus) * len(PaymentStatus) * len(TicketStatus) * 4


@pytest.mark.parametrize(("booking", "payment", "ticket", "session_cancelled", "past"), COMBINATIONS)
def test_stage_for_every_combination(
    booking: BookingStatus, payment: PaymentStatus, ticket: TicketStatus, session_cancelled: bool, past: bool
) -> None:
    order = make_order(booking, payment, ticket)
    starts = NOW - timedelta(hours=1) if past else STARTS
    stage = order_stage(order, starts, session_cancelled, NOW)
    assert isinstance(stage, Stage)
    expected = expected_stage(booking, payment, session_cancelled, past)
    if expected is not None:
        assert stage is expected
    # The ticket never decides what the tourist sees.
    plain = make_order(booking, payment, TicketStatus.NONE)
    assert order_stage(plain, starts, session_cancelled, NOW) is stage


def test_confirmed_partially_refunded_order_is_paid() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PARTIALLY_REFUNDED, TicketStatus.ISSUED)
    assert order_stage(order, STARTS, False, NOW) is Stage.PAID


def test_session_start_exactly_now_is_past() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID)
    assert order_stage(order, NOW, False, NOW) is Stage.PAST
    assert order_stage(order, NOW + timedelta(seconds=1), False, NOW) is Stage.PAID


def test_stage_deadlines() -> None:
    order = make_order()
    assert stage_deadline(order, Stage.AWAITING_ORGANISER) == order.confirm_by
    assert stage_deadline(order, Stage.AWAITING_PAYMENT) == order.pay_by
    for stage in set(Stage) - {Stage.AWAITING_ORGANISER, Stage.AWAITING_PAYMENT}:
        assert stage_deadline(order, stage) is None


# ---- cancel rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("booking", "payment", "ticket", "payment_after", "ticket_after"),
    [
        # free before payment
        (
            BookingStatus.AWAITING_ORGANISER,
            PaymentStatus.NOT_DUE,
            TicketStatus.NONE,
            PaymentStatus.NOT_DUE,
            TicketStatus.NONE,
        ),
        (BookingStatus.CONFIRMED, PaymentStatus.AWAITING, TicketStatus.NONE, PaymentStatus.NOT_DUE, TicketStatus.NONE),
        (
            BookingStatus.CONFIRMED,
            PaymentStatus.ON_SITE,
            TicketStatus.ISSUED,
            PaymentStatus.NOT_DUE,
            TicketStatus.VOIDED,
        ),
        # refund due after
        (
            BookingStatus.CONFIRMED,
            PaymentStatus.PAID,
            TicketStatus.ISSUED,
            PaymentStatus.REFUND_DUE,
            TicketStatus.VOIDED,
        ),
        (BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.NONE, PaymentStatus.REFUND_DUE, TicketStatus.NONE),
    ],
)
def test_tourist_cancels(
    booking: BookingStatus,
    payment: PaymentStatus,
    ticket: TicketStatus,
    payment_after: PaymentStatus,
    ticket_after: TicketStatus,
) -> None:
    order = make_order(booking, payment, ticket)
    assert order.can_be_cancelled_by_tourist(STARTS, NOW)
    order.cancel_by_tourist(STARTS, NOW)
    assert order.booking is BookingStatus.CANCELLED
    assert order.payment is payment_after
    assert order.ticket is ticket_after
    assert order.cancelled_at == NOW
    assert order.total_minor == 10350  # the amounts stay for accounting
    assert order_stage(order, STARTS, False, NOW) in {Stage.CANCELLED, Stage.REFUND_DUE}


def test_cancelling_a_partially_refunded_order_makes_the_rest_refund_due() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PARTIALLY_REFUNDED, TicketStatus.ISSUED)
    order.cancel_by_tourist(STARTS, NOW)
    assert order.payment is PaymentStatus.REFUND_DUE


@pytest.mark.parametrize("booking", sorted(set(BookingStatus) - ACTIVE_BOOKINGS))
def test_only_active_orders_can_be_cancelled(booking: BookingStatus) -> None:
    order = make_order(booking, PaymentStatus.NOT_DUE)
    assert not order.can_be_cancelled_by_tourist(STARTS, NOW)
    with pytest.raises(InvalidTransition):
        order.cancel_by_tourist(STARTS, NOW)
    assert order.booking is booking
    assert order.cancelled_at is None


@pytest.mark.parametrize("starts", [NOW, NOW - timedelta(hours=1)])
def test_no_cancelling_once_the_session_started(starts: datetime) -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    with pytest.raises(InvalidTransition):
        order.cancel_by_tourist(starts, NOW)
    assert (order.booking, order.payment, order.ticket) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
        TicketStatus.ISSUED,
    )


def test_order_seats_snapshot_and_anonymize() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    assert order.seats == 3
    assert order.is_active
    assert order.snapshot() == {"booking": "confirmed", "payment": "paid", "ticket": "issued"}
    order.anonymize()
    assert (order.user_id, order.answers, order.hotel_id) == (None, {}, None)
    assert (order.total_minor, order.subtotal_minor, order.code) == (10350, 11500, "K7MA4X")


# ---- public code ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("look_alikes", ["0OQ", "1IL", "2Z", "5S", "6G", "8B"])
def test_code_alphabet_keeps_at_most_one_of_each_look_alike_group(look_alikes: str) -> None:
    assert len(set(CODE_ALPHABET) & set(look_alikes)) <= 1


def test_code_alphabet_is_upper_case_and_unique() -> None:
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 24
    assert CODE_ALPHABET.upper() == CODE_ALPHABET


def test_new_codes_use_the_alphabet() -> None:
    codes = {new_order_code() for _ in range(2000)}
    assert all(len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert len(codes) > 1990  # 24**6 ≈ 191 million codes: collisions are rare


def test_format_order_code() -> None:
    assert format_order_code("K7MA4X") == "K7M-A4X"
    assert format_order_code("K7M") == "K7M"


@pytest.mark.parametrize("text", ["K7MA4X", "k7m-a4x", "K7M A4X", " k7m a4x ", "#K7MA4X", "K7M-\tA4X"])
def test_normalize_accepts_what_people_type(text: str) -> None:
    assert normalize_order_code(text) == "K7MA4X"


@pytest.mark.parametrize("text", ["", "K7M-A4", "K7MA4XX", "K0MA4X", "KOMA4X", "K7MA4Z", "K7M_A4X", "К7МА4Х"])
def test_normalize_refuses_non_codes(text: str) -> None:
    assert normalize_order_code(text) is None


@given(st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH))
def test_formatted_codes_normalize_back(code: str) -> None:
    assert normalize_order_code(format_order_code(code)) == code
    assert normalize_order_code(format_order_code(code).lower()) == code


# ---- every status change is a method that refuses a state it does not fit, changing nothing ------------------------

B, P, T = BookingStatus, PaymentStatus, TicketStatus
MORE_ITEMS = [OrderItem("adult", 3, 4500), OrderItem("child", 1, 2500)]
REFUSED = [
    pytest.param(
        lambda o: o.await_organiser(NOW, timedelta(minutes=10)), (B.CONFIRMED, P.AWAITING, T.NONE), id="await"
    ),
    pytest.param(
        lambda o: o.confirm_instantly(NOW, timedelta(minutes=30), True), (B.CONFIRMED, P.ON_SITE, T.NONE), id="instant"
    ),
    pytest.param(
        lambda o: o.confirm_by_organiser(NOW, timedelta(minutes=30), True),
        (B.CONFIRMED, P.AWAITING, T.NONE),
        id="confirm",
    ),
    pytest.param(lambda o: o.decline_by_organiser(NOW), (B.CANCELLED, P.NOT_DUE, T.NONE), id="decline"),
    pytest.param(lambda o: o.note_unclear_reply("maybe"), (B.DECLINED, P.NOT_DUE, T.NONE), id="unclear"),
    pytest.param(lambda o: o.mark_organiser_nudged(NOW), (B.CONFIRMED, P.AWAITING, T.NONE), id="nudged"),
    pytest.param(lambda o: o.end(B.EXPIRED, NOW), (B.CANCELLED, P.REFUND_DUE, T.VOIDED), id="end"),
    pytest.param(lambda o: o.remind_to_pay(NOW, NOW), (B.CONFIRMED, P.ON_SITE, T.NONE), id="remind_to_pay"),
    pytest.param(lambda o: o.pay(NOW, "TKT-AAA-AAA-AAA"), (B.CONFIRMED, P.PAID, T.ISSUED), id="pay"),
    pytest.param(lambda o: o.receive_after_end(), (B.CONFIRMED, P.AWAITING, T.NONE), id="receive_after_end"),
    pytest.param(lambda o: o.change_items(MORE_ITEMS, 16000, 14400), (B.EXPIRED, P.NOT_DUE, T.NONE), id="items"),
    pytest.param(lambda o: o.change_hotel(None, 0, 11500, 11500), (B.CANCELLED, P.REFUND_DUE, T.VOIDED), id="hotel"),
    pytest.param(lambda o: o.move_to(2), (B.DECLINED, P.NOT_DUE, T.NONE), id="move_to"),
    pytest.param(lambda o: o.reissue_ticket("TKT-AAA-AAA-AAA"), (B.CONFIRMED, P.AWAITING, T.NONE), id="reissue"),
    pytest.param(lambda o: o.rate(5, NOW), (B.CANCELLED, P.NOT_DUE, T.NONE), id="rate"),
]


@pytest.mark.parametrize(("change", "state"), REFUSED)
def test_a_transition_refuses_a_state_it_does_not_fit(
    change: Callable[[Order], object], state: tuple[BookingStatus, PaymentStatus, TicketStatus]
) -> None:
    order = make_order(*state)
    order.ticket_code = "TKT-CCC-CCC-CCC" if order.ticket is TicketStatus.ISSUED else None
    before = copy.deepcopy(order)
    with pytest.raises(InvalidTransition) as refused:
        change(order)
    assert order == before
    assert refused.value.data["booking"] == state[0].value


def test_end_takes_only_an_ending() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    with pytest.raises(InvalidTransition):
        order.end(BookingStatus.ATTENDED, NOW)
    assert order.booking is BookingStatus.CONFIRMED and order.cancelled_at is None


def test_the_organiser_is_nudged_and_the_tourist_reminded_once() -> None:
    waiting = make_order()
    waiting.mark_organiser_nudged(NOW)
    with pytest.raises(InvalidTransition):
        waiting.mark_organiser_nudged(NOW + timedelta(minutes=1))
    assert waiting.confirm_nudged_at == NOW

    unpaid = make_order(BookingStatus.CONFIRMED, PaymentStatus.AWAITING)
    unpaid.remind_to_pay(NOW, NOW + timedelta(minutes=15))
    with pytest.raises(InvalidTransition):
        unpaid.remind_to_pay(NOW + timedelta(minutes=1), NOW + timedelta(hours=1))
    assert (unpaid.pay_reminded_at, unpaid.hold_until) == (NOW, NOW + timedelta(minutes=15))


def test_placing_sets_the_first_deadline() -> None:
    needs = make_order()
    needs.confirm_by = None
    needs.await_organiser(NOW, timedelta(minutes=10))
    assert (needs.booking, needs.payment, needs.confirm_by) == (
        BookingStatus.AWAITING_ORGANISER,
        PaymentStatus.NOT_DUE,
        NOW + timedelta(minutes=10),
    )
    instant = make_order()
    instant.pay_by = None
    instant.confirm_instantly(NOW, timedelta(minutes=30), payments_enabled=True)
    assert (instant.booking, instant.payment, instant.pay_by) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.AWAITING,
        NOW + timedelta(minutes=30),
    )
    assert instant.hold_until == NOW + timedelta(minutes=15)  # the hold is not stretched to the pay deadline
    on_site = make_order()
    on_site.confirm_instantly(NOW, timedelta(minutes=30), payments_enabled=False)
    assert (on_site.booking, on_site.payment) == (BookingStatus.CONFIRMED, PaymentStatus.ON_SITE)


def test_confirming_clears_an_unclear_reply() -> None:
    order = make_order()
    order.note_unclear_reply("maybe tomorrow?")
    assert order.unclear_reply == "maybe tomorrow?"
    order.confirm_by_organiser(NOW, timedelta(minutes=30), payments_enabled=False)
    assert order.unclear_reply is None


def test_paying_issues_the_ticket_and_late_money_becomes_refund_due() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.AWAITING)
    order.pay(NOW, "TKT-AAA-AAA-AAA")
    assert (order.payment, order.ticket, order.ticket_code, order.paid_at) == (
        PaymentStatus.PAID,
        TicketStatus.ISSUED,
        "TKT-AAA-AAA-AAA",
        NOW,
    )
    expired = make_order(BookingStatus.EXPIRED, PaymentStatus.NOT_DUE)
    expired.receive_after_end()
    assert expired.payment is PaymentStatus.REFUND_DUE
    refunding = make_order(BookingStatus.CANCELLED, PaymentStatus.REFUND_DUE, TicketStatus.VOIDED)
    with pytest.raises(InvalidTransition):  # the order's own money is due back already: this one is stray money
        refunding.receive_after_end()


def test_a_refund_refuses_when_nothing_is_owed_or_a_wrong_amount() -> None:
    paid = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    with pytest.raises(NothingOwed):
        paid.refund(None)
    owing = make_order(BookingStatus.CANCELLED, PaymentStatus.REFUND_DUE, TicketStatus.VOIDED)
    owing.stray_minor = 500
    before = copy.deepcopy(owing)
    for amount in (0, -1, owing.owed_minor + 1, True):
        with pytest.raises(InvalidAmount) as refused:
            owing.refund(amount)
        assert refused.value.data["owed"] == 10850
    assert owing == before


def test_a_refund_pays_stray_money_first_then_the_order() -> None:
    order = make_order(BookingStatus.CANCELLED, PaymentStatus.REFUND_DUE, TicketStatus.VOIDED)
    order.stray_minor = 500
    assert order.refund(600) == 600
    assert (order.stray_minor, order.partial_refund_minor, order.payment) == (
        0,
        10250,
        PaymentStatus.PARTIALLY_REFUNDED,
    )
    assert order.refund(None) == 10250
    assert (order.owed_minor, order.refunded_minor, order.payment) == (0, 10850, PaymentStatus.REFUNDED)


def test_a_paid_order_is_only_repriced_cheaper() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    before = copy.deepcopy(order)
    with pytest.raises(PaidPriceUp):
        order.change_items(MORE_ITEMS, 16000, 14400)
    with pytest.raises(PaidPriceUp):
        order.change_hotel(None, 0, 11500, 11500)
    assert order == before
    assert order.change_hotel(2, 20, 11500, 9200) == 1150
    assert (order.hotel_id, order.discount_percent, order.total_minor, order.partial_refund_minor) == (
        2,
        20,
        9200,
        1150,
    )


def test_a_ticket_without_a_code_is_not_reissued() -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    with pytest.raises(InvalidTransition):
        order.reissue_ticket("TKT-AAA-AAA-AAA")
    order.ticket_code = "TKT-CCC-CCC-CCC"
    assert order.reissue_ticket("TKT-AAA-AAA-AAA") == "TKT-CCC-CCC-CCC"
    assert order.ticket_code == "TKT-AAA-AAA-AAA"


@pytest.mark.parametrize("stars", [0, 6, -1, True, 2.5])
def test_a_rating_takes_one_to_five_stars_once(stars: Any) -> None:
    order = make_order(BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED)
    with pytest.raises(InvalidRating):
        order.rate(stars, NOW)
    order.rate(4, NOW)
    with pytest.raises(InvalidTransition):
        order.rate(5, NOW)
    assert (order.rating, order.rated_at) == (4, NOW)


def test_an_order_not_stored_has_no_stored_id() -> None:
    order = make_order()
    assert order.stored_id == 7
    order.id = None
    with pytest.raises(ValueError):
        _ = order.stored_id
