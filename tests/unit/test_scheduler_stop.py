"""A stop lets the job runs in hand finish instead of cancelling them (a cancelled run only rolls its item back and
is logged by APScheduler as an error)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from scheduler.jobs import RunningJobs, build_scheduler, stop_scheduler


async def test_a_stop_waits_for_the_run_in_hand(caplog: pytest.LogCaptureFixture) -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow_drain() -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.set()

    running = RunningJobs()
    scheduler = build_scheduler(slow_drain, 0.05, running=running)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    assert running.count == 1
    with caplog.at_level(logging.INFO):
        await stop_scheduler(scheduler, running, timeout=5)
    assert finished.is_set() and running.count == 0
    assert not scheduler.running
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_run_that_outlasts_the_timeout_is_cancelled_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()

    async def stuck_drain() -> None:
        started.set()
        await asyncio.sleep(60)

    running = RunningJobs()
    scheduler = build_scheduler(stuck_drain, 0.05, running=running)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        await stop_scheduler(scheduler, running, timeout=0.1)
    assert not scheduler.running
    assert [r.getMessage() for r in caplog.records if r.name == "scheduler.jobs"] == [
        "stopping: 1 job run(s) still going after 0 s are cancelled"
    ]
