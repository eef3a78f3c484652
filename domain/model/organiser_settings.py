"""What an organiser sets from their own chat (``/settings``): the booking terms the catalog also carries (hold,
confirm and pay windows, reminders, the waitlist's claim window, instant or confirmed events), the booking cutoff,
their own texts (reminder, confirmation, "what to bring") per language and the Book button.

The terms live where the catalog import writes them (the organiser and its events); the rest, which the catalog
file does not carry, is :class:`OrganiserExtras`. A change applies to bookings placed after it: an order keeps the
deadlines it was placed with.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from domain.errors import DomainError
from domain.model.catalog import BOOKING_CUTOFF, Translations

PLACEHOLDERS = ("name", "event", "time", "meeting_point", "code")
TEXT_MAX = 1000  # characters of an organiser's text, placeholders included
PLACEHOLDER_USES_MAX = 2  # each placeholder at most this often: a filled text stays well within a message
FILLED_MAX = 3000  # a filled text longer than this (it cannot be, with the rules above) shows the default wording
BOOK_TEXT_MAX = 32  # characters of the Book button's label
REMINDERS_MAX = 5


class Setting(enum.StrEnum):
    """The terms an organiser changes in ``/settings`` (also the keys of the import's bookkeeping)."""

    HOLD = "hold"
    CONFIRM_WITHIN = "confirm_within"
    PAY_WITHIN = "pay_within"
    CUTOFF = "cutoff"
    REMINDERS = "reminders"
    CLAIM_WINDOW = "claim_window"
    CONFIRMATION = "confirmation"  # per event: instant or confirmed by the organiser


@dataclass(frozen=True, slots=True)
class Bounds:
    least: timedelta
    most: timedelta


# What a duration setting accepts: long enough for a person to act, short enough to be a booking term.
BOUNDS: dict[Setting, Bounds] = {
    Setting.HOLD: Bounds(timedelta(minutes=1), timedelta(hours=24)),
    Setting.CONFIRM_WITHIN: Bounds(timedelta(minutes=1), timedelta(hours=48)),
    Setting.PAY_WITHIN: Bounds(timedelta(minutes=5), timedelta(hours=72)),
    Setting.CUTOFF: Bounds(BOOKING_CUTOFF, timedelta(days=7)),
    Setting.REMINDERS: Bounds(timedelta(minutes=10), timedelta(days=14)),
    Setting.CLAIM_WINDOW: Bounds(timedelta(minutes=1), timedelta(hours=24)),
}


class TextKind(enum.StrEnum):
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    BRING = "bring"


class ButtonStyle(enum.StrEnum):
    """The Bot API's ``InlineKeyboardButton.style``; DEFAULT: none (the client's own colour)."""

    DEFAULT = "default"
    PRIMARY = "primary"
    SUCCESS = "success"
    DANGER = "danger"


class InvalidSetting(DomainError):
    """A value an organiser typed that the setting does not take; ``reason``: ``format``, ``too_short``,
    ``too_long``, ``repeated``, ``too_many`` (with ``least``/``most`` where they apply)."""

    code = "invalid_setting"


class InvalidText(DomainError):
    """An organiser's text refused; ``reason``: ``empty``, ``too_long`` (``limit``), ``placeholder`` (``name``),
    ``repeated`` (``name``, ``limit``), ``braces``, ``html`` (``detail``)."""

    code = "invalid_text"


@dataclass(slots=True)
class OrganiserExtras:
    """The organiser's settings the catalog file does not carry."""

    organiser_id: int
    booking_cutoff: timedelta = BOOKING_CUTOFF
    texts: dict[str, Translations] = field(default_factory=dict)  # TextKind value -> {language: text}
    book_text: Translations = field(default_factory=dict)
    book_style: ButtonStyle = ButtonStyle.DEFAULT

    def text(self, kind: TextKind, language: str) -> str | None:
        """The organiser's own text of ``kind`` in ``language``; None: the default wording applies."""
        return self.texts.get(kind.value, {}).get(language) or None

    def set_text(self, kind: TextKind, language: str, text: str | None) -> None:
        """Set (or, with None, remove) one language of a text."""
        texts = dict(self.texts.get(kind.value, {}))
        if text is None:
            texts.pop(language, None)
        else:
            texts[language] = text
        if texts:
            self.texts[kind.value] = texts
        else:
            self.texts.pop(kind.value, None)

    def book_label(self, language: str) -> str | None:
        return self.book_text.get(language) or None

    def snapshot(self) -> dict[str, object]:
        """For the audit log."""
        return {
            "booking_cutoff_s": int(self.booking_cutoff.total_seconds()),
            "texts": {kind: dict(t) for kind, t in self.texts.items()},
            "book_text": dict(self.book_text),
            "book_style": self.book_style.value,
        }
