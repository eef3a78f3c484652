"""The catalog file: validation (:func:`parse_catalog`) and the all-or-nothing upsert (:func:`import_catalog`).

The file is YAML (format in ``docs/catalog.md``). Everything is validated before the database is touched; the
upsert then runs in one transaction, so a bad file imports nothing. Entries are matched by their ``id`` (stored as
``code``), sessions by (event, start time). Rows in the database that the file does not mention are left as they are:
orders reference sessions, and a catalog file may well describe only a part of the catalog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
import yaml
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from domain.errors import InvalidPhone
from domain.model.catalog import (
    DEFAULT_CONFIRM_WITHIN,
    DEFAULT_HOLD,
    DEFAULT_PAY_WITHIN,
    DEFAULT_REMINDERS,
    Choice,
    Confirmation,
    Question,
    QuestionKind,
    SessionStatus,
    TicketType,
)
from domain.model.users import normalize_phone
from domain.rules.durations import format_duration, parse_duration
from domain.rules.money import currency_exponent, parse_amount

__all__ = [
    "Catalog",
    "CatalogError",
    "EventSpec",
    "HotelSpec",
    "ImportReport",
    "KindCounts",
    "OrganiserSpec",
    "RegionSpec",
    "SessionSpec",
    "import_catalog",
    "load_catalog",
    "local_to_utc",
    "parse_catalog",
    "read_catalog_file",
    "read_yaml",
]

# ---- the format's limits (documented in docs/catalog.md) ------------------------------------------------------

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")  # goes into 64-byte callback data
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
TICKET_RE = re.compile(r"^[a-z0-9_-]{1,16}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

NAME_MAX = 200  # hotel and organiser names (the column size)
REGION_NAME_MAX = 100
TITLE_MAX = 200
DESCRIPTION_MAX = 3000
MEETING_POINT_MAX = 500
QUESTION_TEXT_MAX = 500
CHOICE_TEXT_MAX = 64  # a button label
MAX_TICKET_TYPES = 6
MIN_CHOICES, MAX_CHOICES = 2, 10
MAX_LENGTH_RANGE = (1, 1000)
DEFAULT_MAX_LENGTH = 200
CAPACITY_RANGE = (1, 10_000)
MAX_EVENT_LANGUAGES = 10
CHAT_ID_LIMIT = 2**63

KINDS = ("regions", "hotels", "organisers", "events")


# ---- errors ----------------------------------------------------------------------------------------------------


class CatalogError(Exception):
    """The catalog cannot be imported. ``str()`` is one line: the first problem, plus how many more there are.

    ``problems`` holds every problem found, each naming the entry and the field at fault, e.g.
    ``events[2] (islands-cruise).prices.adult: "4x" is not a decimal amount such as "45.00"``.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if not self.problems:
            self.problems = ["the catalog is invalid"]
        super().__init__(self.problems[0])

    def __str__(self) -> str:
        more = len(self.problems) - 1
        return self.problems[0] + (f" (and {more} more)" if more else "")


# ---- the validated catalog -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionSpec:
    code: str
    timezone: str
    name: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class HotelSpec:
    code: str
    region: str  # a region code
    name: str
    discount_percent: int = 0


@dataclass(frozen=True, slots=True)
class OrganiserSpec:
    code: str
    name: str
    chat_id: int
    language: str
    phone: str | None = None  # E.164
    confirm_within: timedelta = DEFAULT_CONFIRM_WITHIN
    pay_within: timedelta = DEFAULT_PAY_WITHIN
    hold: timedelta = DEFAULT_HOLD
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionSpec:
    starts_at: datetime  # naive: local time of the event's region; aware: an explicit offset was written
    capacity: int
    status: SessionStatus | None = None  # None: "scheduled" for a new session, unchanged for an existing one

    @property
    def label(self) -> str:
        return self.starts_at.isoformat(timespec="minutes")


@dataclass(frozen=True, slots=True)
class EventSpec:
    code: str
    organiser: str  # an organiser code
    region: str  # a region code
    category: str
    title: Mapping[str, str]
    duration: timedelta
    languages: tuple[str, ...]
    currency: str
    prices: tuple[TicketType, ...]
    description: Mapping[str, str] = field(default_factory=dict)
    meeting_point: Mapping[str, str] = field(default_factory=dict)
    confirmation: Confirmation = Confirmation.REQUIRED
    sessions: tuple[SessionSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    regions: tuple[RegionSpec, ...] = ()
    hotels: tuple[HotelSpec, ...] = ()
    organisers: tuple[OrganiserSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()

    @property
    def session_count(self) -> int:
        return sum(len(e.sessions) for e in self.events)


# ---- the report ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class ImportReport:
    regions: KindCounts = KindCounts()
    hotels: KindCounts = KindCounts()
    organisers: KindCounts = KindCounts()
    events: KindCounts = KindCounts()
    sessions: KindCounts = KindCounts()

    @property
    def changed(self) -> bool:
        return any(getattr(self, f.name).created or getattr(self, f.name).updated for f in fields(self))

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            f.name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for f in fields(self)
            for c in (getattr(self, f.name),)
        }

    def summary(self) -> str:
        """One line, e.g. ``regions 2 created, 0 updated, 0 unchanged; hotels 3 created, ...``."""
        return "; ".join(
            f"{name} {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for name, c in self.as_dict().items()
        )


# ---- reading ---------------------------------------------------------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CatalogLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """``yaml.safe_load`` that refuses a key written twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"the key {key_node.value!r} appears twice",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str, source: str = "<string>") -> object:
    """The YAML document in ``text``; a YAML error becomes a :class:`CatalogError` naming ``source`` and the line.

    PyYAML's C loader (libyaml) is used when present: it is several times faster, and it reads texts such as
    ``{en: Where shall we pick you up?, ...}`` that the pure-Python loader refuses (a ``?`` in flow context).
    """
    try:
        return yaml.load(text, Loader=_CatalogLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        what = exc.problem or exc.context or "invalid YAML"
        raise CatalogError(f"{where}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: invalid YAML: {exc}") from None


def read_catalog_file(path: Path | str) -> object:
    """The YAML document of ``path``; unreadable files and YAML errors become a :class:`CatalogError` naming
    the file and, for YAML errors, the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    return read_yaml(text, str(path))


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a catalog file without touching the database (``tripdesk import --check`` material)."""
    return parse_catalog(read_catalog_file(path))


# ---- validation ------------------------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as the message quotes it: strings in double quotes, YAML spellings for the rest."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '…"'
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _bool_key_hint(value: object) -> str:
    # YAML 1.1 reads unquoted no/yes/on/off/y/n as booleans; Norwegian "no" is the classic casualty.
    return ' (YAML reads unquoted no/yes/on/off as true/false: write "no" in quotes)' if isinstance(value, bool) else ""


def _label(kind: str, index: int, raw: object) -> str:
    code = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(code, str | int) and not isinstance(code, bool):
        return f"{kind}[{index}] ({code})"
    return f"{kind}[{index}]"


class _Checker:
    """Collects problems while validating; every check returns the clean value or ``None`` after reporting."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # structure

    def entry(self, value: object, where: str, required: Iterable[str], optional: Iterable[str]) -> dict | None:
        if not isinstance(value, Mapping):
            self.fail(where, f"expected a mapping of fields, got {_show(value)}")
            return None
        required, optional = tuple(required), tuple(optional)
        allowed = set(required) | set(optional)
        ok = True
        for key in value:
            if key not in allowed:
                expected = ", ".join((*required, *optional))
                self.fail(f"{where}.{key}", f"unknown field{_bool_key_hint(key)} (expected one of: {expected})")
                ok = False
        for key in required:
            if key not in value or value[key] is None:
                self.fail(f"{where}.{key}", "missing (required)")
                ok = False
        return dict(value) if ok else None

    def items(self, value: object, where: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {_show(value)}")
            return []
        return value

    # scalars

    def code(self, value: object, where: str, pattern: re.Pattern[str] = CODE_RE, what: str = "an id") -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not pattern.match(value):
            rule = {
                CODE_RE: "1-60 characters a-z 0-9 _ -, starting with a letter or digit",
                CATEGORY_RE: "1-24 characters a-z 0-9 -, starting with a letter or digit",
                TICKET_RE: "1-16 characters a-z 0-9 _ -",
            }[pattern]
            self.fail(where, f"{_show(value)} is not {what} ({rule})")
            return None
        return value

    def language(self, value: object, where: str) -> str | None:
        if not isinstance(value, str) or not LANGUAGE_RE.match(value):
            self.fail(where, f"{_show(value)} is not a language code like en, ru, de, et{_bool_key_hint(value)}")
            return None
        return value

    def text(self, value: object, where: str, limit: int) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"expected non-empty text, got {_show(value)}")
            return None
        value = value.strip()
        if len(value) > limit:
            self.fail(where, f"text of {len(value)} characters is longer than {limit}")
            return None
        return value

    def translations(self, value: object, where: str, limit: int) -> dict[str, str] | None:
        if not isinstance(value, Mapping) or not value:
            self.fail(where, f"expected translations such as {{en: ..., ru: ...}}, got {_show(value)}")
            return None
        result: dict[str, str] = {}
        for lang, text in value.items():
            if not isinstance(lang, str) or not LANGUAGE_RE.match(lang):
                self.fail(
                    f"{where}.{lang}", f"{_show(lang)} is not a language code like en, ru, de, et{_bool_key_hint(lang)}"
                )
                continue
            clean = self.text(text, f"{where}.{lang}", limit)
            if clean is not None:
                result[lang] = clean
        return result if len(result) == len(value) else None

    def integer(self, value: object, where: str, low: int, high: int) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(where, f"expected a whole number from {low} to {high}, got {_show(value)}")
            return None
        if not low <= value <= high:
            self.fail(where, f"{value} is out of range ({low}..{high})")
            return None
        return value

    def duration(self, value: object, where: str) -> timedelta | None:
        try:
            if isinstance(value, float):
                raise ValueError
            result = parse_duration(value)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            self.fail(where, f"{_show(value)} is not a duration like 90s, 10m, 2h, 1d or 1h30m")
            return None
        if result <= timedelta(0):
            self.fail(where, "a duration must be longer than zero")
            return None
        return result

    def amount(self, value: object, where: str, currency: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(where, f'{_show(value)} is not a decimal amount such as "45.00"')
            return None
        try:
            return parse_amount(value, currency)
        except ValueError:
            pass
        text = repr(value) if isinstance(value, float) else str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.fail(where, f'{_show(value)} is not a decimal amount such as "45.00"')
        elif number < 0:
            self.fail(where, f"{_show(value)} is negative")
        else:
            exponent = currency_exponent(currency)
            self.fail(where, f"{_show(value)} has more than {exponent} decimal places for {currency}")
        return None

    def choice(self, value: object, where: str, options: Sequence[str]) -> str | None:
        if value not in options or not isinstance(value, str):
            self.fail(where, f"{_show(value)} is not one of: {', '.join(options)}")
            return None
        return value

    def unique(self, values: Iterable[tuple[str, str]], what: str) -> None:
        """``values`` are (code, where) pairs; report every repeat with the place of the first."""
        first: dict[str, str] = {}
        for code, where in values:
            if code in first:
                self.fail(where, f"duplicate {what} {_show(code)} (first at {first[code]})")
            else:
                first[code] = where


@cache
def _zone_keys() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(key: str) -> ZoneInfo | None:
    keys = _zone_keys()
    if keys and key not in keys:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as aware UTC. Ambiguous times (the repeated hour in autumn) take the first
    occurrence; times that do not exist (the skipped hour in spring) raise ``ValueError``."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    utc = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError(f"{local.isoformat(timespec='minutes')} does not exist in {zone.key} (clocks skip it)")
    return utc


def _parse_region(c: _Checker, raw: object, where: str) -> RegionSpec | None:
    entry = c.entry(raw, where, ("id", "timezone", "name"), ())
    if entry is None:
        return None
    code = c.code(entry["id"], f"{where}.id")
    name = c.translations(entry["name"], f"{where}.name", REGION_NAME_MAX)
    timezone = entry["timezone"]
    if not isinstance(timezone, str) or _zone(timezone) is None:
        c.fail(f"{where}.timezone", f"{_show(timezone)} is not a time zone such as Europe/Tallinn")
        timezone = None
    if code is None or name is None or timezone is None:
        return None
    return RegionSpec(code=code, timezone=timezone, name=name)


def _parse_hotel(c: _Checker, raw: object, where: str) -> HotelSpec | None:
    entry = c.entry(raw, where, ("id", "region", "name"), ("discount_percent",))
    if entry is None:
        return None
    code = c.code(entry["id"], f"{where}.id")
    region = c.code(entry["region"], f"{where}.region", what="a region id")
    name = c.text(entry["name"], f"{where}.name", NAME_MAX)
    discount = c.integer(entry.get("discount_percent", 0), f"{where}.discount_percent", 0, 100)
    if None in (code, region, name, discount):
        return None
    return HotelSpec(code=code, region=region, name=name, discount_percent=discount)  # type: ignore[arg-type]


def _parse_choice(c: _Checker, raw: object, where: str) -> Choice | None:
    entry = c.entry(raw, where, ("id", "text"), ())
    if entry is None:
        return None
    code = c.code(entry["id"], f"{where}.id", what="a choice id")
    text = c.translations(entry["text"], f"{where}.text", CHOICE_TEXT_MAX)
    return None if code is None or text is None else Choice(id=code, text=text)


def _parse_question(c: _Checker, raw: object, where: str) -> Question | None:
    entry = c.entry(raw, where, ("id", "text"), ("kind", "required", "max_length", "choices"))
    if entry is None:
        return None
    code = c.code(entry["id"], f"{where}.id", what="a question id")
    text = c.translations(entry["text"], f"{where}.text", QUESTION_TEXT_MAX)
    kind = c.choice(entry.get("kind", "text"), f"{where}.kind", [k.value for k in QuestionKind])
    required = entry.get("required", True)
    if not isinstance(required, bool):
        c.fail(f"{where}.required", f"expected true or false, got {_show(required)}")
        required = None
    max_length = c.integer(entry.get("max_length", DEFAULT_MAX_LENGTH), f"{where}.max_length", *MAX_LENGTH_RANGE)
    choices: list[Choice] = []
    choices_ok = True
    if kind == QuestionKind.CHOICE:
        raw_choices = entry.get("choices")
        if not isinstance(raw_choices, list) or not MIN_CHOICES <= len(raw_choices) <= MAX_CHOICES:
            count = f"{len(raw_choices)}" if isinstance(raw_choices, list) else _show(raw_choices)
            c.fail(f"{where}.choices", f"a choice question needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {count}")
            choices_ok = False
        else:
            for i, raw_choice in enumerate(raw_choices):
                choice = _parse_choice(c, raw_choice, f"{where}.choices[{i}]")
                if choice is None:
                    choices_ok = False
                else:
                    choices.append(choice)
            before = len(c.problems)
            c.unique(((ch.id, f"{where}.choices[{i}].id") for i, ch in enumerate(choices)), "choice id")
            choices_ok = choices_ok and len(c.problems) == before
    elif kind is not None and "choices" in entry:
        c.fail(f"{where}.choices", "only a question of kind: choice has choices")
        choices_ok = False
    if None in (code, text, kind, required, max_length) or not choices_ok:
        return None
    return Question(
        id=code,  # type: ignore[arg-type]
        text=text,  # type: ignore[arg-type]
        kind=QuestionKind(kind),
        required=required,  # type: ignore[arg-type]
        max_length=max_length,  # type: ignore[arg-type]
        choices=tuple(choices),
    )


def _parse_organiser(c: _Checker, raw: object, where: str) -> OrganiserSpec | None:
    entry = c.entry(
        raw,
        where,
        ("id", "name", "chat_id", "language"),
        ("phone", "confirm_within", "pay_within", "hold", "reminders", "questions"),
    )
    if entry is None:
        return None
    ok = True
    code = c.code(entry["id"], f"{where}.id")
    name = c.text(entry["name"], f"{where}.name", NAME_MAX)
    chat_id = entry["chat_id"]
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id == 0 or abs(chat_id) >= CHAT_ID_LIMIT:
        c.fail(f"{where}.chat_id", f"expected a Telegram chat id (a non-zero whole number), got {_show(chat_id)}")
        ok = False
    language = c.language(entry["language"], f"{where}.language")
    phone = entry.get("phone")
    if phone is not None and phone != "":
        if isinstance(phone, bool) or not isinstance(phone, str | int):
            c.fail(f"{where}.phone", f'expected a phone number such as "+3725550001", got {_show(phone)}')
            ok = False
        else:
            clean = _organiser_phone(str(phone))
            if clean is not None:
                phone = clean
            else:
                c.fail(
                    f"{where}.phone",
                    f"{_show(str(phone))} is not a valid international phone number "
                    '(write it with the country code, e.g. "+3725550001")',
                )
                ok = False
    else:
        phone = None
    confirm_within = c.duration(entry.get("confirm_within", "10m"), f"{where}.confirm_within")
    pay_within = c.duration(entry.get("pay_within", "30m"), f"{where}.pay_within")
    hold = c.duration(entry.get("hold", "15m"), f"{where}.hold")
    raw_reminders = entry.get("reminders", ["24h", "2h"])
    reminders: list[timedelta] = []
    if not isinstance(raw_reminders, list):
        c.fail(f"{where}.reminders", f"expected a list of durations such as [24h, 2h], got {_show(raw_reminders)}")
        ok = False
    else:
        for i, raw_reminder in enumerate(raw_reminders):
            reminder = c.duration(raw_reminder, f"{where}.reminders[{i}]")
            if reminder is None:
                ok = False
            elif reminder in reminders:
                c.fail(f"{where}.reminders[{i}]", f"{format_duration(reminder)} is listed twice")
                ok = False
            else:
                reminders.append(reminder)
    questions: list[Question] = []
    for i, raw_question in enumerate(c.items(entry.get("questions"), f"{where}.questions")):
        question = _parse_question(c, raw_question, f"{where}.questions[{i}] ({_label_id(raw_question)})")
        if question is None:
            ok = False
        else:
            questions.append(question)
    before = len(c.problems)
    c.unique(((q.id, f"{where}.questions[{i}].id") for i, q in enumerate(questions)), "question id")
    ok = ok and len(c.problems) == before
    if not ok or None in (code, name, language, confirm_within, pay_within, hold):
        return None
    return OrganiserSpec(
        code=code,  # type: ignore[arg-type]
        name=name,  # type: ignore[arg-type]
        chat_id=chat_id,
        language=language,  # type: ignore[arg-type]
        phone=phone,
        confirm_within=confirm_within,  # type: ignore[arg-type]
        pay_within=pay_within,  # type: ignore[arg-type]
        hold=hold,  # type: ignore[arg-type]
        reminders=tuple(sorted(reminders, reverse=True)),
        questions=tuple(questions),
    )


def _organiser_phone(raw: str) -> str | None:
    """E.164 via :func:`normalize_phone`; failing that, a number of a possible length for its country is kept
    too (the design's own sample ``+3725550001`` is one): operators dial it, the bot never texts it."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        pass
    text = raw.strip()
    try:
        number = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _label_id(raw: object) -> str:
    code = raw.get("id") if isinstance(raw, Mapping) else None
    return str(code) if code is not None else "?"


def _parse_start(c: _Checker, value: object, where: str) -> datetime | None:
    hint = "expected a local date and time such as 2026-12-01T10:00"
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        c.fail(where, f"{hint}, got only a date ({value.isoformat()})")
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) <= 10:  # a bare date would silently mean midnight
                raise ValueError
            return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            pass
    c.fail(where, f"{hint}, got {_show(value)}")
    return None


def _parse_session(c: _Checker, raw: object, where: str) -> SessionSpec | None:
    entry = c.entry(raw, where, ("starts_at", "capacity"), ("status",))
    if entry is None:
        return None
    starts_at = _parse_start(c, entry["starts_at"], f"{where}.starts_at")
    capacity = c.integer(entry["capacity"], f"{where}.capacity", *CAPACITY_RANGE)
    status = None
    if "status" in entry:
        status = c.choice(entry["status"], f"{where}.status", [s.value for s in SessionStatus])
        if status is None:
            return None
    if starts_at is None or capacity is None:
        return None
    return SessionSpec(starts_at=starts_at, capacity=capacity, status=SessionStatus(status) if status else None)


def _session_where(event_where: str, index: int, raw: object) -> str:
    start = raw.get("starts_at") if isinstance(raw, Mapping) else None
    if isinstance(start, datetime):
        start = start.isoformat(timespec="minutes")
    elif isinstance(start, date):
        start = start.isoformat()
    return f"{event_where}.sessions[{index}]" + (f" ({start})" if isinstance(start, str) else "")


def _parse_event(c: _Checker, raw: object, where: str, zones: Mapping[str, ZoneInfo]) -> EventSpec | None:
    entry = c.entry(
        raw,
        where,
        ("id", "organiser", "region", "category", "title", "duration", "languages", "currency", "prices"),
        ("description", "meeting_point", "confirmation", "sessions"),
    )
    if entry is None:
        return None
    ok = True
    code = c.code(entry["id"], f"{where}.id")
    organiser = c.code(entry["organiser"], f"{where}.organiser", what="an organiser id")
    region = c.code(entry["region"], f"{where}.region", what="a region id")
    category = c.code(entry["category"], f"{where}.category", CATEGORY_RE, what="a category")
    title = c.translations(entry["title"], f"{where}.title", TITLE_MAX)
    description: dict[str, str] | None = {}
    if entry.get("description") is not None:
        description = c.translations(entry["description"], f"{where}.description", DESCRIPTION_MAX)
    meeting_point: dict[str, str] | None = {}
    if entry.get("meeting_point") is not None:
        meeting_point = c.translations(entry["meeting_point"], f"{where}.meeting_point", MEETING_POINT_MAX)
    duration = c.duration(entry["duration"], f"{where}.duration")

    languages: list[str] = []
    raw_languages = entry["languages"]
    if not isinstance(raw_languages, list) or not 1 <= len(raw_languages) <= MAX_EVENT_LANGUAGES:
        c.fail(
            f"{where}.languages",
            f"expected a list of 1 to {MAX_EVENT_LANGUAGES} language codes such as "
            f"[en, ru], got {_show(raw_languages)}",
        )
        ok = False
    else:
        for i, raw_language in enumerate(raw_languages):
            language = c.language(raw_language, f"{where}.languages[{i}]")
            if language is None:
                ok = False
            elif language in languages:
                c.fail(f"{where}.languages[{i}]", f"{_show(language)} is listed twice")
                ok = False
            else:
                languages.append(language)

    currency = entry["currency"]
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        c.fail(f"{where}.currency", f"{_show(currency)} is not a currency code such as EUR (3 capital letters)")
        currency = None

    prices: list[TicketType] = []
    raw_prices = entry["prices"]
    if not isinstance(raw_prices, Mapping) or not 1 <= len(raw_prices) <= MAX_TICKET_TYPES:
        count = f"{len(raw_prices)} ticket types" if isinstance(raw_prices, Mapping) else _show(raw_prices)
        c.fail(
            f"{where}.prices",
            f'expected 1 to {MAX_TICKET_TYPES} ticket types such as {{adult: "45.00", child: "25.00"}}, got {count}',
        )
        ok = False
    else:
        for ticket, raw_price in raw_prices.items():
            ticket_code = c.code(ticket, f"{where}.prices.{ticket}", TICKET_RE, what="a ticket type")
            price = c.amount(raw_price, f"{where}.prices.{ticket}", currency) if currency else None
            if ticket_code is None or price is None:
                ok = False
            else:
                prices.append(TicketType(code=ticket_code, price_minor=price))

    confirmation = c.choice(
        entry.get("confirmation", Confirmation.REQUIRED.value), f"{where}.confirmation", [x.value for x in Confirmation]
    )

    sessions: list[SessionSpec] = []
    seen: dict[datetime, str] = {}
    zone = zones.get(region) if region else None
    for i, raw_session in enumerate(c.items(entry.get("sessions"), f"{where}.sessions")):
        session_where = _session_where(where, i, raw_session)
        session = _parse_session(c, raw_session, session_where)
        if session is None:
            ok = False
            continue
        key = session.starts_at
        if zone is not None:  # the region is in this file: check the local time now (else: at import)
            try:
                key = local_to_utc(session.starts_at, zone)
            except ValueError as exc:
                c.fail(f"{session_where}.starts_at", str(exc))
                ok = False
                continue
        if key in seen:
            c.fail(f"{session_where}.starts_at", f"a second session at the same time (first at {seen[key]})")
            ok = False
            continue
        seen[key] = session_where
        sessions.append(session)

    if not ok or None in (
        code,
        organiser,
        region,
        category,
        title,
        description,
        meeting_point,
        duration,
        currency,
        confirmation,
    ):
        return None
    return EventSpec(
        code=code,  # type: ignore[arg-type]
        organiser=organiser,  # type: ignore[arg-type]
        region=region,  # type: ignore[arg-type]
        category=category,  # type: ignore[arg-type]
        title=title,  # type: ignore[arg-type]
        description=description,  # type: ignore[arg-type]
        meeting_point=meeting_point,  # type: ignore[arg-type]
        duration=duration,  # type: ignore[arg-type]
        languages=tuple(languages),
        currency=currency,  # type: ignore[arg-type]
        prices=tuple(prices),
        confirmation=Confirmation(confirmation),
        sessions=tuple(sessions),
    )


def parse_catalog(data: object) -> Catalog:
    """Validate a YAML-loaded catalog into a :class:`Catalog`; no database. Raises :class:`CatalogError` listing
    every problem found. References to entries not in the file (an event's organiser, say) are checked by
    :func:`import_catalog`, which can also see the database."""
    c = _Checker()
    if data is None:
        raise CatalogError("the catalog is empty: expected a mapping with regions, hotels, organisers and events")
    if not isinstance(data, Mapping):
        raise CatalogError(
            f"the catalog: expected a mapping with regions, hotels, organisers and events, got {_show(data)}"
        )
    for key in data:
        if key not in KINDS:
            c.fail(str(key), f"unknown section (expected: {', '.join(KINDS)})")

    def section(kind: str, parse: Callable[[_Checker, object, str], Any]) -> list[Any]:
        specs = []
        labels = []
        for i, raw in enumerate(c.items(data.get(kind), kind)):
            where = _label(kind, i, raw)
            spec = parse(c, raw, where)
            if spec is not None:
                specs.append(spec)
                labels.append((spec.code, f"{where}.id"))
        c.unique(labels, f"{kind[:-1]} id")
        return specs

    regions = section("regions", _parse_region)
    zones = {r.code: ZoneInfo(r.timezone) for r in regions}
    hotels = section("hotels", _parse_hotel)
    organisers = section("organisers", _parse_organiser)
    events = section("events", lambda ch, raw, where: _parse_event(ch, raw, where, zones))
    if c.problems:
        raise CatalogError(c.problems)
    return Catalog(regions=tuple(regions), hotels=tuple(hotels), organisers=tuple(organisers), events=tuple(events))


# ---- the upsert ------------------------------------------------------------------------------------------------


def _question_dict(question: Question) -> dict[str, Any]:
    """The ``organisers.questions`` JSON shape read back by ``repositories.question_from_dict``."""
    return {
        "id": question.id,
        "text": dict(question.text),
        "kind": question.kind.value,
        "required": question.required,
        "max_length": question.max_length,
        "choices": [{"id": ch.id, "text": dict(ch.text)} for ch in question.choices],
    }


def _region_values(spec: RegionSpec) -> dict[str, Any]:
    return {"timezone": spec.timezone, "name": dict(spec.name)}


def _hotel_values(spec: HotelSpec, region_id: int) -> dict[str, Any]:
    return {
        "region_id": region_id,
        "name": spec.name,
        "search_name": spec.name.casefold()[:NAME_MAX],
        "discount_percent": spec.discount_percent,
    }


def _organiser_values(spec: OrganiserSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "chat_id": spec.chat_id,
        "language": spec.language,
        "phone": spec.phone,
        "confirm_within_s": int(spec.confirm_within.total_seconds()),
        "pay_within_s": int(spec.pay_within.total_seconds()),
        "hold_s": int(spec.hold.total_seconds()),
        "reminders_s": [int(r.total_seconds()) for r in spec.reminders],
        "questions": [_question_dict(q) for q in spec.questions],
    }


def _event_values(spec: EventSpec, organiser_id: int, region_id: int) -> dict[str, Any]:
    return {
        "organiser_id": organiser_id,
        "region_id": region_id,
        "category": spec.category,
        "title": dict(spec.title),
        "description": dict(spec.description),
        "meeting_point": dict(spec.meeting_point),
        "duration_s": int(spec.duration.total_seconds()),
        "languages": list(spec.languages),
        "currency": spec.currency,
        "prices": [{"code": t.code, "price_minor": t.price_minor} for t in spec.prices],
        "confirmation": spec.confirmation.value,
    }


async def _existing(s: AsyncSession, row: type, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every row of ``row``'s table as ``{code: {"id": ..., column: value}}``: one SELECT per kind."""
    table = row.__table__  # type: ignore[attr-defined]
    result = await s.execute(select(table.c.id, table.c.code, *(table.c[name] for name in columns)))
    return {r.code: r._asdict() for r in result}


async def _write(
    s: AsyncSession, row: type, wanted: Sequence[tuple[str, dict[str, Any]]], existing: Mapping[str, dict[str, Any]]
) -> tuple[KindCounts, dict[str, int]]:
    """Insert the new codes and update the changed ones in bulk (Core executemany, no ORM objects); return the
    counts and the id of every code in ``wanted``."""
    table = row.__table__  # type: ignore[attr-defined]
    ids: dict[str, int] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for code, values in wanted:
        old = existing.get(code)
        if old is None:
            inserts.append({"code": code, **values})
            continue
        ids[code] = old["id"]
        if any(old[name] != value for name, value in values.items()):
            updates.append({"row_id": old["id"], **values})
        else:
            unchanged += 1
    if inserts:
        result = await s.execute(insert(table).returning(table.c.id, table.c.code), inserts)
        ids.update({code: row_id for row_id, code in result})
    await _update_by_id(s, table, updates)
    return KindCounts(created=len(inserts), updated=len(updates), unchanged=unchanged), ids


async def _update_by_id(s: AsyncSession, table: Any, updates: Sequence[dict[str, Any]]) -> None:
    """One executemany UPDATE; every dict has ``row_id`` and the same other keys."""
    if not updates:
        return
    names = [name for name in updates[0] if name != "row_id"]
    statement = update(table).where(table.c.id == bindparam("row_id")).values({name: bindparam(name) for name in names})
    await s.execute(statement, list(updates))


_REGION_COLUMNS = ("timezone", "name")
_HOTEL_COLUMNS = ("region_id", "name", "search_name", "discount_percent")
_ORGANISER_COLUMNS = (
    "name",
    "chat_id",
    "language",
    "phone",
    "confirm_within_s",
    "pay_within_s",
    "hold_s",
    "reminders_s",
    "questions",
)
_EVENT_COLUMNS = (
    "organiser_id",
    "region_id",
    "category",
    "title",
    "description",
    "meeting_point",
    "duration_s",
    "languages",
    "currency",
    "prices",
    "confirmation",
)


async def _upsert(s: AsyncSession, catalog: Catalog) -> ImportReport:
    c = _Checker()
    regions_db = await _existing(s, RegionRow, _REGION_COLUMNS)
    organisers_db = await _existing(s, OrganiserRow, _ORGANISER_COLUMNS)
    hotels_db = await _existing(s, HotelRow, _HOTEL_COLUMNS)
    events_db = await _existing(s, EventRow, _EVENT_COLUMNS)

    # References: to this file or to the database.
    zones = {code: row["timezone"] for code, row in regions_db.items()}
    zones.update({r.code: r.timezone for r in catalog.regions})
    organiser_codes = set(organisers_db) | {o.code for o in catalog.organisers}
    for i, hotel in enumerate(catalog.hotels):
        if hotel.region not in zones:
            c.fail(f"hotels[{i}] ({hotel.code}).region", f"no region {_show(hotel.region)} in the file or the database")

    # Session times in UTC: the region's zone may come from the database, so they are resolved here.
    starts: list[list[datetime | None]] = []
    for i, event in enumerate(catalog.events):
        where = f"events[{i}] ({event.code})"
        if event.organiser not in organiser_codes:
            c.fail(f"{where}.organiser", f"no organiser {_show(event.organiser)} in the file or the database")
        zone_key = zones.get(event.region)
        if zone_key is None:
            c.fail(f"{where}.region", f"no region {_show(event.region)} in the file or the database")
            starts.append([None] * len(event.sessions))
            continue
        zone = ZoneInfo(zone_key)
        event_starts: list[datetime | None] = []
        seen: set[datetime] = set()
        for j, session in enumerate(event.sessions):
            try:
                utc = local_to_utc(session.starts_at, zone)
            except ValueError as exc:
                c.fail(f"{where}.sessions[{j}] ({session.label}).starts_at", str(exc))
                utc = None
            if utc is not None and utc in seen:
                c.fail(f"{where}.sessions[{j}] ({session.label}).starts_at", "a second session at the same time")
            elif utc is not None:
                seen.add(utc)
            event_starts.append(utc)
        starts.append(event_starts)

    # Existing sessions of the events in the file, within the file's time span: one SELECT.
    all_starts = [t for event_starts in starts for t in event_starts if t is not None]
    sessions_db: dict[tuple[int, datetime], dict[str, Any]] = {}
    if all_starts:
        table = SessionRow.__table__
        known_events = {events_db[e.code]["id"] for e in catalog.events if e.code in events_db}
        result = await s.execute(
            select(
                table.c.id, table.c.event_id, table.c.starts_at, table.c.capacity, table.c.seats_left, table.c.status
            ).where(table.c.starts_at >= min(all_starts), table.c.starts_at <= max(all_starts))
        )
        sessions_db = {(r.event_id, r.starts_at): r._asdict() for r in result if r.event_id in known_events}

    # Capacity changes keep the seats already sold.
    session_plan: list[tuple[int, SessionSpec, datetime]] = []  # (event index, spec, UTC start)
    for i, event in enumerate(catalog.events):
        event_id = events_db.get(event.code, {}).get("id")
        for j, (session, utc) in enumerate(zip(event.sessions, starts[i], strict=True)):
            if utc is None:
                continue
            where = f"events[{i}] ({event.code}).sessions[{j}] ({session.label})"
            old = sessions_db.get((event_id, utc)) if event_id is not None else None
            if old is not None:
                sold = old["capacity"] - old["seats_left"]
                if session.capacity < sold:
                    c.fail(f"{where}.capacity", f"{session.capacity} is fewer than the {sold} seats already sold")
                    continue
            session_plan.append((i, session, utc))
    if c.problems:
        raise CatalogError(c.problems)

    # Writes, parents first.
    region_counts, region_ids = await _write(
        s, RegionRow, [(r.code, _region_values(r)) for r in catalog.regions], regions_db
    )
    region_ids = {**{code: row["id"] for code, row in regions_db.items()}, **region_ids}
    organiser_counts, organiser_ids = await _write(
        s, OrganiserRow, [(o.code, _organiser_values(o)) for o in catalog.organisers], organisers_db
    )
    organiser_ids = {**{code: row["id"] for code, row in organisers_db.items()}, **organiser_ids}
    hotel_counts, _ = await _write(
        s, HotelRow, [(h.code, _hotel_values(h, region_ids[h.region])) for h in catalog.hotels], hotels_db
    )
    event_counts, event_ids = await _write(
        s,
        EventRow,
        [(e.code, _event_values(e, organiser_ids[e.organiser], region_ids[e.region])) for e in catalog.events],
        events_db,
    )

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for i, session, utc in session_plan:
        event_id = event_ids[catalog.events[i].code]
        old = sessions_db.get((event_id, utc))
        if old is None:
            status = session.status or SessionStatus.SCHEDULED
            inserts.append(
                {
                    "event_id": event_id,
                    "starts_at": utc,
                    "capacity": session.capacity,
                    "seats_left": session.capacity,
                    "status": status.value,
                }
            )
            continue
        status = session.status.value if session.status else old["status"]
        if session.capacity == old["capacity"] and status == old["status"]:
            unchanged += 1
            continue
        updates.append({"row_id": old["id"], "capacity": session.capacity, "status": status})
    if inserts:
        await s.execute(insert(SessionRow.__table__), inserts)
    if updates:
        # Relative to the row as it is at UPDATE time, so a booking that lands between our read and this write
        # is kept too (seats sold = capacity - seats_left); the CHECK seats_left >= 0 refuses an oversell.
        table = SessionRow.__table__
        await s.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                capacity=bindparam("capacity"),
                seats_left=table.c.seats_left + bindparam("capacity") - table.c.capacity,
                status=bindparam("status"),
            ),
            updates,
        )
    session_counts = KindCounts(created=len(inserts), updated=len(updates), unchanged=unchanged)

    return ImportReport(
        regions=region_counts,
        hotels=hotel_counts,
        organisers=organiser_counts,
        events=event_counts,
        sessions=session_counts,
    )


async def import_catalog(sessions: async_sessionmaker, path: Path | str) -> ImportReport:
    """Read, validate and upsert the catalog file at ``path`` in one transaction; raise :class:`CatalogError`
    (and change nothing) if anything in it is wrong."""
    catalog = load_catalog(path)
    try:
        async with sessions() as s, s.begin():
            return await _upsert(s, catalog)
    except IntegrityError as exc:
        # Only a concurrent writer gets here (another import, or bookings racing a capacity cut): all checks ran
        # on what this transaction read, and the transaction is rolled back.
        raise CatalogError(
            f"{path}: the catalog changed while importing ({type(exc.orig).__name__ if exc.orig else 'conflict'}); "
            "nothing was imported, try again"
        ) from exc
