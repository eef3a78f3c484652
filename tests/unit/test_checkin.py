"""The day itself on fakes: check-in (who may, once, voided tickets), the attendance job (attended or no-show, once,
only after the session), the rating request only for attended tourists, "running late" once on the day, "at the
meeting point" once to each confirmed tourist."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidTransition, NotAllowed, NotFound
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.checkin import (
    announce_at_meeting_point,
    check_in_ticket,
    look_up_ticket,
    report_running_late,
    settle_attendances,
)
from domain.use_cases.deadlines import send_due_reminders
from domain.use_cases.payments import record_payment
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=3)  # the walk: two hours long, today in Tallinn
LASTS = timedelta(hours=2)
ORGANISER = 700002  # the instant organiser's chat (the walk's)
OTHER_ORGANISER = 700001
OPERATOR = "operator:4001"
ANNA, BORIS = 42, 43


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    state = uow.state
    state.sessions[seeded.instant_session_id] = dataclasses.replace(
        state.sessions[seeded.instant_session_id], starts_at=START
    )
    add_user(state, ANNA, language="ru")
    add_user(state, BORIS, language="de")
    return uow, seeded


async def paid_walk(uow: FakeUnitOfWork, seeded: Seeded, user_id: int) -> Order:
    cmd = PlaceOrder(
        user_id=user_id, session_id=seeded.instant_session_id, quantities={"adult": 1}, payments_enabled=True
    )
    order = await place_order(uow, cmd, NOW)
    await record_payment(uow, order.stored_id, user_id, f"c-{user_id}", f"p-{user_id}", order.total_minor, "EUR", NOW)
    return uow.state.orders[order.stored_id]


def audit(uow: FakeUnitOfWork, action: str) -> list:
    return [e for e in uow.state.audit if e.action == action]


def sent(uow: FakeUnitOfWork, kind: OutboxKind) -> list:
    return [m for m in uow.state.outbox if m.kind is kind]


async def test_only_the_organiser_or_an_operator_sees_the_ticket(world) -> None:
    uow, seeded = world
    order = await paid_walk(uow, seeded, ANNA)
    assert order.ticket_code is not None
    stranger = await look_up_ticket(uow, order.ticket_code, OTHER_ORGANISER, None)
    assert stranger.ticket is None and stranger.event.id == seeded.instant_event_id
    assert (await look_up_ticket(uow, order.ticket_code, ORGANISER, None)).ticket is not None
    assert (await look_up_ticket(uow, order.ticket_code, ANNA, OPERATOR)).ticket is not None
    with pytest.raises(NotFound):
        await look_up_ticket(uow, "TKT-AAA-AAA-AAA", ORGANISER, None)


async def test_check_in_once_audited_refused_to_others(world) -> None:
    uow, seeded = world
    order = await paid_walk(uow, seeded, ANNA)
    with pytest.raises(NotAllowed):
        await check_in_ticket(uow, order.stored_id, OTHER_ORGANISER, None, NOW)
    assert uow.state.order_days == {}

    first = await check_in_ticket(uow, order.stored_id, ORGANISER, None, NOW)
    again = await check_in_ticket(uow, order.stored_id, ORGANISER, OPERATOR, NOW + timedelta(minutes=5))
    assert first.new and not again.new
    assert again.ticket.day is not None and again.ticket.day.checked_in_at == NOW  # the first one counts
    assert (first.ticket.present, first.ticket.expected) == (1, 1)
    [entry] = audit(uow, "order.checked_in")
    assert entry.actor == f"organiser:{ORGANISER}" and entry.order_id == order.id


async def test_a_voided_ticket_is_not_checked_in(world) -> None:
    uow, seeded = world
    order = await paid_walk(uow, seeded, ANNA)
    await cancel_order(uow, ANNA, order.stored_id, NOW)
    with pytest.raises(InvalidTransition) as refused:
        await check_in_ticket(uow, order.stored_id, ORGANISER, None, NOW)
    assert refused.value.data["voided"] is True
    assert uow.state.order_days == {}


async def test_the_job_settles_attendance_after_the_session_once(world) -> None:
    uow, seeded = world
    anna = await paid_walk(uow, seeded, ANNA)
    boris = await paid_walk(uow, seeded, BORIS)
    await check_in_ticket(uow, anna.stored_id, ORGANISER, None, START)

    during = await settle_attendances(uow, START + LASTS - timedelta(minutes=1))
    assert during.done == [] and sorted(during.left) == sorted([anna.stored_id, boris.stored_id])
    assert uow.state.orders[anna.stored_id].booking is BookingStatus.CONFIRMED

    after = START + LASTS
    swept = await settle_attendances(uow, after)
    assert sorted(swept.done) == sorted([anna.stored_id, boris.stored_id])
    assert uow.state.orders[anna.stored_id].booking is BookingStatus.ATTENDED
    assert uow.state.orders[boris.stored_id].booking is BookingStatus.NO_SHOW
    assert [e.order_id for e in audit(uow, "order.attended")] == [anna.id]
    assert [e.order_id for e in audit(uow, "order.no_show")] == [boris.id]

    again = await settle_attendances(uow, after + timedelta(minutes=1))
    assert again.claimed == 0  # idempotent: nothing left to claim


async def test_only_attended_tourists_get_the_rating_request(world) -> None:
    """The rating request settles the order itself when the attendance job has not run yet."""
    uow, seeded = world
    anna = await paid_walk(uow, seeded, ANNA)
    boris = await paid_walk(uow, seeded, BORIS)
    await check_in_ticket(uow, anna.stored_id, ORGANISER, None, START)
    await send_due_reminders(uow, START + LASTS + timedelta(hours=1))
    assert [m.chat_id for m in sent(uow, OutboxKind.RATING_REQUEST)] == [ANNA]
    assert uow.state.orders[boris.stored_id].booking is BookingStatus.NO_SHOW
    skipped = [e.after for e in audit(uow, "reminder.skipped") if e.order_id == boris.id]
    assert {"kind": f"rating@{seeded.instant_session_id}", "reason": "no_show"} in skipped


async def test_running_late_once_on_the_day_by_the_tourist_only(world) -> None:
    uow, seeded = world
    order = await paid_walk(uow, seeded, ANNA)
    with pytest.raises(NotAllowed):
        await report_running_late(uow, BORIS, order.stored_id, NOW)
    with pytest.raises(InvalidTransition) as refused:
        await report_running_late(uow, ANNA, order.stored_id, START - timedelta(days=1))
    assert refused.value.data["reason"] == "not_today"
    with pytest.raises(InvalidTransition):
        await report_running_late(uow, ANNA, order.stored_id, START + LASTS)  # over
    assert (await report_running_late(uow, ANNA, order.stored_id, START - timedelta(minutes=10))).new
    assert not (await report_running_late(uow, ANNA, order.stored_id, START - timedelta(minutes=5))).new
    [told] = sent(uow, OutboxKind.RUNNING_LATE)
    assert told.chat_id == ORGANISER and told.payload["order_id"] == order.id
    assert len(audit(uow, "order.running_late")) == 1


async def test_at_the_meeting_point_once_to_each_confirmed_tourist(world) -> None:
    uow, seeded = world
    anna = await paid_walk(uow, seeded, ANNA)
    boris = await paid_walk(uow, seeded, BORIS)
    await cancel_order(uow, BORIS, boris.stored_id, NOW)
    session_id = seeded.instant_session_id
    with pytest.raises(NotAllowed):
        await announce_at_meeting_point(uow, session_id, OTHER_ORGANISER, None, START)
    with pytest.raises(InvalidTransition):
        await announce_at_meeting_point(uow, session_id, ORGANISER, None, START - timedelta(hours=3))
    first = await announce_at_meeting_point(uow, session_id, ORGANISER, None, START - timedelta(minutes=15))
    second = await announce_at_meeting_point(uow, session_id, ORGANISER, OPERATOR, START - timedelta(minutes=10))
    assert (first.new, first.told) == (True, 1) and (second.new, second.told) == (False, 0)
    assert [(m.chat_id, m.payload["order_id"]) for m in sent(uow, OutboxKind.AT_MEETING_POINT)] == [(ANNA, anna.id)]
    [entry] = audit(uow, "session.at_meeting_point")
    assert entry.actor == f"organiser:{ORGANISER}" and entry.after == {"session_id": session_id, "told": 1}
