"""The one read model of a session and of an order with their surroundings (handlers/read_models.py), on fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.use_cases.booking import PlaceOrder, place_order
from handlers.read_models import load_order, load_session, read_order, read_session
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, TOURIST, language="ru", hotel_id=seeded.hotel_id)
    return uow, seeded


async def _order(uow: FakeUnitOfWork, seeded: Seeded) -> int:
    command = PlaceOrder(
        user_id=TOURIST,
        session_id=seeded.session_id,
        quantities={"adult": 1},
        answers={"pickup": "Hotel Telegraaf", "lunch": "fish"},
    )
    return (await place_order(uow, command, NOW)).stored_id


async def test_a_session_comes_with_its_event_region_and_organiser(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    view = await load_session(uow, seeded.session_id)

    assert view is not None
    assert (view.session.id, view.event.id) == (seeded.session_id, seeded.event_id)
    assert (view.region.id, view.organiser.id) == (seeded.region_id, seeded.organiser_id)
    assert not uow.committed  # reading changes nothing


async def test_a_missing_session_or_order_reads_as_none(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, _seeded = world
    assert await load_session(uow, 999) is None
    assert await load_order(uow, 999) is None


async def test_an_order_comes_with_its_surroundings_and_no_history_unless_asked(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    uow, seeded = world
    order_id = await _order(uow, seeded)
    view = await load_order(uow, order_id)

    assert view is not None
    assert view.id == order_id
    assert (view.session.id, view.event.id, view.region.id) == (seeded.session_id, seeded.event_id, seeded.region_id)
    assert view.organiser.id == seeded.organiser_id
    assert view.hotel is not None and view.hotel.id == seeded.hotel_id
    assert view.user is not None and view.user.id == TOURIST
    assert (view.payments, view.history) == ((), ())
    assert view.tourist_language == "ru"
    assert view.organiser_language == view.organiser.language


async def test_payments_and_history_are_read_on_request_in_the_callers_transaction(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    uow, seeded = world
    order_id = await _order(uow, seeded)
    async with uow:
        view = await read_order(uow, order_id, payments=True, history=10)
        around = await read_session(uow, seeded.session_id)

    assert view is not None and around is not None
    assert [entry.action for entry in view.history] == ["order.placed"]
    assert view.payments == ()  # nothing paid yet
    assert around.session == view.session


async def test_the_tourist_who_deleted_their_data_reads_in_the_language_they_booked_in(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    uow, seeded = world
    order_id = await _order(uow, seeded)
    del uow.state.users[TOURIST]

    view = await load_order(uow, order_id)
    assert view is not None and view.user is None
    assert view.tourist_language == "ru"
