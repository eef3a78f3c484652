"""APScheduler triggers only short interval jobs; the database holds what is due (see DESIGN.md).

A job claims due rows and calls the same services as the handlers. ``max_instances=1`` and ``coalesce`` keep a
slow pass from piling up behind itself.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox import OutboxSender

JOB_DELIVER_OUTBOX = "deliver_outbox"


def build_scheduler(sender: OutboxSender, interval_s: float) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        sender.deliver_due,
        "interval",
        seconds=interval_s,
        id=JOB_DELIVER_OUTBOX,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return scheduler
