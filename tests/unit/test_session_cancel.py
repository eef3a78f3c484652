"""Cancelling a whole session (domain/session_cancel.py) and the small desk-tool use cases (domain/desk_tools.py),
on the in-memory fakes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import (
    BadFindQuery,
    NotFound,
    SessionAlreadyCancelled,
    SessionAlreadyStarted,
    SessionNotBookable,
    TouristUnreachable,
)
from domain.model.catalog import SessionStatus
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus, TicketStatus
from domain.model.reminders import DueStatus
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.desk_tools import (
    FindKind,
    classify_find_query,
    reveal_contacts,
    suggest_session,
)
from domain.use_cases.payments import record_payment
from domain.use_cases.session_cancel import (
    REASON_MAX,
    cancel_session,
    preview_session_cancel,
)
from domain.use_cases.stats import DayFacts, day_stats, day_window, median_duration
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import ORGANISER_CHAT_ID, Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ACTOR = "operator:4001"
ANSWERS = {"pickup": "Hotel Viru", "lunch": "fish"}


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    for user_id, language in ((11, "en"), (12, "ru"), (13, "de"), (14, "et")):
        add_user(uow.state, user_id, language=language)
    return uow, seeded


async def _book(
    uow: FakeUnitOfWork, seeded: Seeded, user_id: int, seats: int = 2, session_id: int | None = None
) -> Order:
    return await place_order(
        uow,
        PlaceOrder(
            user_id=user_id,
            session_id=session_id or seeded.session_id,
            quantities={"adult": seats},
            answers=ANSWERS,
            payments_enabled=True,
        ),
        NOW,
    )


async def _confirm(uow: FakeUnitOfWork, order_id: int) -> None:
    await answer_booking_request(uow, order_id, ORGANISER_CHAT_ID, OrganiserReply(Verdict.YES), "+", NOW, True)


async def _pay(uow: FakeUnitOfWork, order_id: int) -> None:
    order = uow.state.orders[order_id]
    await record_payment(
        uow, order_id, order.user_id, f"charge-{order_id}", f"p-{order_id}", order.total_minor, order.currency, NOW
    )


async def _orders(uow: FakeUnitOfWork, seeded: Seeded) -> dict[str, int]:
    """One order of each kind on the main session: awaiting the organiser, confirmed unpaid, confirmed paid, and one
    already cancelled by its tourist (not active: left alone)."""
    waiting = await _book(uow, seeded, 11)
    unpaid = await _book(uow, seeded, 12)
    await _confirm(uow, unpaid.id)
    paid = await _book(uow, seeded, 13, seats=3)
    await _confirm(uow, paid.id)
    await _pay(uow, paid.id)
    gone = await _book(uow, seeded, 14)
    uow.state.orders[gone.id].booking = BookingStatus.CANCELLED
    return {"waiting": waiting.id, "unpaid": unpaid.id, "paid": paid.id, "gone": gone.id}


async def test_preview_counts_and_changes_nothing(world) -> None:
    uow, seeded = world
    await _orders(uow, seeded)
    before = copy.deepcopy(vars(uow.state))
    preview = await preview_session_cancel(uow, seeded.session_id, NOW)
    assert (preview.orders, preview.refund_due, preview.seats) == (3, 1, 7)
    assert vars(uow.state) == before


async def test_cancel_ends_every_active_order_tells_everyone_and_audits(world) -> None:
    uow, seeded = world
    ids = await _orders(uow, seeded)
    assert uow.state.orders[ids["paid"]].ticket is TicketStatus.ISSUED
    seats_before = uow.state.sessions[seeded.session_id].seats_left
    outbox_before = len(uow.state.outbox)

    done = await cancel_session(uow, seeded.session_id, ACTOR, "  storm\nwarning ", NOW)

    assert done.reason == "storm warning" and done.refund_due == 1 and len(done.orders) == 3
    session = uow.state.sessions[seeded.session_id]
    assert session.status is SessionStatus.CANCELLED
    assert session.seats_left == seats_before  # not put back on sale
    orders = uow.state.orders
    assert {orders[ids[k]].booking for k in ("waiting", "unpaid", "paid")} == {BookingStatus.CANCELLED}
    assert orders[ids["paid"]].payment is PaymentStatus.REFUND_DUE
    assert orders[ids["paid"]].ticket is TicketStatus.VOIDED
    assert orders[ids["unpaid"]].payment is PaymentStatus.NOT_DUE
    assert orders[ids["waiting"]].payment is PaymentStatus.NOT_DUE
    assert orders[ids["gone"]].cancelled_at is None  # was not active: untouched
    # reminders of the ended orders are closed
    assert [
        r for r in uow.state.reminders if r.status is DueStatus.PENDING and r.order_id in {ids["unpaid"], ids["paid"]}
    ] == []
    new = uow.state.outbox[outbox_before:]
    told = sorted((m.chat_id, m.payload["order_id"]) for m in new if m.kind is OutboxKind.SESSION_CANCELLED)
    assert told == sorted((orders[ids[k]].user_id, ids[k]) for k in ("waiting", "unpaid", "paid"))
    assert all(m.payload["reason"] == "storm warning" for m in new if m.kind is OutboxKind.SESSION_CANCELLED)
    [organiser] = [m for m in new if m.kind is OutboxKind.SESSION_CANCELLED_ORGANISER]
    assert organiser.chat_id == ORGANISER_CHAT_ID
    assert organiser.payload == {"session_id": seeded.session_id, "orders": 3, "reason": "storm warning"}
    audit = [a for a in uow.state.audit if a.actor == ACTOR]
    assert sorted(a.order_id for a in audit if a.action == "order.cancelled_with_session") == sorted(
        ids[k] for k in ("waiting", "unpaid", "paid")
    )
    [whole] = [a for a in audit if a.action == "session.cancelled"]
    assert whole.after["status"] == "cancelled" and whole.after["refund_due"] == 1
    paid_entry = next(a for a in audit if a.order_id == ids["paid"])
    assert paid_entry.before["payment"] == "paid" and paid_entry.after["payment"] == "refund_due"


async def test_the_session_takes_no_new_bookings_after(world) -> None:
    uow, seeded = world
    await cancel_session(uow, seeded.session_id, ACTOR, None, NOW)
    with pytest.raises(SessionNotBookable):
        await _book(uow, seeded, 11)


@pytest.mark.parametrize("case", ["cancelled", "past", "unknown", "twice"])
async def test_refusals_change_nothing(world, case) -> None:
    uow, seeded = world
    await _orders(uow, seeded)
    session_id = {
        "cancelled": seeded.cancelled_session_id,
        "past": seeded.past_session_id,
        "unknown": 999,
        "twice": seeded.session_id,
    }[case]
    if case == "twice":
        await cancel_session(uow, session_id, ACTOR, "first", NOW)
    before = copy.deepcopy(vars(uow.state))
    expected = {
        "cancelled": SessionAlreadyCancelled,
        "past": SessionAlreadyStarted,
        "unknown": NotFound,
        "twice": SessionAlreadyCancelled,
    }[case]
    with pytest.raises(expected):
        await cancel_session(uow, session_id, ACTOR, "again", NOW)
    with pytest.raises(expected):
        await preview_session_cancel(uow, session_id, NOW)
    assert vars(uow.state) == before


async def test_an_empty_session_is_cancelled_with_one_audit_entry(world) -> None:
    uow, seeded = world
    done = await cancel_session(uow, seeded.small_session_id, ACTOR, "x" * (REASON_MAX + 50), NOW)
    assert done.orders == [] and len(done.reason) == REASON_MAX
    assert [a.action for a in uow.state.audit] == ["session.cancelled"]
    assert [m.kind for m in uow.state.outbox] == [OutboxKind.SESSION_CANCELLED_ORGANISER]


# ---- /find queries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("+372 5555 0001", FindKind.PHONE, "+37255550001"),
        ("3725555-0001", FindKind.PHONE, "+37255550001"),
        ("@Anna_Maria", FindKind.USERNAME, "Anna_Maria"),
        ("tkt-7km-4xp-9ra", FindKind.TICKET, "TKT-7KM-4XP-9RA"),
        ("k7m-a4x", FindKind.ORDER, "K7MA4X"),
    ],
)
def test_find_queries_are_normalized(text: str, kind: FindKind, value: str) -> None:
    query = classify_find_query(text)
    assert (query.kind, query.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("@ann", "too_short"),
        ("@", "too_short"),
        ("+372", "too_short"),
        ("55", "too_short"),
        ("+999 1234 5678", "invalid_phone"),
        ("K7M", "too_short"),
        ("TKT-7KM", "unrecognised"),
        ("anna maria", "unrecognised"),
        ("%", "too_short"),
        ("@anna%", "unrecognised"),
        ("@anna.maria", "unrecognised"),
    ],
)
def test_partial_or_odd_queries_are_refused(text: str, reason: str) -> None:
    with pytest.raises(BadFindQuery) as caught:
        classify_find_query(text)
    assert caught.value.data["reason"] == reason


async def test_reveal_is_audited_without_the_contacts(world) -> None:
    uow, _seeded = world
    add_user(uow.state, 20, phone="+37255550001", username="anna_maria")
    user = await reveal_contacts(uow, 20, ACTOR, NOW)
    assert user.phone == "+37255550001"
    [entry] = uow.state.audit
    assert (entry.action, entry.actor, entry.after["user_id"]) == ("contact.revealed", ACTOR, 20)
    assert "+37255550001" not in str(entry.after)
    with pytest.raises(NotFound):
        await reveal_contacts(uow, 999, ACTOR, NOW)


async def test_suggest_session_writes_one_row_per_minute_and_refuses_the_unbookable(world) -> None:
    uow, seeded = world
    await suggest_session(uow, 12, seeded.session_id, ACTOR, NOW)
    await suggest_session(uow, 12, seeded.session_id, ACTOR, NOW)  # a double tap
    [row] = [m for m in uow.state.outbox if m.kind is OutboxKind.EVENT_SUGGESTION]
    assert row.chat_id == 12 and row.payload == {"session_id": seeded.session_id, "event_id": seeded.event_id}
    assert [a.action for a in uow.state.audit].count("session.suggested") == 2
    for session_id in (seeded.past_session_id, seeded.cancelled_session_id):
        with pytest.raises(SessionNotBookable):
            await suggest_session(uow, 12, session_id, ACTOR, NOW)
    with pytest.raises(NotFound):
        await suggest_session(uow, 999, seeded.session_id, ACTOR, NOW)
    add_user(uow.state, 30, blocked_bot=True)
    with pytest.raises(TouristUnreachable):
        await suggest_session(uow, 30, seeded.session_id, ACTOR, NOW)


# ---- /stats ----------------------------------------------------------------------------------------------------


def test_day_stats_and_the_median() -> None:
    assert median_duration([]) is None
    assert median_duration([timedelta(minutes=m) for m in (1, 9, 4)]) == timedelta(minutes=4)
    assert median_duration([timedelta(minutes=m) for m in (1, 2, 4, 10)]) == timedelta(minutes=3)
    day, start, end = day_window(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Europe/Tallinn")
    assert day.isoformat() == "2026-12-01"  # already tomorrow in Tallinn
    assert (start, end) == (datetime(2026, 11, 30, 22, 0, tzinfo=UTC), datetime(2026, 12, 1, 22, 0, tzinfo=UTC))
    stats = day_stats(
        day,
        "Europe/Tallinn",
        DayFacts(
            placed=5,
            paid=2,
            revenue={"EUR": 9000, "USD": 0},
            ended={"cancelled": 1, "expired": 2},
            problems_opened=3,
            resolve_times=[timedelta(minutes=10), timedelta(minutes=30)],
            open_problems=1,
        ),
    )
    assert stats.revenue == [("EUR", 9000)]
    assert (stats.cancelled, stats.declined, stats.expired) == (1, 0, 2)
    assert (stats.problems_resolved, stats.median_resolve) == (2, timedelta(minutes=20))
