"""Offers (issue 15): a message operators send with ``/offer`` to a segment of guests, each in their language.

An :class:`Offer` has its text per language (English required; a language without its own text falls back to it),
optionally an event (the message carries its button) and a discount code (domain/model/discount_codes.py, created
with it), a :class:`Segment` and ``valid_until``: until then guests see it on their Offers screen. It is *sending*
until the delivery job has gone through the whole segment (in batches, one transaction each: a large segment never
holds the database for long), then *sent*. Never to a guest who turned offers off or blocked the bot, never twice to
the same guest (a unique key per offer and guest).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import DomainError

SOURCE_LANGUAGE = "en"
MAX_TEXT = 2000  # characters of an offer's text (a message carries 4096, with the event and the code around it)
MAX_DAYS = 90  # the longest an offer (and its code) is current
MAX_BOOKED_WITHIN_DAYS = 730
# The offers go out at this pace at most (messages per second, through the outbox): a third of Telegram's overall
# ~30/s, so booking messages made meanwhile keep the rest and never queue behind a large segment.
OFFERS_PER_SECOND = 10


class OfferStatus(enum.StrEnum):
    SENDING = "sending"
    SENT = "sent"


class OfferTextMissing(DomainError):
    """An offer needs its English text."""

    code = "offer_text_missing"


class OfferTextTooLong(DomainError):
    code = "offer_text_too_long"


class InvalidSegment(DomainError):
    """A segment with a value that cannot be (``field``)."""

    code = "offer_invalid_segment"


class EmptySegment(DomainError):
    """The segment reaches nobody (right now): nothing to send."""

    code = "offer_empty_segment"


class InvalidValidity(DomainError):
    code = "offer_invalid_validity"


@dataclass(frozen=True, slots=True)
class Segment:
    """Who gets an offer: every guest matching all the parts given (an empty part matches everyone).

    ``region_ids``: the region the guest last browsed or their hotel's; ``categories``: the guest booked an event of
    one of them before (confirmed or attended); ``booked_within_days``: the guest booked anything in the last N days.
    """

    region_ids: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    hotel_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    booked_within_days: int | None = None

    def __post_init__(self) -> None:
        days = self.booked_within_days
        if days is not None and not 0 < days <= MAX_BOOKED_WITHIN_DAYS:
            raise InvalidSegment(field="days")

    @property
    def everyone(self) -> bool:
        return not (self.region_ids or self.languages or self.hotel_ids or self.categories or self.booked_within_days)

    def booked_since(self, now: datetime) -> datetime | None:
        return None if self.booked_within_days is None else now - timedelta(days=self.booked_within_days)

    def as_json(self) -> dict[str, Any]:
        return {
            "region_ids": list(self.region_ids),
            "languages": list(self.languages),
            "hotel_ids": list(self.hotel_ids),
            "categories": list(self.categories),
            "booked_within_days": self.booked_within_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            region_ids=tuple(int(i) for i in data.get("region_ids", ())),
            languages=tuple(str(x) for x in data.get("languages", ())),
            hotel_ids=tuple(int(i) for i in data.get("hotel_ids", ())),
            categories=tuple(str(x) for x in data.get("categories", ())),
            booked_within_days=data.get("booked_within_days"),
        )


def offer_texts(texts: dict[str, str]) -> dict[str, str]:
    """The texts an offer keeps: trimmed, empty ones left out; English required, none too long."""
    kept = {language: text.strip() for language, text in texts.items() if text and text.strip()}
    if SOURCE_LANGUAGE not in kept:
        raise OfferTextMissing()
    if any(len(text) > MAX_TEXT for text in kept.values()):
        raise OfferTextTooLong(limit=MAX_TEXT)
    return kept


@dataclass(slots=True)
class Offer:
    texts: dict[str, str]  # language -> text; "en" always
    segment: Segment
    created_at: datetime
    valid_until: datetime
    created_by: str  # the audit actor, "operator:<id>"
    event_id: int | None = None
    code: str | None = None  # the discount code created with it
    status: OfferStatus = OfferStatus.SENDING
    cursor: int = 0  # the delivery job has gone through the guests with ids up to this one
    recipients: int = 0  # guests it was enqueued for
    id: int | None = None

    @property
    def stored_id(self) -> int:
        if self.id is None:
            raise ValueError("offer is not stored yet")
        return self.id

    def text_for(self, language: str) -> str:
        return self.texts.get(language) or self.texts[SOURCE_LANGUAGE]

    def current(self, now: datetime) -> bool:
        return now < self.valid_until

    def delivered(self, cursor: int, count: int, done: bool) -> None:
        """The delivery job enqueued ``count`` more guests, up to user id ``cursor``; ``done``: the segment is
        through."""
        if self.status is not OfferStatus.SENDING:
            return
        self.cursor = max(self.cursor, cursor)
        self.recipients += count
        if done:
            self.status = OfferStatus.SENT
