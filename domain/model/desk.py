"""A problem card on the operator desk: one per subject (an order, or a tourist's unanswered question) while it has
problems (:mod:`domain.use_cases.desk` opens, updates and closes them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.errors import CardClosed, DomainError, InvalidTransition
from domain.model.messages import operator_actor

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


NO_DESK = DeskSettings(None)  # problems are derived, no card is opened


@dataclass(slots=True)
class Card:
    subject: str  # "order:<id>", "question:<thread id>" or "payment:<telegram charge id>" (no order found)
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

    def check_open(self) -> None:
        """:class:`CardClosed` (saying who resolved it and how) unless the card is open."""
        if not self.is_open:
            raise CardClosed(card=self.id, resolved_by=self.resolved_by_name, resolution=self.resolution)

    def new_version(self, now: datetime) -> None:
        """The card changed: one more version to show (each is posted or edited once)."""
        self.version += 1
        self.updated_at = now

    def record(self, actor: str, name: str, action: str, now: datetime, **extra: Any) -> None:
        """What an operator last did on the open card (shown on it; a card that closes says who closed it)."""
        self.check_open()
        self.last_action = {"actor": actor, "by": name, "action": action, "at": now.isoformat(), **extra}

    def set_kinds(self, kinds: list[str]) -> None:
        """The problems the open card shows, most urgent first."""
        self.check_open()
        self.kinds = kinds

    def take(self, operator_id: int, name: str, now: datetime) -> None:
        """Assigned to this operator (taken from whoever had it)."""
        self.record(operator_actor(operator_id), name, "take", now)
        self.taken_by, self.taken_by_name = operator_id, name

    def snooze(self, operator_id: int, name: str, snooze: timedelta, now: datetime) -> None:
        """Quiet until ``now + snooze`` (one of :data:`SNOOZES`); then raised again, even if it was raised before."""
        if snooze not in SNOOZES:
            raise DomainError(snooze=snooze.total_seconds())
        self.record(operator_actor(operator_id), name, "snooze", now, minutes=int(snooze.total_seconds() // 60))
        self.snoozed_until = now + snooze
        self.remind_at = self.snoozed_until

    def reraise(self, now: datetime) -> None:
        """Nobody resolved it by ``remind_at``: raised once more, and quiet until someone acts."""
        self.check_open()
        if self.remind_at is None or self.remind_at > now:
            raise InvalidTransition(card=self.id, remind_at=self.remind_at)
        self.remind_at = None
        self.reraised_at = now
        self.snoozed_until = None

    def repost(self) -> None:
        """Shown again as a new message (it was only in a digest, or its message was lost)."""
        self.check_open()
        self.message_id = None
        self.digest_id = None

    def resolve(self, actor: str, name: str | None, resolution: str, now: datetime) -> None:
        """Closed: by an operator, or by the desk when its problems are gone (``resolution`` says how)."""
        self.check_open()
        self.status = CardStatus.RESOLVED
        self.resolved_at = now
        self.resolved_by = actor
        self.resolved_by_name = name
        self.resolution = resolution
        self.remind_at = None


def order_subject(order_id: int) -> str:
    return f"order:{order_id}"


def question_subject(thread_id: int) -> str:
    return f"question:{thread_id}"


def payment_subject(telegram_charge_id: str) -> str:
    """A payment whose order we cannot find."""
    return f"{PAYMENT_SUBJECT}{telegram_charge_id}"


PAYMENT_SUBJECT = "payment:"


def digest_window(now: datetime) -> int:
    """The minute a card opened in (minutes since the epoch): one digest per minute at most."""
    return int(now.timestamp() // 60)


@dataclass(frozen=True, slots=True)
class CardPage:
    cards: list[Card] = field(default_factory=list)
    total: int = 0
