"""The fakes of ``tests/fakes.py`` against the ports of ``domain/ports.py``: every port has a fake, every member of a
port exists on its fake with the same signature (parameters, defaults, types, async or not), and the fake unit of
work carries a fake of every repository the port declares. A port that grows a method fails here until its fake
(and its SQL implementation, which mypy checks through ``SqlUnitOfWork``) has it too."""

from __future__ import annotations

import inspect
import typing
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

import domain.model.desk
import domain.model.questions
import domain.ports
from domain.discount_ports import DiscountCodeRepository
from domain.favourite_ports import FavouriteRepository
from domain.model.desk import DeskSettings
from domain.model.messages import OutboxKind
from domain.offer_ports import OfferRepository
from domain.place_ports import PlaceRepository
from domain.points_ports import PointsRepository
from domain.ports import (
    AuditRepository,
    CatalogRepository,
    CheckinRepository,
    Clock,
    DeskRepository,
    OrderRepository,
    OrganiserCatalogRepository,
    OrganiserSettingsRepository,
    OutboxRepository,
    PaymentRepository,
    QuestionRepository,
    ReminderRepository,
    SeatRepository,
    UnitOfWork,
    UserRepository,
    WaitingRoomRepository,
    WaitlistRepository,
)
from domain.use_cases.booking import PlaceOrder, place_order
from scheduler.jobs import DeskJobs
from tests.fake_checkins import FakeCheckinRepository
from tests.fake_discount_codes import FakeDiscountCodeRepository
from tests.fake_favourites import FakeFavouriteRepository
from tests.fake_offers import FakeOfferRepository
from tests.fake_organiser_catalog import FakeOrganiserCatalogRepository
from tests.fake_organiser_settings import FakeOrganiserSettingsRepository
from tests.fake_places import FakePlaceRepository
from tests.fake_points import FakePointsRepository
from tests.fake_rooms import FakeWaitingRoomRepository
from tests.fakes import (
    FakeAuditRepository,
    FakeCatalogRepository,
    FakeDeskRepository,
    FakeOrderRepository,
    FakeOutboxRepository,
    FakePaymentRepository,
    FakeQuestionRepository,
    FakeReminderRepository,
    FakeSeatRepository,
    FakeUnitOfWork,
    FakeUserRepository,
    FakeWaitlistRepository,
    FixedClock,
    add_user,
    fake_world,
)

FAKES: dict[type, type] = {
    Clock: FixedClock,
    UserRepository: FakeUserRepository,
    CatalogRepository: FakeCatalogRepository,
    SeatRepository: FakeSeatRepository,
    OrderRepository: FakeOrderRepository,
    OutboxRepository: FakeOutboxRepository,
    PaymentRepository: FakePaymentRepository,
    ReminderRepository: FakeReminderRepository,
    AuditRepository: FakeAuditRepository,
    QuestionRepository: FakeQuestionRepository,
    DeskRepository: FakeDeskRepository,
    WaitingRoomRepository: FakeWaitingRoomRepository,
    WaitlistRepository: FakeWaitlistRepository,
    CheckinRepository: FakeCheckinRepository,
    OrganiserCatalogRepository: FakeOrganiserCatalogRepository,
    OrganiserSettingsRepository: FakeOrganiserSettingsRepository,
    FavouriteRepository: FakeFavouriteRepository,
    DiscountCodeRepository: FakeDiscountCodeRepository,
    OfferRepository: FakeOfferRepository,
    PointsRepository: FakePointsRepository,
    PlaceRepository: FakePlaceRepository,
    UnitOfWork: FakeUnitOfWork,
}


ANSWERS = {"pickup": "Viru", "lunch": "fish"}


class _Empty(Protocol):
    """What every Protocol class holds whatever it declares."""


_PROTOCOL_NOISE = {*vars(_Empty), "__annotations__"}

# Names the ports import only for type checking (domain.ports avoids an import cycle with them).
_TYPES = {**vars(domain.model.desk), **vars(domain.model.questions), **vars(domain.ports)}


def ports() -> list[type]:
    """Every Protocol class domain/ports.py defines, and the ports it takes from ``domain/*_ports.py`` modules."""
    return [
        value
        for value in vars(domain.ports).values()
        if isinstance(value, type)
        and (value.__module__ == domain.ports.__name__ or value.__module__.endswith("_ports"))
        and getattr(value, "_is_protocol", False)
    ]


def members(port: type) -> dict[str, Any]:
    """The port's methods (by name) and attributes (name -> None)."""
    found: dict[str, Any] = dict.fromkeys(vars(port).get("__annotations__", {}))
    found.update({name: value for name, value in vars(port).items() if name not in _PROTOCOL_NOISE})
    return found


def hints(function: Any) -> dict[str, Any]:
    return typing.get_type_hints(function, globalns={**vars(inspect.getmodule(function)), **_TYPES})


def signature_problems(port_method: Any, fake_method: Any) -> list[str]:
    problems = []
    if inspect.iscoroutinefunction(port_method) != inspect.iscoroutinefunction(fake_method):
        problems.append("async on one side only")
    expected = list(inspect.signature(port_method).parameters.values())
    actual = list(inspect.signature(fake_method).parameters.values())
    for want, got in zip(expected, actual, strict=False):
        if (want.name, want.kind) != (got.name, got.kind):
            problems.append(f"parameter {got.name} ({got.kind.description}) where the port has {want.name}")
        elif want.default is not inspect.Parameter.empty and got.default != want.default:
            problems.append(f"parameter {got.name} defaults to {got.default!r}, the port's to {want.default!r}")
    if len(actual) < len(expected):
        problems.append(f"missing parameters {[p.name for p in expected[len(actual) :]]}")
    problems += [
        f"extra parameter {p.name} without a default"
        for p in actual[len(expected) :]
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    want_hints, got_hints = hints(port_method), hints(fake_method)
    for name, want_type in want_hints.items():
        if name in got_hints and got_hints[name] != want_type:
            problems.append(f"{name} is {got_hints[name]}, the port says {want_type}")
        elif name not in got_hints:
            problems.append(f"{name} has no annotation, the port says {want_type}")
    return problems


def test_every_port_has_a_fake() -> None:
    missing = [port.__name__ for port in ports() if port not in FAKES]
    assert missing == [], f"ports without a fake in tests/fakes.py: {missing}"
    assert set(FAKES) == set(ports())


@pytest.mark.parametrize("port", list(FAKES), ids=lambda port: port.__name__)
def test_the_fake_has_every_member_of_its_port_with_the_same_signature(port: type) -> None:
    fake = FAKES[port]
    problems = []
    for name, declared in members(port).items():
        if declared is None:  # an attribute: declared on the fake too (the repositories' values are checked below)
            if name not in hints(fake):
                problems.append(f"{fake.__name__} does not declare {name}")
            elif hints(fake)[name] != hints(port)[name]:
                problems.append(f"{fake.__name__}.{name} is {hints(fake)[name]}, the port says {hints(port)[name]}")
            continue
        implemented = inspect.getattr_static(fake, name, None)
        if implemented is None:
            problems.append(f"{fake.__name__}.{name} is missing")
            continue
        problems += [f"{fake.__name__}.{name}: {p}" for p in signature_problems(declared, implemented)]
    assert problems == []


def test_the_fake_unit_of_work_has_a_fake_of_every_repository_of_the_port() -> None:
    uow = FakeUnitOfWork()
    declared = hints(UnitOfWork)
    assert declared, "the UnitOfWork port declares its repositories as annotated attributes"
    for name, repository_port in declared.items():
        assert isinstance(getattr(uow, name, None), FAKES[repository_port]), name


def test_the_check_itself_sees_a_wrong_signature() -> None:
    class Port(Protocol):
        async def get(self, item_id: int, limit: int = 5) -> str | None: ...

    class Fake:
        def get(self, item: int, limit: int = 6) -> str:
            return str(item)

    problems = signature_problems(Port.get, Fake.get)
    assert any("async" in p for p in problems)
    assert any("item_id" in p for p in problems)
    assert any("defaults to 6" in p for p in problems)
    assert any("return" in p for p in problems)


async def test_the_desk_jobs_run_on_the_fakes_and_do_their_work_once() -> None:
    """The fake desk keeps the SQL one's contracts: an order is looked at when it changed or a deadline of it
    passed, a card opens once, and a card nobody resolved is raised once."""
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    uow, seeded = fake_world(now)
    add_user(uow.state, 42)
    cmd = PlaceOrder(user_id=42, session_id=seeded.session_id, quantities={"adult": 2}, answers=ANSWERS)
    order = await place_order(uow, cmd, now)
    clock = FixedClock(now)
    jobs = DeskJobs(lambda: uow, clock, DeskSettings(chat_id=-100500))

    assert (await jobs.check_orders()).skipped == [order.id]  # new, no problem yet: looked at, no card
    assert (await jobs.check_orders()).claimed == 0
    assert uow.state.cards == {}
    clock.advance(minutes=11)  # the organiser did not answer within ten minutes
    assert (await jobs.check_orders()).done == [order.id]
    assert (await jobs.check_orders()).claimed == 0
    [card] = uow.state.cards.values()
    assert (card.subject, card.kinds, card.is_open) == (f"order:{order.id}", ["organiser_silent"], True)
    clock.advance(hours=1)
    assert (await jobs.reraise_cards()).done == [card.id]
    assert (await jobs.reraise_cards()).claimed == 0
    kinds = [m.kind for m in uow.state.outbox]
    assert kinds.count(OutboxKind.PROBLEM_CARD) == 1 and kinds.count(OutboxKind.PROBLEM_RERAISED) == 1
