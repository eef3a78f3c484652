"""Health and metrics (bot/health.py, bot/metrics.py) over real HTTP: /healthz, /readyz with the database, Redis and
a fake Telegram (ready, and not ready when one is gone), /metrics; the gauges read from a migrated database, each
query from an index; job lag from APScheduler's events; the outbox sender's counters and log fields."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import CopyMessage, TelegramMethod
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.health import BotApiWatch, Readiness, start_health_server
from bot.metrics import StateGauges, observe_update, watch_jobs
from bot.storage.db import create_engine, session_factory
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import DeskCardRow, OutboxRow
from tests.fakes import FixedClock
from tests.integration.test_outbox_queue import SlowTelegram, copy_row, sender_on
from tests.seed import seed_catalog
from tests.telegram.recorder import RecordingSession, network_error

TOKEN = "123456:AAE_test-token-for-tripdesk-000000"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
METRIC_NAMES = (
    "tripdesk_updates_total",
    "tripdesk_update_seconds",
    "tripdesk_outbox_sent_total",
    "tripdesk_outbox_dead_total",
    "tripdesk_telegram_429_total",
    "tripdesk_inbox_pending",
    "tripdesk_inbox_failed",
    "tripdesk_outbox_depth",
    "tripdesk_outbox_oldest_due_seconds",
    "tripdesk_problem_cards_open",
    "tripdesk_waiting_room_length",
    "tripdesk_job_lag_seconds",
)

Get = Callable[[str], Awaitable[tuple[int, str, str]]]


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.fixture
def telegram() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def watch() -> BotApiWatch:
    return BotApiWatch()


@pytest.fixture
async def bot(telegram: RecordingSession, watch: BotApiWatch) -> AsyncIterator[Bot]:
    bot = Bot(token=TOKEN, session=telegram)
    bot.session.middleware(watch)
    yield bot
    await bot.session.close()


async def served(readiness: Readiness) -> AsyncIterator[Get]:
    """The health server on a free port, and a GET on it: (status, content type, body)."""
    runner = await start_health_server("127.0.0.1:0", readiness)
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def get(path: str) -> tuple[int, str, str]:
            async with http.get(f"http://{host}:{port}{path}") as response:
                return response.status, response.headers["Content-Type"], await response.text()

        yield get
    await runner.cleanup()
    await readiness.close()


@pytest.fixture
async def get(sqlite_engine: AsyncEngine, bot: Bot, watch: BotApiWatch) -> AsyncIterator[Get]:
    async for get in served(Readiness(sqlite_engine, None, bot, watch)):
        yield get


# ---- /healthz and /readyz --------------------------------------------------------------------------------------


async def test_alive_and_ready_with_the_database_and_telegram(get: Get, telegram: RecordingSession) -> None:
    assert await get("/healthz") == (200, "text/plain; charset=utf-8", "ok")
    status, content_type, body = await get("/readyz")
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    assert body == '{"database": "ok", "telegram": "ok"}'  # no Redis configured: not checked
    assert len(telegram.calls("getMe")) == 1  # nobody had talked to Telegram yet: it asked


async def test_a_recent_bot_api_call_spares_the_get_me(get: Get, bot: Bot, telegram: RecordingSession) -> None:
    await bot.send_message(1001, "hello")  # the bot's own work, seen by the watch on its session
    assert (await get("/readyz"))[0] == 200
    assert (await get("/readyz"))[0] == 200
    assert telegram.calls("getMe") == []


async def test_not_ready_when_telegram_does_not_answer(get: Get, telegram: RecordingSession) -> None:
    telegram.fail_next("getMe", network_error("ClientConnectorError: connection refused"))
    status, _type, body = await get("/readyz")
    assert status == 503
    assert '"database": "ok"' in body
    assert '"telegram": "TelegramNetworkError: ' in body and "connection refused" in body
    assert (await get("/healthz"))[0] == 200  # alive all the same
    assert (await get("/readyz"))[0] == 200  # Telegram answers again


class SilentTelegram(RecordingSession):
    """A Bot API that never answers getMe."""

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if method.__api_method__ == "getMe":
            await asyncio.Event().wait()
        return await super().make_request(bot, method, timeout)


async def test_each_check_is_bounded_by_its_timeout(sqlite_engine: AsyncEngine) -> None:
    bot = Bot(token=TOKEN, session=SilentTelegram())
    readiness = Readiness(sqlite_engine, None, bot, BotApiWatch(), timeout=0.2)
    assert await readiness.check() == {"database": "ok", "telegram": "no answer within 0.2 s"}
    await bot.session.close()


async def test_not_ready_when_the_database_is_gone(tmp_path: Path, bot: Bot, watch: BotApiWatch) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'tripdesk.db'}")
    readiness = Readiness(engine, None, bot, watch)
    assert await readiness.check() == {"database": "ok", "telegram": "ok"}
    await engine.dispose()  # no pooled connection hides the loss
    shutil.rmtree(folder)
    async for get in served(readiness):
        status, _type, body = await get("/readyz")
        assert status == 503
        assert '"database": "OperationalError: ' in body and "unable to open database file" in body
        assert '"telegram": "ok"' in body
    await engine.dispose()


async def test_not_ready_when_redis_is_unreachable(sqlite_engine: AsyncEngine, bot: Bot, watch: BotApiWatch) -> None:
    async for get in served(Readiness(sqlite_engine, UNREACHABLE_REDIS, bot, watch)):
        status, _type, body = await get("/readyz")
        assert status == 503
        assert '"database": "ok"' in body and '"telegram": "ok"' in body
        assert '"redis": "ConnectionError: ' in body


async def test_ready_with_redis(sqlite_engine: AsyncEngine, bot: Bot, watch: BotApiWatch) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("Redis not configured: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    readiness = Readiness(sqlite_engine, redis_url, bot, watch)
    assert await readiness.check() == {"database": "ok", "redis": "ok", "telegram": "ok"}
    await readiness.close()


@pytest.mark.postgres
async def test_ready_on_postgresql_and_not_when_it_is_unreachable(
    pg_engine: AsyncEngine, bot: Bot, watch: BotApiWatch
) -> None:
    assert await Readiness(pg_engine, None, bot, watch).check() == {"database": "ok", "telegram": "ok"}
    gone = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    checks = await Readiness(gone, None, bot, watch).check()
    await gone.dispose()
    assert checks["telegram"] == "ok"
    assert checks["database"] != "ok" and "\n" not in checks["database"]


# ---- /metrics --------------------------------------------------------------------------------------------------


async def test_metrics_in_prometheus_text_after_updates(get: Get) -> None:
    before = sample("tripdesk_updates_total", type="message", outcome="handled")
    observe_update("message", "handled", 0.012)
    observe_update("callback_query", "throttled", None)
    status, content_type, body = await get("/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(body)}
    for name in METRIC_NAMES:
        assert name.removesuffix("_total") in families, name
    updates = {
        (s.labels["type"], s.labels["outcome"]): s.value
        for s in families["tripdesk_updates"].samples
        if s.name == "tripdesk_updates_total"
    }
    assert updates[("message", "handled")] == before + 1
    assert updates[("callback_query", "throttled")] >= 1
    with pytest.raises(ValueError, match="unknown update outcome"):
        observe_update("message", "lost", None)


# ---- the gauges from the database ------------------------------------------------------------------------------


async def fill(engine: AsyncEngine) -> None:
    """Inbox: 2 pending, 1 handling, 1 failed, 1 done. Outbox: pending due 30 s and 5 s ago, pending due later,
    sending, sent, dead. Desk: 2 open cards, 1 resolved."""
    inbox = [(1, "pending"), (2, "pending"), (3, "handling"), (4, "failed"), (5, "done")]
    sqlite = engine.dialect.name == "sqlite"  # naive UTC text there, as UtcDateTime stores it
    async with session_factory(engine)() as db, db.begin():
        for update_id, status in inbox:  # the columns every version of the table has
            await db.execute(
                text(
                    "INSERT INTO inbox (update_id, payload, received_at, status, attempts)"
                    " VALUES (:id, '{}', :at, :status, 0)"
                ),
                {"id": update_id, "at": NOW.replace(tzinfo=None) if sqlite else NOW, "status": status},
            )
        outbox = [("pending", -30), ("pending", -5), ("pending", 60), ("sending", -1), ("sent", -90), ("dead", -90)]
        db.add_all(
            OutboxRow(
                kind="team.copy",
                chat_id=7,
                payload={},
                dedup_key=f"row{number}",
                status=status,
                attempts=0,
                due_at=NOW + timedelta(seconds=due),
                created_at=NOW - timedelta(minutes=5),
            )
            for number, (status, due) in enumerate(outbox)
        )
        db.add_all(
            DeskCardRow(
                subject=f"order:{number}",
                open_subject=None if status == "resolved" else f"order:{number}",
                order_id=number,
                kinds=["organiser_silent"],
                status=status,
                opened_at=NOW,
                updated_at=NOW,
            )
            for number, status in enumerate(("open", "open", "resolved"))
        )


async def fill_rooms(engine: AsyncEngine) -> None:
    """Three waiting rooms on the seeded sessions. Open: 2 waiting, 1 stepped out (keeping the place), 1 admitted,
    1 booked, 1 whose turn passed. In the pre-queue: 2 waiting for the draw. Closed (sold out and told): 3 sold
    out, and 1 row still "waiting" (a room that is over is not counted, whatever its rows say)."""
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, NOW)
    rooms = [
        (seeded.session_id, "open", ["waiting", "waiting", "left", "admitted", "booked", "passed"]),
        (seeded.small_session_id, "pre_queue", ["waiting", "waiting"]),
        (seeded.instant_session_id, "closed", ["sold_out", "sold_out", "sold_out", "waiting"]),
    ]
    async with sessions() as db, db.begin():
        for session_id, status, places in rooms:
            db.add(
                WaitingRoomRow(
                    session_id=session_id,
                    status=status,
                    opens_at=NOW,
                    admission_window_s=300,
                    created_at=NOW,
                    summary_figures={},
                )
            )
            db.add_all(
                RoomPlaceRow(
                    session_id=session_id,
                    user_id=900 + number,
                    joined_at=NOW,
                    status=place,
                    rank=None if status == "pre_queue" else number,
                )
                for number, place in enumerate(places)
            )


async def test_state_gauges_read_the_database(engine: AsyncEngine) -> None:
    await fill(engine)
    await fill_rooms(engine)
    await StateGauges(session_factory(engine), clock=FixedClock(NOW)).refresh()
    assert sample("tripdesk_inbox_pending") == 3  # "handling" counts as not handled yet
    assert sample("tripdesk_inbox_failed") == 1
    assert sample("tripdesk_outbox_depth") == 4
    assert sample("tripdesk_outbox_oldest_due_seconds") == 30
    assert sample("tripdesk_problem_cards_open") == 2
    assert sample("tripdesk_waiting_room_length") == 5  # in line or stepped out, in the open and pre-queue rooms


async def test_state_gauges_read_only_indexes(sqlite_engine: AsyncEngine) -> None:
    """Each query is answered from an index (SQLite's plan searches one), never a scan of the table."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    await fill(sqlite_engine)
    await fill_rooms(sqlite_engine)
    event.listen(sqlite_engine.sync_engine, "before_cursor_execute", record)
    await StateGauges(session_factory(sqlite_engine), clock=FixedClock(NOW)).refresh()
    event.remove(sqlite_engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) == 5
    async with sqlite_engine.connect() as connection:
        for statement, parameters in statements:
            cursor = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = [row[-1] for row in cursor.fetchall()]
            tables = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
            assert tables and all(" INDEX " in step for step in tables), (statement, plan)


class Failures(logging.Handler):
    """Counts the gauges' failed refreshes; ``twice`` is set at the second."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.twice = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "cannot read the database" in record.getMessage():
            self.count += 1
            if self.count >= 2:
                self.twice.set()


async def test_state_gauges_survive_database_errors(tmp_path: Path, sqlite_engine: AsyncEngine) -> None:
    await fill(sqlite_engine)
    await StateGauges(session_factory(sqlite_engine), clock=FixedClock(NOW)).refresh()
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'tripdesk.db'}")
    gauges = StateGauges(session_factory(broken), interval=0.01, clock=FixedClock(NOW))
    failures = Failures()
    logging.getLogger("bot.metrics").addHandler(failures)
    stop = asyncio.Event()
    running = asyncio.create_task(gauges.run(stop))
    try:
        await asyncio.wait_for(failures.twice.wait(), 10)
    finally:
        logging.getLogger("bot.metrics").removeHandler(failures)
    assert not running.done()  # it goes on after failing, twice
    assert sample("tripdesk_outbox_depth") == 4  # the last figures stay
    stop.set()
    await asyncio.wait_for(running, 5)
    await broken.dispose()


# ---- job lag ---------------------------------------------------------------------------------------------------


def test_job_lag_is_now_minus_the_run_s_due_time() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    listener = watch_jobs(scheduler, now=lambda: NOW)
    due = [NOW - timedelta(seconds=2.5), NOW - timedelta(seconds=1)]  # two missed runs coalesced: the first counts
    listener(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "deliver_outbox", "default", due))
    assert sample("tripdesk_job_lag_seconds", job="deliver_outbox") == 2.5


async def test_job_lag_is_kept_for_a_running_scheduler() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    watch_jobs(scheduler)
    ran = asyncio.Event()
    scheduler.add_job(ran.set, "interval", seconds=0.05, id="lag_probe")
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)
    assert REGISTRY.get_sample_value("tripdesk_job_lag_seconds", {"job": "lag_probe"}) is not None


# ---- the outbox sender's counters and log fields ---------------------------------------------------------------


async def test_the_sender_counts_sent_dead_and_429s(
    sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = session_factory(sqlite_engine)
    async with sessions() as db, db.begin():
        db.add_all([copy_row(41, 0), copy_row(41, 1), copy_row(42, 0), copy_row(43, 0)])
    slow = SlowTelegram(delay=0)
    copy = CopyMessage(chat_id=41, from_chat_id=1, message_id=0)
    slow.fail[41] = [TelegramRetryAfter(method=copy, message="Too Many Requests: retry after 30", retry_after=30)]
    slow.fail[42] = [TelegramBadRequest(method=copy, message="Bad Request: chat not found")]
    before = {name: sample(name) for name in ("tripdesk_outbox_sent_total", "tripdesk_outbox_dead_total")}
    before_429 = sample("tripdesk_telegram_429_total")
    clock = FixedClock(NOW)
    sender, bot = await sender_on(sessions, slow, clock)
    assert await sender.drain() == 1  # chat 43's; 42's refused, 41's waiting out the 429
    clock.advance(seconds=31)
    assert await sender.drain() == 2
    await bot.session.close()
    assert sample("tripdesk_outbox_sent_total") - before["tripdesk_outbox_sent_total"] == 3
    assert sample("tripdesk_outbox_dead_total") - before["tripdesk_outbox_dead_total"] == 1
    assert sample("tripdesk_telegram_429_total") - before_429 == 1
    [refused] = [r for r in caplog.records if "refused by Telegram" in r.getMessage()]
    assert getattr(refused, "chat_id", None) == 42


def test_the_metrics_survive_a_second_import() -> None:
    import importlib

    counter = metrics.UPDATES
    importlib.reload(metrics)
    assert metrics.UPDATES is counter
