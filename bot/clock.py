"""The system clock: the :class:`domain.ports.Clock` the running bot uses (tests pass their own)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
