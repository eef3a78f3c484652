"""Durations written like ``90s``, ``10m``, ``2h``, ``1d`` or combined (``1h30m``)."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"^(?:\d+[smhdw])+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int) -> timedelta:
    """Parse ``'90s'``, ``'10m'``, ``'2h'``, ``'1d'``, ``'1h30m'``; a bare integer means seconds.

    Raises ``ValueError`` with a short reason for anything else (empty, negative, unknown unit).
    """
    if isinstance(text, bool):
        raise ValueError("expected a duration like 90s, 10m, 2h or 1d")  # noqa: TRY004 (true/false is a bad value)
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=text)
    compact = str(text).strip().lower().replace(" ", "")
    if not compact or not _WHOLE.match(compact):
        raise ValueError(f"{text!r} is not a duration like 90s, 10m, 2h or 1d")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of :func:`parse_duration`, in the largest exact units (``5400s`` -> ``1h30m``)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
