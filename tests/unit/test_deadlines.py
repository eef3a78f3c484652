"""Deadlines and reminders through the in-memory fakes: every job run twice does its work once.

The catalog runs on short durations (a session ten minutes ahead, reminders 5 and 1 minutes before it, 30 seconds
to confirm, 60 to pay) and the clock is moved by hand.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import InvalidRating, InvalidTransition, NotAllowed
from domain.model.catalog import BOOKING_CUTOFF, SessionStatus
from domain.model.messages import OutboxKind, OutboxMessage
from domain.model.orders import STARS, BookingStatus, Order, PaymentStatus
from domain.model.reminders import PARTICIPANTS, DueStatus, Reminder, SessionNotice
from domain.rules.problems import LOW_RATING_MAX
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.checkin import check_in_ticket
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.deadlines import (
    expire_overdue,
    nudge_silent_organisers,
    pay_grace,
    rate_order,
    remind_unpaid,
    schedule_order_reminders,
    send_due_reminders,
    send_participant_lists,
)
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
START = NOW + timedelta(minutes=10)
TOURIST = 42
STRANGER = 43
OPERATORS = -100500
ORGANISER_CHAT = 700001
INSTANT_ORGANISER_CHAT = 700002
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}
CONFIRM_WITHIN = timedelta(seconds=30)
PAY_WITHIN = timedelta(seconds=60)
OFFSETS = (timedelta(minutes=5), timedelta(minutes=1))


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    state = uow.state
    for organiser_id in (seeded.organiser_id, seeded.instant_organiser_id):
        state.organisers[organiser_id] = dataclasses.replace(
            state.organisers[organiser_id],
            confirm_within=CONFIRM_WITHIN,
            pay_within=PAY_WITHIN,
            hold=timedelta(seconds=60),
            reminders=OFFSETS,
        )
    for session_id in (seeded.session_id, seeded.instant_session_id):
        state.sessions[session_id] = dataclasses.replace(state.sessions[session_id], starts_at=START)
    add_user(state, TOURIST, language="ru")
    add_user(state, STRANGER)
    return uow, seeded


async def walk(uow: FakeUnitOfWork, seeded: Seeded, payments: bool = False, user_id: int = TOURIST) -> Order:
    """An instant booking: confirmed at once."""
    cmd = PlaceOrder(
        user_id=user_id, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=payments
    )
    return await place_order(uow, cmd, NOW)


async def cruise(uow: FakeUnitOfWork, seeded: Seeded) -> Order:
    """A booking the organiser must confirm."""
    cmd = PlaceOrder(user_id=TOURIST, session_id=seeded.session_id, quantities={"adult": 2}, answers=ANSWERS)
    return await place_order(uow, cmd, NOW)


def sent(uow: FakeUnitOfWork, kind: OutboxKind) -> list[OutboxMessage]:
    return [m for m in uow.state.outbox if m.kind is kind]


def order(uow: FakeUnitOfWork, order_id: int) -> Order:
    return uow.state.orders[order_id]


def reminders(uow: FakeUnitOfWork, order_id: int) -> dict[str, Reminder]:
    return {r.kind: r for r in uow.state.reminders if r.order_id == order_id}


def audit(uow: FakeUnitOfWork, action: str) -> list[Any]:
    return [e for e in uow.state.audit if e.action == action]


def seats_left(uow: FakeUnitOfWork, session_id: int) -> int:
    return uow.state.sessions[session_id].seats_left


# ---- scheduling -----------------------------------------------------------------------------------------------------


async def test_an_instant_booking_schedules_its_reminders_rating_and_participant_list(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    sid = seeded.instant_session_id
    assert {kind: r.due_at for kind, r in reminders(uow, placed.id).items()} == {
        f"before:300@{sid}": START - timedelta(minutes=5),
        f"before:60@{sid}": START - timedelta(minutes=1),
        f"rating@{sid}": START + timedelta(hours=2) + timedelta(hours=1),  # the walk lasts two hours
    }
    [notice] = uow.state.notices
    assert (notice.session_id, notice.kind, notice.due_at, notice.status) == (
        sid,
        PARTICIPANTS,
        START - timedelta(minutes=1),
        DueStatus.PENDING,
    )


async def test_a_booking_awaiting_the_organiser_schedules_nothing_until_confirmed(world) -> None:
    uow, seeded = world
    placed = await cruise(uow, seeded)
    assert uow.state.reminders == [] and uow.state.notices == []
    await answer_booking_request(uow, placed.id, ORGANISER_CHAT, OrganiserReply(Verdict.YES), "+", NOW, False)
    assert set(reminders(uow, placed.id)) == {
        f"before:300@{seeded.session_id}",
        f"before:60@{seeded.session_id}",
        f"rating@{seeded.session_id}",
    }
    assert len(uow.state.notices) == 1


async def test_offsets_already_past_get_no_reminder_and_scheduling_twice_adds_nothing(world) -> None:
    uow, seeded = world
    organisers = uow.state.organisers
    organisers[seeded.instant_organiser_id] = dataclasses.replace(
        organisers[seeded.instant_organiser_id], reminders=(timedelta(minutes=10), timedelta(minutes=1))
    )
    later = START - timedelta(minutes=6)  # the 10-minute reminder is already past
    cmd = PlaceOrder(user_id=TOURIST, session_id=seeded.instant_session_id, quantities={"adult": 1})
    placed = await place_order(uow, cmd, later)
    sid = seeded.instant_session_id
    assert set(reminders(uow, placed.id)) == {f"before:60@{sid}", f"rating@{sid}"}
    async with uow:
        await schedule_order_reminders(uow, order(uow, placed.id), later)
        await uow.commit()
    assert len(uow.state.reminders) == 2 and len(uow.state.notices) == 1


# ---- the silent organiser -------------------------------------------------------------------------------------------


async def test_a_silent_organiser_is_nudged_once(world) -> None:
    uow, seeded = world
    placed = await cruise(uow, seeded)
    assert (await nudge_silent_organisers(uow, NOW + CONFIRM_WITHIN - timedelta(seconds=1))).claimed == 0

    due = NOW + CONFIRM_WITHIN
    first = await nudge_silent_organisers(uow, due)
    second = await nudge_silent_organisers(uow, due + timedelta(seconds=5))
    assert (first.done, second.claimed) == ([placed.id], 0)
    [nudge] = sent(uow, OutboxKind.CONFIRM_NUDGE)
    assert (nudge.chat_id, nudge.payload) == (ORGANISER_CHAT, {"order_id": placed.id})
    assert order(uow, placed.id).confirm_nudged_at == due
    assert order(uow, placed.id).booking is BookingStatus.AWAITING_ORGANISER  # still an operator problem
    assert len(audit(uow, "order.organiser_nudged")) == 1


async def test_an_answered_request_is_not_nudged(world) -> None:
    uow, seeded = world
    placed = await cruise(uow, seeded)
    await answer_booking_request(
        uow, placed.id, ORGANISER_CHAT, OrganiserReply(Verdict.NO, "full"), "- full", NOW, False
    )
    assert (await nudge_silent_organisers(uow, NOW + timedelta(minutes=1))).claimed == 0
    assert sent(uow, OutboxKind.CONFIRM_NUDGE) == []


async def test_nobody_confirms_before_the_start_the_order_expires_and_frees_its_seats(world) -> None:
    uow, seeded = world
    placed = await cruise(uow, seeded)
    assert seats_left(uow, seeded.session_id) == 18
    assert (await expire_overdue(uow, START - BOOKING_CUTOFF - timedelta(seconds=1))).claimed == 0

    at = START - BOOKING_CUTOFF
    assert (await nudge_silent_organisers(uow, at)).done == []  # too late to nudge: it expires instead
    first = await expire_overdue(uow, at)
    second = await expire_overdue(uow, at + timedelta(seconds=1))
    assert (first.done, second.claimed) == ([placed.id], 0)
    expired = order(uow, placed.id)
    assert (expired.booking, expired.payment) == (BookingStatus.EXPIRED, PaymentStatus.NOT_DUE)
    assert seats_left(uow, seeded.session_id) == 20  # released exactly once
    [told] = sent(uow, OutboxKind.ORDER_EXPIRED)
    assert (told.chat_id, told.payload) == (TOURIST, {"order_id": placed.id, "reason": "unconfirmed"})
    [entry] = audit(uow, "order.expired")
    assert entry.before["booking"] == "awaiting_organiser" and entry.after["reason"] == "unconfirmed"


# ---- the unpaid order -----------------------------------------------------------------------------------------------


def test_the_grace_period_is_half_the_pay_window_at_most_an_hour() -> None:
    assert pay_grace(timedelta(minutes=30)) == timedelta(minutes=15)
    assert pay_grace(timedelta(seconds=60)) == timedelta(seconds=30)
    assert pay_grace(timedelta(hours=6)) == timedelta(hours=1)


async def test_unpaid_past_the_deadline_one_reminder_then_expiry_after_the_grace(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded, payments=True)
    pay_by = NOW + PAY_WITHIN
    assert placed.pay_by == pay_by
    assert (await remind_unpaid(uow, pay_by - timedelta(seconds=1))).claimed == 0

    first = await remind_unpaid(uow, pay_by)
    second = await remind_unpaid(uow, pay_by + timedelta(seconds=1))
    assert (first.done, second.claimed) == ([placed.id], 0)
    [reminder] = sent(uow, OutboxKind.PAY_REMINDER)
    assert (reminder.chat_id, reminder.payload) == (TOURIST, {"order_id": placed.id})
    reminded = order(uow, placed.id)
    hold_until = pay_by + timedelta(seconds=30)
    assert (reminded.pay_reminded_at, reminded.hold_until, reminded.pay_by) == (pay_by, hold_until, pay_by)
    assert reminded.booking is BookingStatus.CONFIRMED  # still held during the grace period

    assert (await expire_overdue(uow, hold_until - timedelta(seconds=1))).claimed == 0
    assert seats_left(uow, seeded.instant_session_id) == 8
    first = await expire_overdue(uow, hold_until)
    second = await expire_overdue(uow, hold_until + timedelta(seconds=1))
    assert (first.done, second.claimed) == ([placed.id], 0)
    expired = order(uow, placed.id)
    assert (expired.booking, expired.payment) == (BookingStatus.EXPIRED, PaymentStatus.NOT_DUE)
    assert seats_left(uow, seeded.instant_session_id) == 10
    [told] = sent(uow, OutboxKind.ORDER_EXPIRED)
    assert told.payload == {"order_id": placed.id, "reason": "unpaid"}
    # and no session reminder for the expired order
    await send_due_reminders(uow, START - timedelta(minutes=1))
    assert sent(uow, OutboxKind.SESSION_REMINDER) == []


async def test_the_reminder_comes_before_any_expiry_even_after_long_downtime(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded, payments=True)
    late = NOW + timedelta(minutes=5)  # far past pay_by + grace, before the start
    assert (await expire_overdue(uow, late)).claimed == 0  # not reminded yet: not expired either
    await remind_unpaid(uow, late)
    assert order(uow, placed.id).hold_until == late + timedelta(seconds=30)  # the grace counts from the reminder
    assert (await expire_overdue(uow, late)).claimed == 0


async def test_the_grace_never_runs_past_the_start(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded, payments=True)
    at = START - timedelta(seconds=10)
    await remind_unpaid(uow, at)
    assert order(uow, placed.id).hold_until == START


async def test_a_payment_during_the_grace_stops_the_expiry(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded, payments=True)
    await remind_unpaid(uow, NOW + PAY_WITHIN)
    order(uow, placed.id).payment = PaymentStatus.PAID
    assert (await expire_overdue(uow, NOW + timedelta(minutes=3))).claimed == 0
    assert order(uow, placed.id).booking is BookingStatus.CONFIRMED


# ---- reminders before the session -----------------------------------------------------------------------------------


async def test_each_reminder_goes_out_once_when_due(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    sid = seeded.instant_session_id
    assert (await send_due_reminders(uow, START - timedelta(minutes=5, seconds=1))).claimed == 0
    for at in (START - timedelta(minutes=5), START - timedelta(minutes=4)):
        await send_due_reminders(uow, at)
    for at in (START - timedelta(minutes=1), START - timedelta(seconds=30)):
        await send_due_reminders(uow, at)
    messages = sent(uow, OutboxKind.SESSION_REMINDER)
    assert [m.payload["kind"] for m in messages] == [f"before:300@{sid}", f"before:60@{sid}"]
    assert all(m.chat_id == TOURIST and m.payload["session_id"] == sid for m in messages)
    assert {r.status for r in reminders(uow, placed.id).values() if r.what == "before"} == {DueStatus.SENT}
    assert len(audit(uow, "reminder.sent")) == 2


async def test_after_downtime_only_the_latest_reminder_goes_out_before_the_start(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    sid = seeded.instant_session_id
    swept = await send_due_reminders(uow, START - timedelta(seconds=30))  # both were due while we were down
    assert len(swept.done) == 1 and len(swept.skipped) == 1
    [message] = sent(uow, OutboxKind.SESSION_REMINDER)
    assert message.payload["kind"] == f"before:60@{sid}"
    rows = reminders(uow, placed.id)
    assert (rows[f"before:300@{sid}"].status, rows[f"before:60@{sid}"].status) == (DueStatus.SKIPPED, DueStatus.SENT)
    [skipped] = audit(uow, "reminder.skipped")
    assert skipped.after == {"kind": f"before:300@{sid}", "reason": "superseded"}


async def test_after_downtime_past_the_start_reminders_are_skipped(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    swept = await send_due_reminders(uow, START + timedelta(minutes=1))
    assert len(swept.skipped) == 2 and swept.done == []
    assert sent(uow, OutboxKind.SESSION_REMINDER) == []
    assert {a.after["reason"] for a in audit(uow, "reminder.skipped")} == {"late"}
    assert (await send_due_reminders(uow, START + timedelta(minutes=2))).claimed == 0  # recorded, not retried
    assert reminders(uow, placed.id)[f"rating@{seeded.instant_session_id}"].status is DueStatus.PENDING


async def test_no_reminder_for_a_cancelled_order(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    await cancel_order(uow, TOURIST, placed.id, NOW)
    await send_due_reminders(uow, START + timedelta(hours=4))
    assert sent(uow, OutboxKind.SESSION_REMINDER) == [] and sent(uow, OutboxKind.RATING_REQUEST) == []
    assert all(r.status is DueStatus.SKIPPED for r in reminders(uow, placed.id).values())
    assert {a.after["reason"] for a in audit(uow, "reminder.skipped")} == {"cancelled"}


async def test_no_reminder_for_an_order_moved_to_another_session(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    other = dataclasses.replace(
        uow.state.sessions[seeded.instant_session_id], id=99, starts_at=START + timedelta(days=1)
    )
    uow.state.sessions[99] = other
    order(uow, placed.id).session_id = 99  # moved by an operator (a later feature), which re-schedules:
    async with uow:
        await schedule_order_reminders(uow, order(uow, placed.id), NOW)
        await uow.commit()
    await send_due_reminders(uow, START - timedelta(seconds=30))
    assert sent(uow, OutboxKind.SESSION_REMINDER) == []
    assert {a.after["reason"] for a in audit(uow, "reminder.skipped")} == {"moved"}
    await send_due_reminders(uow, other.starts_at - timedelta(seconds=30))
    [message] = sent(uow, OutboxKind.SESSION_REMINDER)
    assert message.payload["session_id"] == 99


async def test_no_reminder_for_a_cancelled_session(world) -> None:
    uow, seeded = world
    await walk(uow, seeded)
    sid = seeded.instant_session_id
    uow.state.sessions[sid] = dataclasses.replace(uow.state.sessions[sid], status=SessionStatus.CANCELLED)
    await send_due_reminders(uow, START - timedelta(seconds=30))
    await send_participant_lists(uow, START - timedelta(seconds=30))
    assert sent(uow, OutboxKind.SESSION_REMINDER) == [] and sent(uow, OutboxKind.PARTICIPANTS) == []


async def test_one_broken_item_does_not_block_the_others(world, monkeypatch) -> None:
    uow, seeded = world
    first = await walk(uow, seeded)
    second = await walk(uow, seeded, user_id=STRANGER)
    real_get = uow.orders.get

    async def broken_get(order_id: int) -> Order | None:
        if order_id == first.id:
            raise RuntimeError("a bug")
        return await real_get(order_id)

    monkeypatch.setattr(uow.orders, "get", broken_get)
    swept = await send_due_reminders(uow, START - timedelta(minutes=5))
    assert swept.failed and swept.done
    assert [m.chat_id for m in sent(uow, OutboxKind.SESSION_REMINDER)] == [STRANGER]
    assert reminders(uow, first.id)[f"before:300@{seeded.instant_session_id}"].status is DueStatus.PENDING
    monkeypatch.setattr(uow.orders, "get", real_get)
    await send_due_reminders(uow, START - timedelta(minutes=4))  # the next pass catches up
    assert sorted(m.chat_id for m in sent(uow, OutboxKind.SESSION_REMINDER)) == [TOURIST, STRANGER]
    assert second.id is not None


# ---- the participant list -------------------------------------------------------------------------------------------


async def test_the_organiser_gets_the_participant_list_once(world) -> None:
    uow, seeded = world
    await walk(uow, seeded)
    await walk(uow, seeded, user_id=STRANGER)
    due = START - timedelta(minutes=1)
    assert (await send_participant_lists(uow, due - timedelta(seconds=1))).claimed == 0
    first = await send_participant_lists(uow, due)
    second = await send_participant_lists(uow, due)
    assert len(first.done) == 1 and second.claimed == 0
    [message] = sent(uow, OutboxKind.PARTICIPANTS)
    assert (message.chat_id, message.payload) == (
        INSTANT_ORGANISER_CHAT,
        {"session_id": seeded.instant_session_id, "updated": False},
    )
    assert audit(uow, "session.participants_sent")[0].after["orders"] == 2


async def test_a_booking_after_the_list_went_out_sends_an_updated_list(world) -> None:
    uow, seeded = world
    organisers = uow.state.organisers
    organisers[seeded.instant_organiser_id] = dataclasses.replace(
        organisers[seeded.instant_organiser_id], reminders=(timedelta(minutes=8),)
    )
    await walk(uow, seeded)
    due = START - timedelta(minutes=8)
    await send_participant_lists(uow, due)
    later = due + timedelta(minutes=1)  # still bookable
    cmd = PlaceOrder(user_id=STRANGER, session_id=seeded.instant_session_id, quantities={"adult": 1})
    await place_order(uow, cmd, later)
    await send_participant_lists(uow, later)
    await send_participant_lists(uow, later)
    assert [m.payload["updated"] for m in sent(uow, OutboxKind.PARTICIPANTS)] == [False, True]


async def test_no_list_for_a_session_nobody_is_booked_on(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    await cancel_order(uow, TOURIST, placed.id, NOW)
    swept = await send_participant_lists(uow, START - timedelta(minutes=1))
    assert len(swept.skipped) == 1 and sent(uow, OutboxKind.PARTICIPANTS) == []


# ---- the rating -----------------------------------------------------------------------------------------------------


async def test_the_rating_request_goes_out_after_the_session_once(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    await check_in_ticket(uow, placed.stored_id, INSTANT_ORGANISER_CHAT, None, START)  # only attended tourists
    due = START + timedelta(hours=3)
    await send_due_reminders(uow, due)
    await send_due_reminders(uow, due + timedelta(minutes=1))
    [request] = sent(uow, OutboxKind.RATING_REQUEST)
    assert (request.chat_id, request.payload) == (TOURIST, {"order_id": placed.id})


async def test_a_rating_request_long_after_downtime_is_skipped(world) -> None:
    uow, seeded = world
    await walk(uow, seeded)
    await send_due_reminders(uow, START + timedelta(days=30))
    assert sent(uow, OutboxKind.RATING_REQUEST) == []


async def test_rating_once(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    after = START + timedelta(hours=3)
    rated = await rate_order(uow, TOURIST, placed.id, 2, after)
    assert (rated.stars, rated.new) == (2, True)
    again = await rate_order(uow, TOURIST, placed.id, 5, after)
    assert (again.stars, again.new) == (2, False)
    stored = order(uow, placed.id)
    assert (stored.rating, stored.rated_at) == (2, after)
    assert [m for m in uow.state.outbox if m.chat_id < 0] == []  # no operator message: the desk derives the problem
    assert len(audit(uow, "order.rated")) == 1
    # a rating request due now is moot
    await send_due_reminders(uow, after)
    assert sent(uow, OutboxKind.RATING_REQUEST) == []


@pytest.mark.parametrize("stars", [0, 6, -1, 100])
async def test_stars_outside_one_to_five_are_refused(world, stars: int) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    with pytest.raises(InvalidRating):
        await rate_order(uow, TOURIST, placed.id, stars, START + timedelta(hours=3))
    assert order(uow, placed.id).rating is None


async def test_only_the_own_order_after_its_session_can_be_rated(world) -> None:
    uow, seeded = world
    placed = await walk(uow, seeded)
    with pytest.raises(NotAllowed):
        await rate_order(uow, STRANGER, placed.id, 5, START + timedelta(hours=3))
    with pytest.raises(NotAllowed):
        await rate_order(uow, TOURIST, 999, 5, START + timedelta(hours=3))
    with pytest.raises(InvalidTransition):
        await rate_order(uow, TOURIST, placed.id, 5, START - timedelta(minutes=1))
    await cancel_order(uow, TOURIST, placed.id, NOW)
    with pytest.raises(InvalidTransition):
        await rate_order(uow, TOURIST, placed.id, 5, START + timedelta(hours=3))
    assert order(uow, placed.id).rating is None


def test_the_jobs_module_constants() -> None:
    assert LOW_RATING_MAX == 2 and list(STARS) == [1, 2, 3, 4, 5]


def test_a_row_not_stored_has_no_stored_id() -> None:
    """The jobs close reminders and notices by the id storage gave them; one never stored has none to give."""
    assert Reminder(7, "rating@1", NOW, id=5).stored_id == 5
    assert SessionNotice(1, PARTICIPANTS, NOW, id=6).stored_id == 6
    with pytest.raises(ValueError):
        _ = Reminder(7, "rating@1", NOW).stored_id
    with pytest.raises(ValueError):
        _ = SessionNotice(1, PARTICIPANTS, NOW).stored_id
