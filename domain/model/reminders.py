"""Rows with a due time: what the scheduler's jobs claim (the database, not the scheduler, is the source of truth).

An order reminder is about one order on one session: ``before:<seconds>@<session>`` (a reminder that long before
the start) or ``rating@<session>`` (the rating request after the end). The session is part of the kind, so a
reminder made for a session the order has since left is recognised and skipped; an order moved to another session
gets new rows (the pair order/kind is unique). A session notice is about a whole session (the participant list).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

BEFORE = "before"
RATING = "rating"
PARTICIPANTS = "participants"


class DueStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"


def before_kind(offset: timedelta, session_id: int) -> str:
    return f"{BEFORE}:{int(offset.total_seconds())}@{session_id}"


def rating_kind(session_id: int) -> str:
    return f"{RATING}@{session_id}"


def _stored(row_id: int | None, what: str) -> int:
    """A due row's storage id; :class:`ValueError` naming ``what`` when it was never stored."""
    if row_id is None:
        raise ValueError(f"{what} is not stored yet")
    return row_id


@dataclass(frozen=True, slots=True)
class Reminder:
    order_id: int
    kind: str
    due_at: datetime
    status: DueStatus = DueStatus.PENDING
    done_at: datetime | None = None
    id: int | None = None

    @property
    def stored_id(self) -> int:
        """The id storage gave it; asking a reminder that was never stored is a programming error."""
        return _stored(self.id, f"reminder {self.kind} of order {self.order_id}")

    @property
    def what(self) -> str:
        """``before`` or ``rating``."""
        return self.kind.split("@", 1)[0].split(":", 1)[0]

    @property
    def session_id(self) -> int | None:
        """The session the reminder was made for (None for a kind without one)."""
        _, _, session = self.kind.partition("@")
        return int(session) if session.isdigit() else None

    @property
    def offset(self) -> timedelta | None:
        """How long before the start a ``before`` reminder is due."""
        head = self.kind.split("@", 1)[0]
        what, _, seconds = head.partition(":")
        return timedelta(seconds=int(seconds)) if what == BEFORE and seconds.isdigit() else None


@dataclass(frozen=True, slots=True)
class SessionNotice:
    session_id: int
    kind: str
    due_at: datetime
    status: DueStatus = DueStatus.PENDING
    done_at: datetime | None = None  # when it last went out (kept when an updated list is due again)
    id: int | None = None

    @property
    def stored_id(self) -> int:
        """The id storage gave it; asking a notice that was never stored is a programming error."""
        return _stored(self.id, f"notice {self.kind} of session {self.session_id}")
