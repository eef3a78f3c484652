"""Translations and locale formats: the :class:`handlers.ui.Translator` and :class:`handlers.ui.Languages` ports,
implemented with gettext catalogs and Babel.

Each language is one folder: ``locales/<lang>/LC_MESSAGES/messages.po`` (gettext, English message ids). The
catalogs are compiled in memory at start, so there is no build step; dates, times, numbers and money are
formatted with Babel in the region's time zone.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_timedelta, get_timezone_location
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

from domain.rules.money import to_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
CATALOG = Path("LC_MESSAGES") / "messages.po"


def available_languages(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
    """Every folder of ``locales/`` that holds a catalog is a language."""
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.name for p in directory.iterdir() if (p / CATALOG).is_file()))


def load_translations(language: str, directory: Path = LOCALES_DIR) -> Translations:
    with open(directory / language / CATALOG, "rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


class Translator:
    """Texts and formats for one language (:class:`handlers.ui.Translator`). ``_`` translates; formatting happens
    after translation."""

    def __init__(self, language: str, translations: Translations) -> None:
        self.language = language
        self._translations = translations
        self.locale = Locale.parse(language)

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    # ---- formats ------------------------------------------------------------------------------------------------

    def money(self, amount_minor: int, currency: str) -> str:
        return format_currency(to_decimal(amount_minor, currency), currency, locale=self.locale)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def datetime(self, moment: dt.datetime, timezone: str) -> str:
        """``Tue, Dec 1, 10:00`` in the reader's language, in the region's time zone."""
        local = moment.astimezone(ZoneInfo(timezone))
        return f"{format_skeleton('MMMEd', local, locale=self.locale)}, {self.time(moment, timezone)}"

    def time(self, moment: dt.datetime, timezone: str) -> str:
        return format_skeleton("Hm", moment.astimezone(ZoneInfo(timezone)), locale=self.locale)

    def zoned(self, moment: dt.datetime, timezone: str, *, with_day: bool = True) -> str:
        """``Tue, Dec 1, 10:00 (Tallinn time)``: the zone named by its exemplar city in the reader's language."""
        shown = self.datetime(moment, timezone) if with_day else self.time(moment, timezone)
        city = get_timezone_location(ZoneInfo(timezone), locale=self.locale, return_city=True)
        return self.gettext("{time} ({city} time)").format(time=shown, city=city)

    def date(self, day: dt.date) -> str:
        return format_skeleton("MMMEd", day, locale=self.locale)

    def short_date(self, day: dt.date) -> str:
        return format_skeleton("MEd", day, locale=self.locale)

    def duration(self, value: dt.timedelta) -> str:
        hours, rest = divmod(int(value.total_seconds()), 3600)
        minutes = rest // 60
        parts = []
        if hours:
            parts.append(format_timedelta(dt.timedelta(hours=hours), threshold=1, locale=self.locale))
        if minutes or not parts:
            parts.append(format_timedelta(dt.timedelta(minutes=minutes), threshold=1, locale=self.locale))
        return " ".join(parts)

    def list(self, items: list[str]) -> str:
        return format_list(items, locale=self.locale) if items else ""

    def language_name(self, code: str) -> str:
        """A language's own name, for picking it (``Deutsch``, ``русский`` -> ``Русский``)."""
        name = Locale.parse(code).get_display_name(Locale.parse(code)) or code
        return name[:1].upper() + name[1:]

    def language_in_mine(self, code: str) -> str:
        """A language's name in the reader's language (an event's languages: ``английский и русский``)."""
        return str(self.locale.languages.get(code, code))

    def now_local(self, timezone: str, now: dt.datetime | None = None) -> dt.datetime:
        return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone))


class I18n:
    """All languages of ``locales/`` (:class:`handlers.ui.Languages`); :meth:`best` picks one for a Telegram
    ``language_code``."""

    def __init__(self, default: str = "en", directory: Path = LOCALES_DIR) -> None:
        self.directory = directory
        self.languages = available_languages(directory)
        if default not in self.languages:
            raise ValueError(f"default language {default!r} has no catalog in {directory}")
        self.default = default

    @cached_property
    def _translators(self) -> dict[str, Translator]:
        return {lang: Translator(lang, load_translations(lang, self.directory)) for lang in self.languages}

    def translator(self, language: str | None) -> Translator:
        return self._translators.get(language or "", self._translators[self.default])

    def best(self, language_code: str | None) -> str:
        """``de-AT`` -> ``de``; anything we do not speak -> the default language."""
        if language_code:
            base = language_code.replace("_", "-").split("-")[0].lower()
            if base in self.languages:
                return base
        return self.default
