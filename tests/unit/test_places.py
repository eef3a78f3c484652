"""What places add to an order's messages (domain/use_cases/places.py), on the fakes: the map pin only for an event
on the map, the calendar file always with the ticket, each once, and nothing for a tourist who is gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.model.messages import OutboxKind
from domain.model.orders import Order
from domain.model.places import EventPlace, Point
from domain.use_cases.places import tell_reminder_venue, tell_ticket_extras
from tests.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def order(user_id: int | None = 1001) -> Order:
    placed = Order(
        code="HCMKKC",
        user_id=user_id,
        session_id=3,
        event_id=2,
        currency="EUR",
        items=[],
        subtotal_minor=3000,
        discount_percent=0,
        total_minor=3000,
        created_at=NOW,
        hold_until=NOW,
        language="en",
    )
    placed.id = 7
    return placed


async def kinds(uow: FakeUnitOfWork, *steps) -> list[tuple[OutboxKind, str]]:
    async with uow:
        for step in steps:
            await step(uow)
        await uow.commit()
    return [(m.kind, m.dedup_key) for m in uow.state.outbox]


async def test_an_event_on_the_map_gets_the_pin_then_the_calendar_once() -> None:
    uow = FakeUnitOfWork()
    uow.places.events[2] = EventPlace(2, Point(59.4, 24.7), "Sadama 25", ())
    sent = await kinds(
        uow, lambda u: tell_ticket_extras(u, order(), NOW), lambda u: tell_ticket_extras(u, order(), NOW)
    )
    assert [k for k, _ in sent] == [OutboxKind.TICKET_VENUE, OutboxKind.TICKET_CALENDAR]  # asked twice, kept once


async def test_an_event_without_coordinates_gets_only_the_calendar() -> None:
    for place in (None, EventPlace(2, None, "Sadama 25", ("https://example.com/a.jpg",))):
        uow = FakeUnitOfWork()
        if place is not None:
            uow.places.events[2] = place
        sent = await kinds(uow, lambda u: tell_ticket_extras(u, order(), NOW))
        assert [k for k, _ in sent] == [OutboxKind.TICKET_CALENDAR]
        sent = await kinds(uow, lambda u: tell_reminder_venue(u, order(), 3, "before:7200", NOW))
        assert [k for k, _ in sent] == [OutboxKind.TICKET_CALENDAR]  # no pin with the reminder either


async def test_a_pin_per_reminder_and_none_for_a_forgotten_tourist() -> None:
    uow = FakeUnitOfWork()
    uow.places.events[2] = EventPlace(2, Point(59.4, 24.7))
    sent = await kinds(
        uow,
        lambda u: tell_reminder_venue(u, order(), 3, "before:86400", NOW),
        lambda u: tell_reminder_venue(u, order(), 3, "before:7200", NOW),
        lambda u: tell_reminder_venue(u, order(user_id=None), 3, "before:3600", NOW),
        lambda u: tell_ticket_extras(u, replace(order(), user_id=None), NOW),
    )
    assert [k for k, _ in sent] == [OutboxKind.REMINDER_VENUE] * 2
    assert sent[0][1] != sent[1][1]
    assert uow.state.outbox[0].payload == {"order_id": 7, "session_id": 3}
