"""Prometheus metrics (prometheus-client, its default registry), served at ``/metrics`` (:mod:`bot.health`).

- Counters kept where things happen: updates by type and outcome (:func:`observe_update`, which also times the
  handler), outbox messages sent and dead-lettered, Telegram's 429s (the outbox sender).
- Gauges read from the database every ``interval`` seconds by :class:`StateGauges` (so every replica shows the same
  figures): the inbox's pending and failed updates, the outbox's depth and the age of its oldest due row, the open
  problem cards, the people waiting in the waiting rooms. Each is one indexed count or ``MIN`` (see
  :meth:`StateGauges.refresh`): as cheap at 1.2M orders as at 12k.
- Job lag (:func:`watch_jobs`): how late APScheduler started each job's run.

Importing this module twice (a reload, a test importing it under another name) reuses the metrics already
registered instead of failing on a duplicate name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.storage.reads import read_sessions
from bot.storage.tables import DeskCardRow, InboxRow, OutboxRow, RoomPlaceRow, WaitingRoomRow  # tables first
from domain.model.waiting_room import IN_LINE, RoomStatus
from domain.ports import Clock

log = logging.getLogger(__name__)

OUTCOMES = ("handled", "failed", "duplicate", "throttled")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
INBOX_WAITING = ("pending", "handling")  # "handling": claimed by a replica, not done yet
OUTBOX_WAITING = ("pending", "sending")  # "sending": leased by a sender
# the rooms whose line is there (a sold-out room tells its line and ends it in the same pass) and who is in a line
ROOMS_WAITING = (RoomStatus.PRE_QUEUE.value, RoomStatus.OPEN.value)
PLACES_WAITING = tuple(status.value for status in IN_LINE)  # waiting, or stepped out and keeping the place

M = TypeVar("M", bound=MetricWrapperBase)


def _metric(kind: type[M], name: str, documentation: str, **options: Any) -> M:
    """The metric, registered once in the default registry (a second import finds the first one's)."""
    try:
        return kind(name, documentation, **options)
    except ValueError:  # "Duplicated timeseries": this module was imported before
        existing = REGISTRY._names_to_collectors.get(name)  # no public lookup
        if not isinstance(existing, kind):
            raise
        return existing


UPDATES = _metric(
    Counter,
    "tripdesk_updates_total",
    "Updates by type and outcome (handled, failed, duplicate, throttled)",
    labelnames=("type", "outcome"),
)
UPDATE_SECONDS = _metric(
    Histogram,
    "tripdesk_update_seconds",
    "Time to handle an update, by type",
    labelnames=("type",),
    buckets=LATENCY_BUCKETS,
)
OUTBOX_SENT = _metric(Counter, "tripdesk_outbox_sent_total", "Outbox messages Telegram accepted")
OUTBOX_DEAD = _metric(Counter, "tripdesk_outbox_dead_total", "Outbox messages given up (dead-lettered)")
TELEGRAM_429 = _metric(Counter, "tripdesk_telegram_429_total", "Telegram's 429 Too Many Requests answers")
INBOX_PENDING = _metric(Gauge, "tripdesk_inbox_pending", "Updates stored and not handled yet")
INBOX_FAILED = _metric(Gauge, "tripdesk_inbox_failed", "Updates that could not be handled (kept for a developer)")
OUTBOX_DEPTH = _metric(Gauge, "tripdesk_outbox_depth", "Outbox messages waiting or being sent")
OUTBOX_OLDEST_DUE = _metric(
    Gauge, "tripdesk_outbox_oldest_due_seconds", "Age of the oldest outbox message that is due and waiting (0: none)"
)
OPEN_CARDS = _metric(Gauge, "tripdesk_problem_cards_open", "Open problem cards on the operator desk")
WAITING_ROOM = _metric(
    Gauge,
    "tripdesk_waiting_room_length",
    "People waiting in the waiting rooms of hot on-sales (in line or stepped out, in rooms before or after opening)",
)
JOB_LAG = _metric(
    Gauge,
    "tripdesk_job_lag_seconds",
    "How late the scheduler started the last run of each job",
    labelnames=("job",),
)


def observe_update(update_type: str, outcome: str, seconds: float | None) -> None:
    """Count one update (``outcome``: handled, failed, duplicate or throttled) and, when it was handled or failed,
    the handler's time in ``seconds``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown update outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    UPDATES.labels(type=update_type, outcome=outcome).inc()
    if seconds is not None:
        UPDATE_SECONDS.labels(type=update_type).observe(seconds)


class StateGauges:
    """The gauges that describe the database's state, refreshed every ``interval`` seconds by :meth:`run`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], interval: float = 10, clock: Clock | None = None
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.clock = clock or SystemClock()

    async def refresh(self) -> None:
        """Read the figures without a transaction (:mod:`bot.storage.reads`: on SQLite no write lock is taken).
        Each query is answered from an index (ix_inbox_status, ix_outbox_status_due_at,
        ix_desk_cards_status_remind_at, and ix_waiting_rooms_status with ix_room_places_line for the waiting rooms:
        the places of the rooms with a line, counted in the index): no table is scanned, whatever the number of
        orders or of places in rooms that are over."""
        now = self.clock.now()
        async with read_sessions(self.sessions)() as db:
            counted = await db.execute(
                select(InboxRow.status, func.count())
                .where(InboxRow.status.in_((*INBOX_WAITING, "failed")))
                .group_by(InboxRow.status)
            )
            inbox: dict[str, int] = dict(counted.all())
            depth = await db.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.status.in_(OUTBOX_WAITING))
            )
            oldest = await db.scalar(
                select(func.min(OutboxRow.due_at)).where(OutboxRow.status == "pending", OutboxRow.due_at <= now)
            )
            cards = await db.scalar(select(func.count()).select_from(DeskCardRow).where(DeskCardRow.status == "open"))
            waiting = await db.scalar(
                select(func.count())
                .select_from(WaitingRoomRow)
                .join(RoomPlaceRow, RoomPlaceRow.session_id == WaitingRoomRow.session_id)
                .where(WaitingRoomRow.status.in_(ROOMS_WAITING), RoomPlaceRow.status.in_(PLACES_WAITING))
            )
        INBOX_PENDING.set(sum(inbox.get(status, 0) for status in INBOX_WAITING))
        INBOX_FAILED.set(inbox.get("failed", 0))
        OUTBOX_DEPTH.set(depth or 0)
        OUTBOX_OLDEST_DUE.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0)
        OPEN_CARDS.set(cards or 0)
        WAITING_ROOM.set(waiting or 0)

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh now and every ``interval`` seconds until ``stop`` is set; a failed refresh is logged and the
        gauges keep their last figures until the next one succeeds."""
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as error:
                log.warning("metrics: cannot read the database's figures: %s", _one_line(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class JobLag:
    """APScheduler listener: on each submitted run, the job's lag is now minus the time the run was due (the
    earliest, when missed runs were coalesced into one)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or (lambda: datetime.now(UTC))

    def __call__(self, event: JobSubmissionEvent) -> None:
        times: Sequence[datetime] = event.scheduled_run_times or ()
        if times:
            JOB_LAG.labels(job=event.job_id).set(max(0.0, (self.now() - min(times)).total_seconds()))


def watch_jobs(scheduler: AsyncIOScheduler, now: Callable[[], datetime] | None = None) -> JobLag:
    """Keep ``tripdesk_job_lag_seconds{job}`` for every job of ``scheduler``; returns the listener added."""
    listener = JobLag(now)
    scheduler.add_listener(listener, EVENT_JOB_SUBMITTED)
    return listener
