"""What every screen is drawn with: the translator and language ports, the marker for texts translated where they
are shown, one button helper and one way to shorten a label.

The translator is a port: ``bot/i18n.py`` implements it with Babel and gettext catalogs, the Dispatcher injects it
as ``tr`` (the user's language) and ``i18n`` (every language). HTML is quoted with aiogram's own ``html.quote``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

ELLIPSIS = "…"


class Translator(Protocol):
    """Texts and formats in one language: translate first, then format (``tr.gettext("Paid until {time}")``)."""

    @property
    def language(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def money(self, amount_minor: int, currency: str) -> str: ...

    def number(self, value: int | float) -> str: ...

    def datetime(self, moment: dt.datetime, timezone: str) -> str:
        """``Tue, Dec 1, 10:00`` in the reader's language, in ``timezone``."""

    def time(self, moment: dt.datetime, timezone: str) -> str: ...

    def zoned(self, moment: dt.datetime, timezone: str, *, with_day: bool = True) -> str:
        """``Tue, Dec 1, 10:00 (Tallinn time)``: :meth:`datetime` (or only :meth:`time`) with the zone named by its
        city in the reader's language, for messages read away from the region (confirmations, reminders)."""

    def date(self, day: dt.date) -> str: ...

    def short_date(self, day: dt.date) -> str: ...

    def duration(self, value: dt.timedelta) -> str: ...

    def list(self, items: list[str]) -> str: ...

    def language_name(self, code: str) -> str:
        """A language's own name, for picking it (``Deutsch``)."""

    def language_in_mine(self, code: str) -> str:
        """A language's name in the reader's language."""

    def now_local(self, timezone: str, now: dt.datetime | None = None) -> dt.datetime: ...


class Languages(Protocol):
    """Every language we speak; :meth:`translator` for one of them (the default for any other)."""

    @property
    def languages(self) -> tuple[str, ...]: ...

    @property
    def default(self) -> str: ...

    def translator(self, language: str | None) -> Translator: ...

    def best(self, language_code: str | None) -> str:
        """``de-AT`` -> ``de``; anything we do not speak -> the default language."""


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name for "mark, translate later")
    """Marks a message for extraction (``tripdesk locales``) where it is defined, e.g. in a table of labels; it is
    translated where it is shown (``tr.gettext(label)``)."""
    return message


# the Bot API's button colours (``InlineKeyboardButton.style``): green to confirm, red to decline or cancel
CONFIRM_STYLE = "success"
CANCEL_STYLE = "danger"


def button(text: str, data: CallbackData, style: str | None = None) -> InlineKeyboardButton:
    """A callback button: ``data`` is one of our typed :class:`CallbackData` factories; ``style`` its colour where
    Telegram supports it (``primary``, ``success``, ``danger``; None: the client's own)."""
    return InlineKeyboardButton(text=text, callback_data=data.pack(), style=style)


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending in an ellipsis when shortened."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
