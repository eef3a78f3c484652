"""Browse windows ("today", "this weekend", a picked day) in a region's local time, returned in UTC."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UPCOMING_DAYS = 30
PICKER_DAYS = 14


class Window(enum.StrEnum):
    TODAY = "today"
    TOMORROW = "tomorrow"
    WEEKEND = "weekend"
    UPCOMING = "upcoming"
    DAY = "day"


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def browse_window(window: Window, now: datetime, timezone: str, day: date | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC; never starts in the past. A past picked day gives an empty window."""
    zone = ZoneInfo(timezone)
    today = local_today(now, timezone)
    match window:
        case Window.TODAY:
            first, days = today, 1
        case Window.TOMORROW:
            first, days = today + timedelta(days=1), 1
        case Window.WEEKEND:
            weekday = today.weekday()  # Monday 0 .. Sunday 6
            first = today if weekday >= 5 else today + timedelta(days=5 - weekday)
            days = 7 - first.weekday()  # Saturday: 2 days; Sunday: 1 day
        case Window.UPCOMING:
            first, days = today, UPCOMING_DAYS
        case Window.DAY:
            if day is None:
                raise ValueError("a picked day is needed")
            first, days = day, 1
    start = max(_midnight(first, zone), now)
    end = _midnight(first + timedelta(days=days), zone)
    return start, max(start, end)


def picker_days(now: datetime, timezone: str, count: int = PICKER_DAYS) -> list[date]:
    today = local_today(now, timezone)
    return [today + timedelta(days=i) for i in range(count)]
