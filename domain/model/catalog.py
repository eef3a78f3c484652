"""The catalog as the domain sees it: regions, hotels, organisers, events and their sessions.

Catalog content (titles, descriptions, meeting points, question texts) carries its own translations as a
``{language: text}`` mapping; :func:`localized` picks the best one for a reader.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Translations = dict[str, str]

DEFAULT_CONFIRM_WITHIN = timedelta(minutes=10)
DEFAULT_PAY_WITHIN = timedelta(minutes=30)
DEFAULT_HOLD = timedelta(minutes=15)
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=2))
DEFAULT_WAITLIST_CLAIM_WINDOW = timedelta(minutes=15)  # how long a waitlist offer can be claimed

# Bookings close this long before a session starts.
BOOKING_CUTOFF = timedelta(minutes=5)


def localized(texts: Translations, language: str, fallback: str = "en") -> str:
    """The text in ``language``, else in ``fallback``, else in any language the content has."""
    if not texts:
        return ""
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()))


class Confirmation(enum.StrEnum):
    REQUIRED = "required"
    INSTANT = "instant"


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Region:
    id: int
    code: str
    timezone: str
    name: Translations


@dataclass(frozen=True, slots=True)
class Hotel:
    id: int
    code: str
    region_id: int
    name: str
    discount_percent: int = 0


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: Translations


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: Translations
    kind: QuestionKind = QuestionKind.TEXT
    required: bool = True
    max_length: int = 200
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Organiser:
    id: int
    code: str
    name: str
    chat_id: int
    language: str
    phone: str | None = None
    confirm_within: timedelta = DEFAULT_CONFIRM_WITHIN
    pay_within: timedelta = DEFAULT_PAY_WITHIN
    hold: timedelta = DEFAULT_HOLD
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    questions: tuple[Question, ...] = ()
    waitlist_claim_window: timedelta = DEFAULT_WAITLIST_CLAIM_WINDOW
    # questions the organiser removed (issue 14): no longer asked, kept so that orders placed before still show the
    # answers they gave
    retired_questions: tuple[Question, ...] = ()

    @property
    def all_questions(self) -> tuple[Question, ...]:
        """The questions asked now and the ones removed since: what an order's answers may refer to."""
        return self.questions + self.retired_questions


@dataclass(frozen=True, slots=True)
class TicketType:
    code: str  # "adult", "child", ...
    price_minor: int


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    code: str
    organiser_id: int
    region_id: int
    category: str
    title: Translations
    description: Translations
    meeting_point: Translations
    duration: timedelta
    languages: tuple[str, ...]
    currency: str
    ticket_types: tuple[TicketType, ...]
    confirmation: Confirmation = Confirmation.REQUIRED

    def ticket_type(self, code: str) -> TicketType | None:
        return next((t for t in self.ticket_types if t.code == code), None)

    @property
    def needs_confirmation(self) -> bool:
        return self.confirmation is Confirmation.REQUIRED


@dataclass(frozen=True, slots=True)
class EventSession:
    id: int
    event_id: int
    starts_at: datetime  # aware, UTC
    capacity: int
    seats_left: int
    status: SessionStatus = SessionStatus.SCHEDULED
    # a hot on-sale (issue 13): Book goes through the waiting room; the sale opens at ``sale_opens_at`` (aware,
    # UTC; None: now); an admitted tourist has ``admission_window`` to book (None: the room's default)
    hot: bool = False
    sale_opens_at: datetime | None = None
    admission_window: timedelta | None = None
    # the organiser stopped its sales (``/sessions``): nobody books it, its freed seats are not offered on
    sales_stopped: bool = False

    def bookable(self, now: datetime) -> bool:
        return (
            self.status is SessionStatus.SCHEDULED and not self.sales_stopped and self.starts_at - BOOKING_CUTOFF > now
        )


@dataclass(frozen=True, slots=True)
class EventSummary:
    """One line of a browse list: the event, one session in the window (its start and its own seats left), how
    many sessions the window holds, and the lowest price."""

    event: Event
    next_start: datetime
    sessions_in_window: int
    seats_left: int
    price_from_minor: int = field(default=0)
