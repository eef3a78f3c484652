"""APScheduler triggers only short interval jobs; the database holds what is due (see docs/design.md).

A job claims due rows and calls the same use cases as the handlers. ``max_instances=1`` and ``coalesce`` keep a
slow pass from piling up behind itself.

The deadline jobs (:class:`DeadlineJobs`) each run a use case of :mod:`domain.use_cases.deadlines`, which claims
one due item per transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two processes running the
same job never take the same item; SQLite runs one writer at a time), re-checks it under that lock and marks it
done in the same transaction as its effect. Nothing lives in APScheduler: a restart, a crash mid-pass or downtime
leaves the rows due, and the next pass picks them up (a reminder that no longer makes sense is recorded as skipped).

The jobs know only the domain: the application (``bot/runner.py``) injects a unit-of-work factory, the clock and
the outbox drain.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from domain.model.desk import DeskSettings
from domain.ports import Clock, UnitOfWork
from domain.use_cases import checkin, deadlines, desk, favourites, offers, waiting_room, waitlist
from domain.use_cases.sweep import DEFAULT_BATCH, Swept
from domain.use_cases.waiting_room import RoomSettings

log = logging.getLogger(__name__)

JOB_DELIVER_OUTBOX = "deliver_outbox"
JOB_NUDGE_ORGANISERS = "nudge_silent_organisers"
JOB_REMIND_UNPAID = "remind_unpaid"
JOB_EXPIRE_OVERDUE = "expire_overdue"
JOB_SEND_REMINDERS = "send_due_reminders"
JOB_PARTICIPANT_LISTS = "send_participant_lists"
JOB_SETTLE_ATTENDANCE = "settle_attendances"  # after the session: attended or no-show
JOB_CHECK_ORDERS = "check_orders_for_problems"
JOB_CHECK_QUESTIONS = "check_unanswered_questions"
JOB_RERAISE_CARDS = "reraise_problem_cards"
JOB_RUN_WAITING_ROOMS = "run_waiting_rooms"
ROOM_INTERVAL_S = 1.0  # the waiting rooms move every second at most (admission, positions within the budget)
MAX_ROOMS = 50  # rooms passed over per run
JOB_EXPIRE_WAITLIST_OFFERS = "expire_waitlist_offers"
JOB_OFFER_WAITLIST_SEATS = "offer_freed_seats"
JOB_FAVOURITE_NEW_DATES = "alert_favourite_new_dates"
JOB_FAVOURITE_SEATS = "alert_favourite_seats"
JOB_DELIVER_OFFERS = "deliver_offers"  # issue 15: an offer's segment, a batch per transaction

MAX_PASSES = 20  # per run: a backlog after downtime drains in a few runs without hogging the loop

UnitOfWorkFactory = Callable[[], UnitOfWork]  # a fresh unit of work per call
UseCase = Callable[[UnitOfWork, datetime, int], Awaitable[Swept]]
Job = Callable[[], Awaitable[object]]


class _Jobs(ABC):
    """Jobs over one database, each a method APScheduler calls on an interval; :meth:`jobs` lists them."""

    def __init__(
        self, uows: UnitOfWorkFactory, clock: Clock, batch: int = DEFAULT_BATCH, max_passes: int = MAX_PASSES
    ) -> None:
        self.uows = uows
        self.clock = clock
        self.batch = batch
        self.max_passes = max_passes

    async def _run(self, name: str, use_case: UseCase) -> Swept:
        """Passes of up to ``batch`` items while they are full and make progress."""
        total = Swept()
        for _ in range(self.max_passes):
            swept = await use_case(self.uows(), self.clock.now(), self.batch)
            total.done.extend(swept.done)
            total.skipped.extend(swept.skipped)
            total.left.extend(swept.left)
            total.failed.extend(swept.failed)
            if swept.claimed < self.batch or not (swept.done or swept.skipped):
                break
        if total.done or total.skipped or total.failed:
            log.info("%s: %d done, %d skipped, %d failed", name, len(total.done), len(total.skipped), len(total.failed))
        return total

    @abstractmethod
    def jobs(self) -> dict[str, Callable[[], Awaitable[Swept]]]:
        """Job id -> the job, in the order of a tick."""

    async def run_all(self) -> dict[str, Swept]:
        """Every job once, in order (tests, the sandbox and a manual catch-up use this)."""
        return {job_id: await job() for job_id, job in self.jobs().items()}


class DeadlineJobs(_Jobs):
    """The deadline jobs: nudges, pay reminders, expiry, the waitlist's offers (expired ones passed on, freed seats
    offered: :mod:`domain.use_cases.waitlist`), reminders before the session, participant lists."""

    async def nudge_silent_organisers(self) -> Swept:
        return await self._run(JOB_NUDGE_ORGANISERS, deadlines.nudge_silent_organisers)

    async def remind_unpaid(self) -> Swept:
        return await self._run(JOB_REMIND_UNPAID, deadlines.remind_unpaid)

    async def expire_overdue(self) -> Swept:
        return await self._run(JOB_EXPIRE_OVERDUE, deadlines.expire_overdue)

    async def send_due_reminders(self) -> Swept:
        return await self._run(JOB_SEND_REMINDERS, deadlines.send_due_reminders)

    async def expire_waitlist_offers(self) -> Swept:
        return await self._run(JOB_EXPIRE_WAITLIST_OFFERS, waitlist.expire_offers)

    async def offer_freed_seats(self) -> Swept:
        return await self._run(JOB_OFFER_WAITLIST_SEATS, waitlist.offer_freed_seats)

    async def alert_favourite_new_dates(self) -> Swept:
        return await self._run(JOB_FAVOURITE_NEW_DATES, favourites.alert_new_dates)

    async def alert_favourite_seats(self) -> Swept:
        return await self._run(JOB_FAVOURITE_SEATS, favourites.alert_seats_again)

    async def deliver_offers(self) -> Swept:
        return await self._run(JOB_DELIVER_OFFERS, offers.deliver_offers)

    async def send_participant_lists(self) -> Swept:
        return await self._run(JOB_PARTICIPANT_LISTS, deadlines.send_participant_lists)

    async def settle_attendances(self) -> Swept:
        return await self._run(JOB_SETTLE_ATTENDANCE, checkin.settle_attendances)

    def jobs(self) -> dict[str, Callable[[], Awaitable[Swept]]]:
        """Job id -> function; the order is the order of a tick (a reminder before the expiry it may precede)."""
        return {
            JOB_NUDGE_ORGANISERS: self.nudge_silent_organisers,
            JOB_REMIND_UNPAID: self.remind_unpaid,
            JOB_EXPIRE_OVERDUE: self.expire_overdue,
            # the waitlist after the expiries: seats they free are offered in the same tick
            JOB_EXPIRE_WAITLIST_OFFERS: self.expire_waitlist_offers,
            JOB_OFFER_WAITLIST_SEATS: self.offer_freed_seats,
            # the favourites' alerts after the waitlist: freed seats go to those waiting first
            JOB_FAVOURITE_NEW_DATES: self.alert_favourite_new_dates,
            JOB_FAVOURITE_SEATS: self.alert_favourite_seats,
            JOB_SETTLE_ATTENDANCE: self.settle_attendances,  # before the rating requests it decides
            JOB_SEND_REMINDERS: self.send_due_reminders,
            JOB_PARTICIPANT_LISTS: self.send_participant_lists,
            JOB_DELIVER_OFFERS: self.deliver_offers,  # last: offers wait for everything about bookings
        }


class DeskJobs(_Jobs):
    """The operator desk's jobs (:mod:`domain.use_cases.desk`): problem cards derived from the orders and question
    threads."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        desk: DeskSettings,
        batch: int = DEFAULT_BATCH,
        max_passes: int = MAX_PASSES,
    ) -> None:
        super().__init__(uows, clock, batch=batch, max_passes=max_passes)
        self.desk = desk

    async def check_orders(self) -> Swept:
        return await self._run(JOB_CHECK_ORDERS, partial(desk.check_orders, settings=self.desk))

    async def check_questions(self) -> Swept:
        return await self._run(JOB_CHECK_QUESTIONS, partial(desk.check_questions, settings=self.desk))

    async def reraise_cards(self) -> Swept:
        return await self._run(JOB_RERAISE_CARDS, partial(desk.reraise_cards, settings=self.desk))

    def jobs(self) -> dict[str, Callable[[], Awaitable[Swept]]]:
        return {
            JOB_CHECK_ORDERS: self.check_orders,
            JOB_CHECK_QUESTIONS: self.check_questions,
            JOB_RERAISE_CARDS: self.reraise_cards,
        }


class WaitingRoomJobs(_Jobs):
    """The waiting rooms of hot on-sales (:func:`domain.use_cases.waiting_room.run_room`): each run passes over every
    room with work, one transaction each, sharing the room's budget of messages: its share of the sender's rate
    (``RoomSettings.messages_per_s``) times the time since the last run. ``new_seed`` draws the seed of a pre-queue's
    draw (recorded with it)."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        settings: RoomSettings,
        new_seed: Callable[[], int] = lambda: secrets.randbits(62),
    ) -> None:
        super().__init__(uows, clock)
        self.settings = settings
        self.new_seed = new_seed
        self._last: datetime | None = None

    async def run_waiting_rooms(self) -> Swept:
        now = self.clock.now()
        elapsed = (now - self._last).total_seconds() if self._last is not None else ROOM_INTERVAL_S
        self._last = now
        budget = int(self.settings.messages_per_s * min(max(elapsed, 0.0), 2 * ROOM_INTERVAL_S))
        total = Swept()
        for _ in range(MAX_ROOMS):
            done = await waiting_room.run_room(self.uows(), now, budget, self.settings, self.new_seed, total.done)
            if done is None:
                break
            total.done.append(done.session_id)
            budget = max(0, budget - done.messages)
        return total

    def jobs(self) -> dict[str, Callable[[], Awaitable[Swept]]]:
        return {JOB_RUN_WAITING_ROOMS: self.run_waiting_rooms}


def _interval(scheduler: AsyncIOScheduler, function: Job, job_id: str, interval_s: float) -> None:
    scheduler.add_job(
        function,
        "interval",
        seconds=interval_s,
        id=job_id,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )


class RunningJobs:
    """The job runs in hand, counted from APScheduler's events (APScheduler 3 has no call that lists them), so that a
    stop can let them finish: cancelling one mid-pass only rolls its item back and logs the cancellation as an
    error."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __call__(self, event: JobSubmissionEvent | JobExecutionEvent) -> None:
        self.count += 1 if event.code == EVENT_JOB_SUBMITTED else -1
        if self.count > 0:
            self._idle.clear()
        else:
            self.count = 0
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True once no run is in hand; False if one still is after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


async def stop_scheduler(scheduler: AsyncIOScheduler, running: RunningJobs, timeout: float = 5.0) -> None:
    """No new runs; the runs in hand finish (each item is its own transaction), then the scheduler shuts down. A run
    still going after ``timeout`` is cancelled (its item stays due for the next start)."""
    scheduler.pause()
    if not await running.wait_idle(timeout):
        log.warning("stopping: %d job run(s) still going after %.0f s are cancelled", running.count, timeout)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn: let it, before the caller goes on


def build_scheduler(
    deliver_outbox: Job,
    interval_s: float,
    deadline_jobs: DeadlineJobs | None = None,
    deadline_interval_s: float | None = None,
    desk_jobs: DeskJobs | None = None,
    running: RunningJobs | None = None,
    room_jobs: WaitingRoomJobs | None = None,
) -> AsyncIOScheduler:
    """The scheduler (not started): ``deliver_outbox`` (the sender's drain, which goes on while rows are due) every
    ``interval_s``, the deadline and desk jobs every ``deadline_interval_s`` (default: ``interval_s``); its runs are
    counted in ``running`` for :func:`stop_scheduler`."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    if running is not None:
        scheduler.add_listener(running, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    _interval(scheduler, deliver_outbox, JOB_DELIVER_OUTBOX, interval_s)
    for jobs in (deadline_jobs, desk_jobs):
        for job_id, function in (jobs.jobs() if jobs else {}).items():
            _interval(scheduler, function, job_id, deadline_interval_s or interval_s)
    for job_id, function in (room_jobs.jobs() if room_jobs else {}).items():
        _interval(scheduler, function, job_id, min(ROOM_INTERVAL_S, interval_s))
    return scheduler
