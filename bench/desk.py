"""Operator desk benchmark: what ``domain.use_cases.desk.check_orders`` costs at rest and per changed order, from the
field's 12,000 orders to 1.2M.

Prints figures, asserts nothing about time. Runs on SQLite (a file in a temporary directory, created by the real
migrations) and, when ``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL`` is set, on PostgreSQL (in a throw-away schema
dropped at the end).

    .venv/bin/python bench/desk.py [--orders 1200000] [--sizes 12000,120000,1200000] [--problem-share 0.05]
                                   [--batch 50] [--sweep 2000] [--idle-runs 50] [--touch 100] [--rounds 3]
                                   [--seed 5] [--no-sqlite]

Setup (:func:`seed`, which other benchmarks import): ``tests/seed.py``'s catalog, 30 sessions of its cruise over the
next 30 days, and the orders written in bulk (no use case: the driver's ``executemany`` on SQLite, ``COPY`` on
PostgreSQL, 20,000 rows at a time, every value bound by its column's SQLAlchemy type), about 1.2M a minute or two.
``--problem-share`` of them are in a problem state, in equal parts: awaiting the organiser past ``confirm_by``,
refund due, confirmed and unpaid past ``pay_by``; the rest are normal (paid and ticketed, awaiting the organiser in
time, awaiting payment in time, cancelled before paying), every deadline hours away. The first ``--sweep`` orders are
new to the desk (``desk_seen_version`` -1, as right after the migration that added it); the others are as the desk
leaves an order it looked at (seen at their version, the next check at their next deadline), and a problem among
them was handled as operators handle one: its card resolved, its kinds acknowledged on the order.

The job runs as the scheduler runs it: ``scheduler.jobs.DeskJobs.check_orders`` (passes of ``--batch`` orders, one
transaction per order, up to ``MAX_PASSES`` passes per call) with a desk chat configured, on a clock that starts at
the bench's ``NOW`` and runs in real time (the digest rule sees the sweep's real duration).

1. First sweep: the ``--sweep`` new orders, until none is left: orders per second, statements per order, cards
   opened (one by one, or only in a digest);
2. then at each size (``--sizes``, default ``--orders`` / 100, / 10 and ``--orders``; the orders added between sizes
   are seen ones), on PostgreSQL after ``VACUUM ANALYZE`` and a ``CHECKPOINT`` (autovacuum's and the checkpointer's
   work after a bulk load, which would otherwise run during the measurement):
   - idle: nothing changed, nothing due: one call of each desk job (median and p95 of ``--idle-runs``), which the
     scheduler makes every second, with its order look-up's own time and this process's CPU time (SQLite works in this
     process; PostgreSQL's server CPU is not counted); at the largest size the look-ups' plans;
   - changed orders: ``--touch`` random orders get a new version (as a use case saving them would) and the calls
     that re-evaluate them are timed, ``--rounds`` times: the cost per changed order;
3. a summary: per size, idle median/p95 and its ratio to the smallest size, and the cost per changed order.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import FIRST_USER, NOW, bench_order, scratch_postgres
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.orders import order_values
from bot.storage.tables import (
    DeskCardRow,
    OrderItemRow,
    OrderRow,
    OutboxRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.desk import DIGEST_AFTER, DeskSettings, order_subject
from domain.model.messages import operator_actor
from domain.model.orders import CODE_ALPHABET, CODE_LENGTH, BookingStatus, Order, PaymentStatus, TicketStatus
from domain.rules.problems import open_problems, order_facts
from scheduler.jobs import MAX_PASSES, DeskJobs
from tests.seed import seed_catalog

DESK_CHAT_ID = -100500
SESSIONS = 30
PROBLEMS = ("organiser_silent", "refund_due", "unpaid")
CARD_KINDS = ("operator.problem_card", "operator.problem_digest")


class RunningClock:
    """``NOW`` plus the real time elapsed since the bench started this backend: passes see time move."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def now(self) -> datetime:
        return NOW + timedelta(seconds=time.perf_counter() - self._start)


@dataclass
class Statements:
    """Counts the statements an engine runs, and times the desk's order look-ups (the lock-free one and the claims)."""

    count: int = 0
    claim_s: float = 0.0
    claims: int = 0
    claim_sql: dict[str, tuple[str, Any]] = field(default_factory=dict)  # "unseen" / "due" -> the idle query
    _started: dict[int, float] = field(default_factory=dict)

    def listen(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            self._started[id(conn)] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            seconds = time.perf_counter() - self._started.pop(id(conn), time.perf_counter())
            self.count += 1
            if (which := _claim_kind(statement)) is not None:
                self.claims += 1
                self.claim_s += seconds
                if which not in self.claim_sql or " NOT IN " not in statement.upper():
                    self.claim_sql[which] = (statement, parameters)  # the last without an exclusion list: idle

    def reset(self) -> None:
        self.count, self.claim_s, self.claims = 0, 0.0, 0


def _claim_kind(statement: str) -> str | None:
    """Which of the desk's order look-ups this is: ``SqlDeskRepository.order_to_check`` (the lock-free read an idle
    call stops at: "at rest"), or one of ``claim_order_to_check``'s two claims: the orders not seen since they
    changed ("unseen"), those whose next check is due ("due"); None for any other statement."""
    flat = " ".join(statement.split())
    upper = flat.upper()
    if upper.startswith("SELECT COALESCE((SELECT ORDERS.ID FROM ORDERS WHERE"):
        return "at rest"
    if not upper.startswith("SELECT ORDERS.ID FROM ORDERS WHERE"):
        return None
    if "orders.version != orders.desk_seen_version" in flat:
        return "unseen"
    return "due" if "orders.desk_check_at <=" in flat else None


@dataclass
class Backend:
    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker
    cleanup: Callable[[], Awaitable[None]]
    postgres: bool
    statements: Statements = field(default_factory=Statements)
    placement: Placement | None = None  # set by seed()


async def open_sqlite(directory: str) -> Backend:
    engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Backend("SQLite", engine, session_factory(engine), engine.dispose, postgres=False)


async def open_postgres(url: str) -> Backend:
    engine, cleanup = await scratch_postgres(url)
    return Backend("PostgreSQL", engine, session_factory(engine), cleanup, postgres=True)


# ---- setup: bulk rows, not the use cases ------------------------------------------------------------------------

ORDER_CHUNK = 20_000  # rows per bulk statement / COPY: memory stays flat whatever --orders is
IN_TIME = timedelta(hours=6)  # the normal orders' deadlines: none falls due during a run
CODE_SPACE = len(CODE_ALPHABET) ** CODE_LENGTH
CODE_STEP = 7_368_787  # a prime: id -> id * step mod CODE_SPACE is a bijection, so codes are unique without a set


def _code(number: int, length: int) -> str:
    """``length`` characters of the order-code alphabet spelling ``number`` (base 24)."""
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def _codes(order_id: int) -> tuple[str, str]:
    """The order's code and ticket code, unique per id. A leading ``0`` (not in the alphabet) keeps them apart from
    any code the bot draws at random, so a bot serving traffic on this database never collides with them."""
    scrambled = order_id * CODE_STEP % CODE_SPACE
    return "0" + _code(scrambled, CODE_LENGTH), f"TKT-0{_code(scrambled, 8)}"


def _order(kind: str, session_id: int, event_id: int) -> Order:
    """One order in the state ``kind`` names (a problem of :data:`PROBLEMS`, or a normal state); codes and user are
    set per row."""
    created = NOW - timedelta(hours=3)
    order = bench_order("", FIRST_USER, session_id, event_id, created)
    if kind in ("paid", "refund_due"):
        order.booking, order.payment, order.ticket = BookingStatus.CONFIRMED, PaymentStatus.PAID, TicketStatus.ISSUED
        order.pay_by, order.paid_at, order.ticket_code = created + timedelta(minutes=40), created, "set per row"
        if kind == "refund_due":  # the tourist cancelled a paid order; the money is not returned yet
            order.end(BookingStatus.CANCELLED, NOW - timedelta(hours=1))
    elif kind == "organiser_silent":
        order.confirm_by = NOW - timedelta(minutes=30)
    elif kind == "awaiting_organiser":
        order.confirm_by = NOW + IN_TIME
    elif kind in ("unpaid", "awaiting_payment"):
        order.booking, order.payment = BookingStatus.CONFIRMED, PaymentStatus.AWAITING
        order.pay_by = NOW - timedelta(minutes=30) if kind == "unpaid" else NOW + IN_TIME
    elif kind == "cancelled":
        order.end(BookingStatus.CANCELLED, NOW - timedelta(hours=2))
    else:
        raise ValueError(kind)
    return order


def _next_check(order: Order, starts_at: datetime) -> datetime | None:
    """What ``check_orders`` stores as ``desk_check_at`` (its rule, restated here: it is private to the use case)."""
    moments: list[datetime | None] = []
    if order.booking is BookingStatus.AWAITING_ORGANISER:
        moments += [order.confirm_by, starts_at]
    if order.payment is PaymentStatus.AWAITING:
        moments += [order.pay_by, starts_at]
    return min((m for m in moments if m is not None and m > NOW), default=None)


NORMAL_MIX = ("paid",) * 14 + ("awaiting_organiser", "awaiting_payment", "cancelled", "cancelled")


@dataclass
class Placement:
    """Where the bench's orders go (the sessions ``seed`` made) and the rows it has already bound per state."""

    event_id: int
    sessions: list[tuple[int, datetime]]  # id, starts_at
    templates: dict[tuple[str, int, bool], tuple[list[Any], list[str]]] = field(default_factory=dict)
    card_templates: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)


def _bind(dialect: Any, table: Any, columns: list[str], values: dict[str, Any]) -> list[Any]:
    """``values`` in ``columns``' order as the driver takes them, each bound by its column's SQLAlchemy type."""
    bound = []
    for name in columns:
        value = values.get(name)
        bind = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        bound.append(bind(value) if bind and value is not None else value)
    return bound


CARD_COLUMNS = ["subject", "open_subject", "order_id", "kinds", "status", "opened_at", "updated_at", "remind_at"]
CARD_COLUMNS += ["resolved_at", "resolved_by", "resolved_by_name", "resolution", "message_id", "version"]
OPERATOR = 900_001


class OrderRows:
    """``orders`` rows as the driver takes them: every value bound once per (state, session, seen) by the column's
    own SQLAlchemy type (UTC datetimes, JSON), then only the id, codes and user change per row. A problem order the
    desk has seen was handled as operators handle one: its card resolved, its kinds acknowledged on the order (so
    they stay closed while the order stays as it is); :meth:`card` is that card."""

    def __init__(self, backend: Backend, placement: Placement) -> None:
        self.dialect = backend.engine.dialect
        self.placement = placement
        self.columns = [c.name for c in OrderRow.__table__.columns]
        self._at = {name: self.columns.index(name) for name in ("id", "code", "ticket_code", "user_id")}

    def _template(self, kind: str, slot: int, seen: bool) -> tuple[list[Any], list[str]]:
        key = (kind, slot, seen)
        if (template := self.placement.templates.get(key)) is None:
            session_id, starts_at = self.placement.sessions[slot]
            order = _order(kind, session_id, self.placement.event_id)
            values = {**order_values(order), "version": 0, "desk_seen_version": -1, "desk_check_at": None}
            acknowledged: list[str] = []
            if seen:  # as check_orders leaves an order it looked at: seen at its version, its next check set
                acknowledged = [k.value for k in open_problems(order_facts(order, starts_at, False, NOW), [])]
                values.update(desk_seen_version=0, desk_ack=acknowledged, desk_check_at=_next_check(order, starts_at))
            if missing := set(self.columns) - set(values) - {"id"}:
                raise RuntimeError(f"the bench does not fill {sorted(missing)}: add them to the template")
            template = (_bind(self.dialect, OrderRow.__table__, self.columns, values), acknowledged)
            self.placement.templates[key] = template
        return template

    def row(self, order_id: int, kind: str, seen: bool) -> tuple[tuple[Any, ...], list[str]]:
        """The order's row, and the problem kinds acknowledged on it (a resolved card to write with it)."""
        template, acknowledged = self._template(kind, order_id % len(self.placement.sessions), seen)
        row = list(template)
        code, ticket = _codes(order_id)
        at = self._at
        row[at["id"]], row[at["code"]], row[at["user_id"]] = order_id, code, FIRST_USER + order_id
        if row[at["ticket_code"]] is not None:
            row[at["ticket_code"]] = ticket
        return tuple(row), acknowledged

    def card(self, order_id: int, kinds: list[str]) -> tuple[Any, ...]:
        """The resolved card of a problem an operator handled."""
        if (template := self.placement.card_templates.get(key := tuple(kinds))) is None:
            values = {
                "kinds": kinds,
                "status": "resolved",
                "opened_at": NOW - timedelta(hours=2),
                "updated_at": NOW - timedelta(hours=1),
                "remind_at": NOW - timedelta(minutes=90),
                "resolved_at": NOW - timedelta(hours=1),
                "resolved_by": operator_actor(OPERATOR),
                "resolved_by_name": "Bench operator",
                "resolution": "resolve",
                "message_id": 1,
                "version": 3,
            }
            template = self.placement.card_templates[key] = _bind(
                self.dialect, DeskCardRow.__table__, CARD_COLUMNS, values
            )
        row = list(template)
        row[0], row[2] = order_subject(order_id), order_id
        return tuple(row)


async def _bulk_insert(backend: Backend, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, one ``executemany`` of the driver on SQLite: no ORM, no per-row SQLAlchemy work."""
    async with backend.engine.begin() as conn:
        if backend.postgres:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(table, records=rows, columns=columns)
        else:
            marks = ", ".join("?" for _ in columns)
            await conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


async def add_orders(
    backend: Backend, count: int, share: float, rng: random.Random, unseen: int = 0
) -> tuple[Counter[str], set[int], float]:
    """``count`` more orders (ids after the highest), ``share`` of them problems; the first ``unseen`` of them not
    seen by the desk yet (as right after the migration that added it), the rest as ``check_orders`` leaves them.
    Returns the orders per state, the problem orders' ids and the seconds it took."""
    if backend.placement is None:
        raise RuntimeError("seed() first: it makes the sessions the orders go to")
    start = time.perf_counter()
    async with backend.sessions() as db:
        first = int(await db.scalar(select(func.coalesce(func.max(OrderRow.id), 0))) or 0) + 1
        first_item = int(await db.scalar(select(func.coalesce(func.max(OrderItemRow.id), 0))) or 0) + 1
    shaper = OrderRows(backend, backend.placement)
    item_columns = ["id", "order_id", "ticket_type", "quantity", "unit_price_minor"]
    kinds: Counter[str] = Counter()
    problems: set[int] = set()
    for chunk in range(0, count, ORDER_CHUNK):
        size = min(ORDER_CHUNK, count - chunk)
        problem_at = set(rng.sample(range(size), round(size * share)))
        rows, items, cards = [], [], []
        for offset in range(size):
            index = chunk + offset
            order_id = first + index
            if offset in problem_at:
                kind = PROBLEMS[len(problems) % len(PROBLEMS)]
                problems.add(order_id)
            else:
                kind = NORMAL_MIX[index % len(NORMAL_MIX)]
            kinds[kind] += 1
            row, acknowledged = shaper.row(order_id, kind, seen=index >= unseen)
            rows.append(row)
            items.append((first_item + index, order_id, "adult", 1, 4500))
            if acknowledged:
                cards.append(shaper.card(order_id, acknowledged))
        await _bulk_insert(backend, "orders", shaper.columns, rows)
        await _bulk_insert(backend, "order_items", item_columns, items)
        if cards:
            await _bulk_insert(backend, "desk_cards", CARD_COLUMNS, cards)
    if backend.postgres:
        async with backend.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # The explicit ids leave the sequences behind: the bot may place orders on this database afterwards.
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
            )
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('order_items', 'id'), (SELECT max(id) FROM order_items))")
            )
            await conn.execute(text("ANALYZE"))  # what autovacuum would have done on a table this size
    return kinds, problems, time.perf_counter() - start


async def seed(
    backend: Backend, orders: int, share: float, rng: random.Random, *, unseen: int | None = None
) -> tuple[Counter[str], set[int], float]:
    """The catalog (``tests/seed.py``'s), 30 sessions of its cruise, and ``orders`` orders in bulk (see
    :func:`add_orders`): ~1.2M in about a minute. ``unseen`` of them (default all) are new to the desk; the rest
    as the desk leaves an order it looked at. Returns the orders per state, the problem orders' ids and the seconds
    it took. Other benchmarks import it (``bench/memory.py``)."""
    start = time.perf_counter()
    seeded = await seed_catalog(backend.sessions, NOW)
    async with backend.sessions() as db, db.begin():
        rows = [
            SessionRow(
                event_id=seeded.event_id,
                starts_at=NOW + timedelta(days=day, hours=1),
                capacity=max(orders, 1),
                seats_left=0,
                status="scheduled",
            )
            for day in range(1, SESSIONS + 1)
        ]
        db.add_all(rows)
        await db.flush()
        backend.placement = Placement(seeded.event_id, [(row.id, row.starts_at) for row in rows])
    kinds, problems, _ = await add_orders(backend, orders, share, rng, orders if unseen is None else unseen)
    return kinds, problems, time.perf_counter() - start


async def counts(backend: Backend) -> dict[str, int]:
    async with backend.sessions() as db:
        outbox = dict((await db.execute(select(OutboxRow.kind, func.count()).group_by(OutboxRow.kind))).all())
        opened = DeskCardRow.opened_at >= NOW  # not the resolved cards seed() wrote as history
        cards = await db.scalar(select(func.count()).where(opened))
        single = await db.scalar(select(func.count()).where(opened, DeskCardRow.digest_id.is_(None)))
        windows = await db.scalar(select(func.count(func.distinct(DeskCardRow.digest_id))).where(opened))
        unseen = await db.scalar(select(func.count()).where(OrderRow.version != OrderRow.desk_seen_version))
    return {
        "cards": cards,
        "single": single,
        "digested": cards - single,
        "windows": windows,
        "unseen": unseen,
        **{kind: outbox.get(kind, 0) for kind in CARD_KINDS},
    }


# ---- the measurements -------------------------------------------------------------------------------------------


def _looked_at(swept: Any) -> int:
    return len(swept.done) + len(swept.skipped) + len(swept.left) + len(swept.failed)


async def drain(jobs: DeskJobs) -> tuple[int, int, list[int]]:
    """``check_orders`` calls until one finds less than a full call's work: (calls, orders looked at, their ids)."""
    calls, ids = 0, []
    while True:
        swept = await jobs.check_orders()
        calls += 1
        ids += [*swept.done, *swept.skipped, *swept.left, *swept.failed]
        if _looked_at(swept) < jobs.batch * jobs.max_passes:
            return calls, len(ids), ids


async def first_sweep(backend: Backend, jobs: DeskJobs, problem_ids: set[int]) -> None:
    """The orders the desk has not seen yet, until none is left: each problem among them gets its card."""
    stats = backend.statements
    stats.reset()
    cpu = time.process_time()
    start = time.perf_counter()
    calls, looked, ids = await drain(jobs)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    after = await counts(backend)
    expected = len(problem_ids & set(ids))
    print(
        f"  {backend.name:<11} first sweep   {looked} unseen orders in {seconds:5.1f} s ="
        f" {looked / seconds:4.0f} orders/s ({1000 * seconds / max(looked, 1):.2f} ms each), {calls} calls;"
        f" claim query {1000 * stats.claim_s / max(stats.claims, 1):.2f} ms each;"
        f" {stats.count / max(looked, 1):.1f} statements per order; CPU {cpu:4.1f} s; {after['unseen']} left unseen"
    )
    print(
        f"  {'':<11} {'':<13} cards opened {after['cards']} (problem orders among them: {expected}):"
        f" {after['single']} posted one by one, {after['digested']} only in a digest ({after['windows']} digest"
        f" minutes); outbox rows: {after[CARD_KINDS[0]]} cards + {after[CARD_KINDS[1]]} digests"
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


@dataclass
class Figures:
    """One size's figures, for the summary."""

    orders: int
    idle_median: float = 0.0
    idle_p95: float = 0.0
    claim_ms: float = 0.0
    statements: float = 0.0
    before_median: float = 0.0  # the claims in a write transaction, as the idle call ran before
    reference_median: float = 0.0  # SELECT 1 in a read block
    per_changed: list[float] = field(default_factory=list)


async def _claim_in_a_transaction(backend: Backend, jobs: DeskJobs) -> None:
    """What an idle ``check_orders`` did before it looked in a read block first: the two claims in a write
    transaction (on SQLite ``BEGIN IMMEDIATE``, the one write lock)."""
    uow = SqlUnitOfWork(backend.sessions)
    async with uow:
        await uow.desk.claim_order_to_check(jobs.clock.now(), ())


async def _select_one(backend: Backend) -> None:
    """The floor of any idle job: one ``SELECT 1`` in a read block of the same unit of work."""
    uow = SqlUnitOfWork(backend.sessions)
    async with uow.read():
        await uow.session.execute(text("SELECT 1"))


async def idle(backend: Backend, jobs: DeskJobs, runs: int, figures: Figures) -> None:
    stats = backend.statements
    for label, job in (
        ("check_orders", jobs.check_orders),
        ("check_questions", jobs.check_questions),
        ("reraise_cards", jobs.reraise_cards),
        ("(before: claims)", lambda: _claim_in_a_transaction(backend, jobs)),
        ("(ref: SELECT 1)", lambda: _select_one(backend)),
    ):
        await job()  # warm
        stats.reset()
        walls, cpus, claimed = [], [], 0
        for _ in range(runs):
            cpu = time.process_time()
            start = time.perf_counter()
            swept = await job()
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            claimed += _looked_at(swept) if swept is not None else 0
        extra = ""
        if label.startswith("(before"):
            figures.before_median = statistics.median(walls)
        elif label.startswith("(ref"):
            figures.reference_median = statistics.median(walls)
        elif label == "check_orders":
            figures.idle_median, figures.idle_p95 = statistics.median(walls), _p95(walls)
            figures.claim_ms = 1000 * stats.claim_s / max(stats.claims, 1)
            figures.statements = stats.count / runs
            extra = f"; its order look-up {figures.claim_ms:.2f} ms; {figures.statements:.0f} statement(s)"
        print(
            f"  {backend.name:<11} idle {label:<16} median {1000 * statistics.median(walls):5.2f} ms,"
            f" p95 {1000 * _p95(walls):5.2f} ms; CPU {1000 * statistics.median(cpus):5.2f} ms{extra};"
            f" {claimed} claimed in {runs} calls"
        )


async def plan(backend: Backend) -> None:
    if not backend.statements.claim_sql:
        print(f"  {backend.name:<11} (the order look-ups were not seen)")
        return
    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if backend.postgres else "EXPLAIN QUERY PLAN "
    for which, (statement, parameters) in sorted(backend.statements.claim_sql.items(), reverse=True):
        async with backend.engine.connect() as conn:
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()
            await conn.rollback()
        print(f"  {backend.name} plan of the order look-up ({which}): {' '.join(statement.split())}")
        for row in rows:
            print(f"      {row[-1]}")


async def steady(
    backend: Backend, jobs: DeskJobs, touch: int, rounds: int, rng: random.Random, figures: Figures
) -> None:
    """``touch`` random orders get a new version, as a use case saving them would; the calls that re-evaluate them
    are timed: the cost per changed order."""
    stats = backend.statements
    for number in range(1, rounds + 1):
        ids = rng.sample(range(1, figures.orders + 1), min(touch, figures.orders))
        async with backend.sessions() as db, db.begin():
            await db.execute(update(OrderRow).where(OrderRow.id.in_(ids)).values(version=OrderRow.version + 1))
        before = await counts(backend)
        stats.reset()
        start = time.perf_counter()
        calls, looked, _ = await drain(jobs)
        seconds = time.perf_counter() - start
        after = await counts(backend)
        written = sum(after[kind] - before[kind] for kind in CARD_KINDS)
        figures.per_changed.append(seconds / max(looked, 1))
        print(
            f"  {backend.name:<11} round {number}: {looked} changed orders re-evaluated in {1000 * seconds:5.0f} ms"
            f" = {1000 * seconds / max(looked, 1):5.2f} ms per changed order ({calls} call(s),"
            f" {stats.count / max(looked, 1):.1f} statements each), claim query {1000 * stats.claim_s:.0f} ms of it;"
            f" {written} outbox rows; {after['unseen']} left unseen"
        )


# ---- main -------------------------------------------------------------------------------------------------------


async def run(backend: Backend, args: argparse.Namespace, sizes: list[int]) -> list[Figures]:
    rng = random.Random(args.seed)
    unseen = min(args.sweep, sizes[0])
    kinds, problem_ids, seconds = await seed(backend, sizes[0], args.problem_share, rng, unseen=unseen)
    print(
        f"\n{backend.name}: {sizes[0]} orders written in {seconds:.1f} s ({unseen} not seen by the desk yet),"
        f" {len(problem_ids)} in a problem state ({', '.join(f'{k} {kinds[k]}' for k in PROBLEMS)}); normal: "
        + ", ".join(f"{k} {v}" for k, v in kinds.items() if k not in PROBLEMS)
    )
    backend.statements.listen(backend.engine)
    jobs = DeskJobs(
        lambda: SqlUnitOfWork(backend.sessions),
        RunningClock(),
        DeskSettings(chat_id=DESK_CHAT_ID),
        batch=args.batch,
        max_passes=MAX_PASSES,
    )
    await first_sweep(backend, jobs, problem_ids)
    results = []
    for size in sizes:
        if size > sizes[0]:
            _, _, seconds = await add_orders(backend, size - results[-1].orders, args.problem_share, rng)
            print(f"\n{backend.name}: grown to {size} orders in {seconds:.1f} s (the new ones as the desk left them)")
        if backend.postgres:
            async with backend.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                # autovacuum's and the checkpointer's work after a bulk load and that many updates, done before timing
                await conn.execute(text("VACUUM ANALYZE"))
                await conn.execute(text("CHECKPOINT"))
        figures = Figures(size)
        await idle(backend, jobs, args.idle_runs, figures)
        if size == sizes[-1]:
            await plan(backend)
        await steady(backend, jobs, args.touch, args.rounds, rng, figures)
        results.append(figures)
    return results


def summary(name: str, results: list[Figures]) -> None:
    base = results[0]
    print(f"\n{name}: idle check_orders and the cost per changed order by size (ratio: against {base.orders} orders)")
    for f in results:
        changed = statistics.median(f.per_changed) if f.per_changed else float("nan")
        print(
            f"  {f.orders:>9} orders: idle median {1000 * f.idle_median:5.2f} ms, p95 {1000 * f.idle_p95:5.2f} ms"
            f" (x{f.idle_median / base.idle_median:4.2f}), look-up {f.claim_ms:4.2f} ms, {f.statements:.0f} stmt;"
            f" per changed order {1000 * changed:5.2f} ms"
        )
        print(
            f"  {'':>9}         same run: the claims in a write transaction (as before) {1000 * f.before_median:5.2f}"
            f" ms, SELECT 1 in a read block {1000 * f.reference_median:5.2f} ms; idle / SELECT 1 ="
            f" {f.idle_median / f.reference_median:4.2f}"
        )


def _sizes(args: argparse.Namespace) -> list[int]:
    if args.sizes:
        return sorted({int(s) for s in args.sizes.split(",")})
    return sorted({n for n in (args.orders // 100, args.orders // 10) if n >= 1000} | {args.orders})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_200_000, help="orders at the end (default 1200000)")
    parser.add_argument("--sizes", help="comma-separated sizes to measure at (default: orders/100, /10, orders)")
    parser.add_argument("--problem-share", type=float, default=0.05, help="share of them in a problem state (0.05)")
    parser.add_argument("--batch", type=int, default=50, help="orders per pass (DeskJobs' default, 50)")
    parser.add_argument("--sweep", type=int, default=2000, help="orders not seen by the desk at the start (2000)")
    parser.add_argument("--idle-runs", type=int, default=50, help="idle calls timed per job (50)")
    parser.add_argument("--touch", type=int, default=100, help="orders changed per steady-state round (100)")
    parser.add_argument("--rounds", type=int, default=3, help="steady-state rounds (3)")
    parser.add_argument("--seed", type=int, default=5, help="random seed for which orders are problems/touched")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    sizes = _sizes(args)
    if sizes[0] < 1 or not 0 <= args.problem_share <= 1 or args.batch < 1 or args.idle_runs < 1:
        parser.error("--orders, --batch and --idle-runs must be at least 1, --problem-share within 0..1")
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f}"
        f" {load[2]:.2f}; PostgreSQL: {'yes' if postgres_url else 'no (set BENCH_POSTGRES_URL)'}; sizes {sizes}"
    )
    print(
        f"check_orders via DeskJobs(batch={args.batch}, max_passes={MAX_PASSES}), desk chat {DESK_CHAT_ID},"
        f" DIGEST_AFTER={DIGEST_AFTER}; clock: {NOW:%Y-%m-%d %H:%M} UTC running in real time"
    )
    started = time.perf_counter()
    summaries = []
    with tempfile.TemporaryDirectory(prefix="tripdesk-bench-") as directory:
        openers: list[Callable[[], Awaitable[Backend]]] = []
        if not args.no_sqlite:
            openers.append(lambda: open_sqlite(directory))
        if postgres_url:
            openers.append(lambda: open_postgres(postgres_url))
        for opener in openers:
            backend = await opener()
            try:
                summaries.append((backend.name, await run(backend, args, sizes)))
            finally:
                await backend.cleanup()
    for name, results in summaries:
        summary(name, results)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nwhole run {time.perf_counter() - started:.0f} s; load average at the end {load[0]:.2f} {load[1]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
