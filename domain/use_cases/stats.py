"""``/stats``: one day of the desk in figures, computed from plain data (the query lives in ``bot/storage``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DayFacts:
    """What the database says about ``[start, end)``."""

    placed: int  # orders created
    paid: int  # orders paid
    revenue: Mapping[str, int]  # currency -> minor units received (applied payments)
    ended: Mapping[str, int]  # booking status -> orders that ended (cancelled, declined, expired)
    problems_opened: int
    resolve_times: Iterable[timedelta]  # of the problem cards resolved in the day
    open_problems: int  # open now


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    timezone: str
    placed: int
    paid: int
    revenue: list[tuple[str, int]]  # by currency, sorted
    cancelled: int
    declined: int
    expired: int
    problems_opened: int
    problems_resolved: int
    median_resolve: timedelta | None  # None when nothing was resolved
    open_problems: int


def day_window(now: datetime, timezone: str) -> tuple[date, datetime, datetime]:
    """Today in ``timezone``: the local date and its ``[start, end)`` in UTC."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return today, start, end


def median_duration(durations: Iterable[timedelta]) -> timedelta | None:
    seconds = [d.total_seconds() for d in durations]
    if not seconds:
        return None
    return timedelta(seconds=round(median(seconds)))


def day_stats(day: date, timezone: str, facts: DayFacts) -> DayStats:
    resolve_times = [t for t in facts.resolve_times if t >= timedelta(0)]
    return DayStats(
        day=day,
        timezone=timezone,
        placed=facts.placed,
        paid=facts.paid,
        revenue=sorted((c, amount) for c, amount in facts.revenue.items() if amount),
        cancelled=facts.ended.get("cancelled", 0),
        declined=facts.ended.get("declined", 0),
        expired=facts.ended.get("expired", 0),
        problems_opened=facts.problems_opened,
        problems_resolved=len(resolve_times),
        median_resolve=median_duration(resolve_times),
        open_problems=facts.open_problems,
    )
