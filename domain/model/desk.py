"""A problem card on the operator desk: one per subject (an order, or a tourist's unanswered question) while it has
problems (:mod:`domain.use_cases.desk` opens, updates and closes them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DIGEST_AFTER = 10  # cards posted one by one per minute; the rest of that minute goes into one digest
RERAISE_AFTER = timedelta(minutes=30)
SNOOZES = (timedelta(minutes=15), timedelta(hours=1))


class CardStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class DeskSettings:
    chat_id: int | None  # the operator chat; None: no desk (problems are still derived, no card is opened)
    reraise_after: timedelta = RERAISE_AFTER
    digest_after: int = DIGEST_AFTER


@dataclass(slots=True)
class Card:
    subject: str  # "order:<id>" or "question:<thread id>"
    kinds: list[str]
    opened_at: datetime
    updated_at: datetime
    order_id: int | None = None
    user_id: int | None = None
    status: CardStatus = CardStatus.OPEN
    taken_by: int | None = None
    taken_by_name: str | None = None
    snoozed_until: datetime | None = None
    remind_at: datetime | None = None
    reraised_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_by_name: str | None = None
    resolution: str | None = None
    last_action: dict[str, Any] | None = None
    message_id: int | None = None
    thread_id: int | None = None
    digest_id: int | None = None
    version: int = 0
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status is CardStatus.OPEN


def order_subject(order_id: int) -> str:
    return f"order:{order_id}"


def question_subject(thread_id: int) -> str:
    return f"question:{thread_id}"


def digest_window(now: datetime) -> int:
    """The minute a card opened in (minutes since the epoch): one digest per minute at most."""
    return int(now.timestamp() // 60)


@dataclass(frozen=True, slots=True)
class CardPage:
    cards: list[Card] = field(default_factory=list)
    total: int = 0
