"""The desk's read side (:class:`handlers.operator.queries.DeskQueries`): the SQL implementation and the in-memory
fake keep one contract, so the desk's screens run on fakes and read the same as on the database.

The same story is told to both (the seeded catalog, two tourists, two orders, problem cards); each query must then
answer the same on both (on SQLite and on PostgreSQL), and the ``/events`` screen drawn from them must be the same
text.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.i18n import I18n
from bot.storage.db import session_factory
from bot.storage.desk_queries import SqlDeskQueries
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order
from domain.ports import UnitOfWork
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.payments import record_payment
from domain.use_cases.stats import day_stats, day_window
from handlers.operator.events import EventsPageCb, events_screen
from handlers.operator.find import find_screen
from handlers.operator.queries import DeskQueries
from handlers.operator.stats import stats_text
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.handlers.desk_fakes import FakeDeskQueries, add_fake_problem_cards, add_problem_cards
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_user

EN, RU = 5001, 5002
ANSWERS = {"pickup": "Hotel Viru", "lunch": "veg"}


@dataclass
class Side:
    """One implementation of the story: its unit of work, its queries and what the story left in it."""

    uow: UnitOfWork
    queries: DeskQueries
    seeded: Seeded
    paid: Order
    waiting: Order


async def tell(uow: UnitOfWork, seeded: Seeded, now: datetime) -> tuple[Order, Order]:
    """Emma books two adults, the organiser confirms, she pays; Ivan books three and waits."""
    paid = await place_order(
        uow, PlaceOrder(EN, seeded.session_id, {"adult": 2}, answers=ANSWERS, payments_enabled=True), now
    )
    await answer_booking_request(
        uow, paid.stored_id, ORGANISER_CHAT_ID, OrganiserReply(Verdict.YES), "+", now, payments_enabled=True
    )
    await record_payment(uow, paid.stored_id, EN, "charge-1", "p-1", paid.total_minor, paid.currency, now)
    waiting = await place_order(
        uow, PlaceOrder(RU, seeded.session_id, {"adult": 3}, answers=ANSWERS, payments_enabled=True), now
    )
    async with uow:
        stored = await uow.orders.get(paid.stored_id)
    assert stored is not None and stored.ticket_code
    return stored, waiting


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    """The SQL side on SQLite and on PostgreSQL (``engine``): the queries are storage, unlike the screens."""
    return session_factory(engine)


@pytest.fixture
async def sql(sessions: async_sessionmaker, seeded: Seeded, clock) -> Side:
    now = clock.now()
    await seed_user(sessions, EN, now=now, first_name="Emma", username="Emma_Stone", phone="+37255550001")
    await seed_user(sessions, RU, language="ru", now=now, first_name="Ivan", username="ivan", phone="+37255550002")
    uow = SqlUnitOfWork(sessions)
    paid, waiting = await tell(uow, seeded, now)
    await add_problem_cards(sessions, now)
    return Side(uow, SqlDeskQueries(uow), seeded, paid, waiting)


@pytest.fixture
async def fake(clock) -> Side:
    now = clock.now()
    uow, seeded = fake_world(now)
    add_user(uow.state, EN, now=now, first_name="Emma", username="Emma_Stone", phone="+37255550001")
    add_user(uow.state, RU, language="ru", now=now, first_name="Ivan", username="ivan", phone="+37255550002")
    paid, waiting = await tell(uow, seeded, now)
    add_fake_problem_cards(uow.state, now)
    return Side(uow, FakeDeskQueries(uow), seeded, paid, waiting)


@pytest.fixture
def tr():
    return I18n("en").translator("en")


# ---- one contract -------------------------------------------------------------------------------------------------


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if inspect.iscoroutinefunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize("implementation", [SqlDeskQueries, FakeDeskQueries])
def test_the_implementations_have_the_ports_methods(implementation: type) -> None:
    port = _methods(DeskQueries)
    assert set(port) == {
        "session_at",
        "sessions_between",
        "users_by_phone",
        "users_by_username",
        "order_id_by_ticket",
        "open_sessions",
        "categories",
        "day_facts",
    }
    mine = _methods(implementation)
    for name, signature in port.items():
        assert name in mine, f"{implementation.__name__} lacks {name}"
        assert list(mine[name].parameters) == list(signature.parameters), f"{implementation.__name__}.{name}"


async def _answers(side: Side, now: datetime) -> dict[str, object]:
    """Every query of the port on ``side``, reduced to ids and figures (the objects differ in what the two read)."""
    seeded, q = side.seeded, side.queries
    async with side.uow:
        session = await side.uow.catalog.session(seeded.session_id)
        assert session is not None
        _day, start, end = day_window(now, "Europe/Tallinn")
        found, total = await q.open_sessions(seeded.region_id, now, now + timedelta(days=30), None, now, 0, 10)
        page, _total = await q.open_sessions(seeded.region_id, now, now + timedelta(days=30), None, now, 1, 1)
        sea, sea_total = await q.open_sessions(seeded.region_id, now, now + timedelta(days=30), "sea", now, 0, 10)
        facts = await q.day_facts(start, end)
        return {
            "session_at": getattr(await q.session_at(seeded.event_id, session.starts_at), "id", None),
            "session_at_other_time": await q.session_at(seeded.event_id, session.starts_at + timedelta(minutes=1)),
            "sessions_between": [s.id for s in await q.sessions_between(seeded.event_id, now, now + timedelta(days=9))],
            "by_phone": [u.id for u in await q.users_by_phone("+37255550001", 5)],
            "by_partial_phone": await q.users_by_phone("+3725555000", 5),
            "by_username": [u.id for u in await q.users_by_username("EMMA_STONE", 5)],
            "by_partial_username": await q.users_by_username("emma_ston", 5),
            "by_ticket": await q.order_id_by_ticket(side.paid.ticket_code or ""),
            "by_other_ticket": await q.order_id_by_ticket("TKT-NOPE"),
            "open_sessions": ([(i.session.id, i.event.id) for i in found], total),
            "second_page": [i.session.id for i in page],
            "sea": ([i.session.id for i in sea], sea_total),
            "categories": await q.categories(seeded.region_id),
            "other_region_categories": await q.categories(seeded.other_region_id),
            "day_facts": (
                facts.placed,
                facts.paid,
                dict(facts.revenue),
                dict(facts.ended),
                facts.problems_opened,
                sorted(facts.resolve_times),
                facts.open_problems,
            ),
        }


async def test_sql_and_fake_answer_alike(sql: Side, fake: Side, clock) -> None:
    now = clock.now()
    on_sql, on_fake = await _answers(sql, now), await _answers(fake, now)
    assert on_sql == on_fake
    assert on_sql["by_phone"] == on_sql["by_username"] == [EN]
    assert on_sql["by_partial_phone"] == on_sql["by_partial_username"] == []  # exact matches only
    assert on_sql["by_ticket"] == sql.paid.id and on_sql["by_other_ticket"] is None
    assert on_sql["session_at"] == sql.seeded.session_id and on_sql["session_at_other_time"] is None
    resolve_times = [timedelta(minutes=6), timedelta(minutes=30)]
    assert on_sql["day_facts"] == (2, 1, {"EUR": sql.paid.total_minor}, {}, 3, resolve_times, 1)
    assert on_sql["categories"] == ["city", "sea"] and on_sql["sea"][1] >= 1
    assert on_sql["open_sessions"][1] >= 2 and len(on_sql["sessions_between"]) >= 2


# ---- the screens, on fakes -------------------------------------------------------------------------------------------


async def test_screens_read_the_same_on_fakes(sql: Side, fake: Side, tr, clock) -> None:
    now = clock.now()
    page = EventsPageCb(region=sql.seeded.region_id, user=EN)
    assert await events_screen(fake.uow, fake.queries, tr, page, now, None) == await events_screen(
        sql.uow, sql.queries, tr, page, now, None
    )
    async with fake.uow:
        facts = await fake.queries.day_facts(*day_window(now, "Europe/Tallinn")[1:])
    day = day_window(now, "Europe/Tallinn")[0]
    text = stats_text(tr, day_stats(day, "Europe/Tallinn", facts))
    assert "Orders placed: 2" in text and "Problems opened: 3 · resolved: 2" in text


async def test_find_runs_on_fakes(fake: Side, tr, clock) -> None:
    assert isinstance(fake.uow, FakeUnitOfWork)
    text, markup = await find_screen(fake.uow, fake.queries, tr, "@emma_stone", clock.now())
    assert "Emma" in text and "Ivan" not in text
    assert markup is not None
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert "👁 Reveal contacts" in labels and "✍️ Write to the tourist" in labels
    text, markup = await find_screen(fake.uow, fake.queries, tr, "@emma_ston", clock.now())
    assert "Nothing found" in text and markup is None
