"""The field types of the catalog file: ids, texts, translations, whole numbers, durations, amounts, local times.

Each type is an ``Annotated`` pydantic type. Its validator refuses a value with the words ``docs/catalog.md`` shows
(``"4x" is not a decimal amount such as "45.00"``); :mod:`bot.catalog.load` puts the entry and the field in front,
from the error's location. Where the value keeps its type (whole numbers, texts, enums) pydantic's own strict type
and constraints stay inside the validator and give the JSON Schema; where YAML writes it differently from what it
becomes (``10m`` → a timedelta, ``"45.00"`` → a Decimal, an id written as a number) the schema is spelled out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel.numbers import list_currencies
from pydantic import Field, PlainValidator, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator
from pydantic_core import PydanticCustomError

from bot.catalog.refusals import Loc, bool_key_hint, refusals, refuse, repeated, show
from domain.errors import InvalidPhone
from domain.model.catalog import Confirmation, QuestionKind, SessionStatus
from domain.model.users import normalize_phone
from domain.rules.durations import parse_duration

# ---- the format's limits (documented in docs/catalog.md) ------------------------------------------------------

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")  # goes into 64-byte callback data
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
TICKET_RE = re.compile(r"^[a-z0-9_-]{1,16}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
DURATION_RE = r"^\s*(\d+\s*[smhdwSMHDW]\s*)+$"
AMOUNT_RE = r"^\s*\d+(\.\d+)?\s*$"
LOCAL_TIME_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"

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

# ---- ids -------------------------------------------------------------------------------------------------------


def _code_check(what: str, pattern: re.Pattern[str], rule: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)  # `id: 1905` is the text "1905"
        if not isinstance(value, str) or not pattern.match(value):
            raise refuse(f"{show(value)} is not {what} ({rule})")
        return value

    return check


def _code_schema(pattern: re.Pattern[str]) -> WithJsonSchema:
    return WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": pattern.pattern}, {"type": "integer", "minimum": 0}]}
    )


_CODE_RULE = "1-60 characters a-z 0-9 _ -, starting with a letter or digit"
_CATEGORY_RULE = "1-24 characters a-z 0-9 -, starting with a letter or digit"
_TICKET_RULE = "1-16 characters a-z 0-9 _ -"

ticket_code = _code_check("a ticket type", TICKET_RE, _TICKET_RULE)

Id = Annotated[str, PlainValidator(_code_check("an id", CODE_RE, _CODE_RULE)), _code_schema(CODE_RE)]
RegionRef = Annotated[str, PlainValidator(_code_check("a region id", CODE_RE, _CODE_RULE)), _code_schema(CODE_RE)]
OrganiserRef = Annotated[
    str, PlainValidator(_code_check("an organiser id", CODE_RE, _CODE_RULE)), _code_schema(CODE_RE)
]
QuestionId = Annotated[str, PlainValidator(_code_check("a question id", CODE_RE, _CODE_RULE)), _code_schema(CODE_RE)]
ChoiceId = Annotated[str, PlainValidator(_code_check("a choice id", CODE_RE, _CODE_RULE)), _code_schema(CODE_RE)]
Category = Annotated[
    str, PlainValidator(_code_check("a category", CATEGORY_RE, _CATEGORY_RULE)), _code_schema(CATEGORY_RE)
]


# ---- texts and languages ---------------------------------------------------------------------------------------


def language(value: object) -> str:
    if not isinstance(value, str) or not LANGUAGE_RE.match(value):
        raise refuse(f"{show(value)} is not a language code like en, ru, de, et{bool_key_hint(value)}")
    return value


def _language(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    return str(handler(language(value)))


def text(value: object, limit: int) -> str:
    """Non-empty text, trimmed of surrounding spaces, at most ``limit`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise refuse(f"expected non-empty text, got {show(value)}")
    value = value.strip()
    if len(value) > limit:
        raise refuse(f"text of {len(value)} characters is longer than {limit}")
    return value


def _name(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    return str(handler(text(value, NAME_MAX)))


def _translations(limit: int) -> Callable[[object], dict[str, str]]:
    def check(value: object) -> dict[str, str]:
        if not isinstance(value, Mapping) or not value:
            raise refuse(f"expected translations such as {{en: ..., ru: ...}}, got {show(value)}")
        result: dict[str, str] = {}
        found: list[tuple[Loc, PydanticCustomError, object]] = []
        for lang, words in value.items():
            try:
                code = language(lang)
                result[code] = text(words, limit)
            except PydanticCustomError as error:
                found.append(((lang,), error, words))
        if found:
            raise refusals(found)
        return result

    return check


def _translations_schema(limit: int) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "object",
            "description": "{language: text}, e.g. {en: ..., ru: ...}",
            "minProperties": 1,
            "propertyNames": {"pattern": LANGUAGE_RE.pattern},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": limit},
        }
    )


Language = Annotated[str, Field(pattern=LANGUAGE_RE.pattern), WrapValidator(_language)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), WrapValidator(_name)]
RegionName = Annotated[
    dict[str, str], PlainValidator(_translations(REGION_NAME_MAX)), _translations_schema(REGION_NAME_MAX)
]
Title = Annotated[dict[str, str], PlainValidator(_translations(TITLE_MAX)), _translations_schema(TITLE_MAX)]
Description = Annotated[
    dict[str, str], PlainValidator(_translations(DESCRIPTION_MAX)), _translations_schema(DESCRIPTION_MAX)
]
MeetingPoint = Annotated[
    dict[str, str], PlainValidator(_translations(MEETING_POINT_MAX)), _translations_schema(MEETING_POINT_MAX)
]
QuestionText = Annotated[
    dict[str, str], PlainValidator(_translations(QUESTION_TEXT_MAX)), _translations_schema(QUESTION_TEXT_MAX)
]
ChoiceText = Annotated[
    dict[str, str], PlainValidator(_translations(CHOICE_TEXT_MAX)), _translations_schema(CHOICE_TEXT_MAX)
]

# for field modules of their own (bot/catalog/place_fields.py)
translations, translations_schema = _translations, _translations_schema


# ---- numbers, switches and choices -----------------------------------------------------------------------------


def _whole(low: int, high: int) -> Callable[[object, ValidatorFunctionWrapHandler], int]:
    def check(value: object, handler: ValidatorFunctionWrapHandler) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise refuse(f"expected a whole number from {low} to {high}, got {show(value)}")
        if not low <= value <= high:
            raise refuse(f"{value} is out of range ({low}..{high})")
        return int(handler(value))

    return check


def _chat_id(value: object, handler: ValidatorFunctionWrapHandler) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value == 0 or abs(value) >= CHAT_ID_LIMIT:
        raise refuse(f"expected a Telegram chat id (a non-zero whole number), got {show(value)}")
    return int(handler(value))


def _yes_no(value: object, handler: ValidatorFunctionWrapHandler) -> bool:
    if not isinstance(value, bool):
        raise refuse(f"expected true or false, got {show(value)}")
    return bool(handler(value))


E = TypeVar("E", bound=Enum)


def _one_of(kind: type[E]) -> Callable[[object, ValidatorFunctionWrapHandler], E]:
    options = [str(member.value) for member in kind]

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> E:
        if not isinstance(value, str) or value not in options:
            raise refuse(f"{show(value)} is not one of: {', '.join(options)}")
        result: E = handler(kind(value))
        return result

    return check


Discount = Annotated[int, Field(ge=0, le=100), WrapValidator(_whole(0, 100))]
Capacity = Annotated[int, Field(ge=CAPACITY_RANGE[0], le=CAPACITY_RANGE[1]), WrapValidator(_whole(*CAPACITY_RANGE))]
MaxLength = Annotated[
    int, Field(ge=MAX_LENGTH_RANGE[0], le=MAX_LENGTH_RANGE[1]), WrapValidator(_whole(*MAX_LENGTH_RANGE))
]
ChatId = Annotated[
    int,
    Field(gt=-CHAT_ID_LIMIT, lt=CHAT_ID_LIMIT, json_schema_extra={"not": {"const": 0}}),
    WrapValidator(_chat_id),
]
YesNo = Annotated[bool, WrapValidator(_yes_no)]
Kind = Annotated[QuestionKind, WrapValidator(_one_of(QuestionKind))]
ConfirmationMode = Annotated[Confirmation, WrapValidator(_one_of(Confirmation))]
Status = Annotated[SessionStatus, WrapValidator(_one_of(SessionStatus))]


# ---- time zones, currencies, phones ----------------------------------------------------------------------------


@cache
def _zone_keys() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(key: str) -> ZoneInfo | None:
    """The IANA time zone ``key``, or ``None`` if there is no such zone."""
    keys = _zone_keys()
    if keys and key not in keys:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _time_zone(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    if not isinstance(value, str) or zone(value) is None:
        raise refuse(f"{show(value)} is not a time zone such as Europe/Tallinn")
    return str(handler(value))


@cache
def currencies() -> frozenset[str]:
    """The ISO 4217 currency codes, from Babel's copy of CLDR."""
    return frozenset(list_currencies())


def _currency(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    if not isinstance(value, str) or not CURRENCY_RE.match(value):
        raise refuse(f"{show(value)} is not a currency code such as EUR (3 capital letters)")
    if value not in currencies():
        raise refuse(f"{show(value)} is not a currency code of ISO 4217 (such as EUR or SEK)")
    return str(handler(value))


def _phone(value: object) -> str | None:
    if value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise refuse(f'expected a phone number such as "+3725550001", got {show(value)}')
    clean = organiser_phone(str(value))
    if clean is None:
        raise refuse(
            f"{show(str(value))} is not a valid international phone number "
            '(write it with the country code, e.g. "+3725550001")'
        )
    return clean


def organiser_phone(raw: str) -> str | None:
    """E.164 via :func:`normalize_phone`; failing that, a number of a possible length for its country is kept
    too (the design's own sample ``+3725550001`` is one): operators dial it, the bot never texts it."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        pass
    digits = raw.strip()
    try:
        number = phonenumbers.parse(digits if digits.startswith("+") else "+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


TimeZone = Annotated[str, WrapValidator(_time_zone), Field(description="an IANA time zone such as Europe/Tallinn")]
Currency = Annotated[str, WrapValidator(_currency), WithJsonSchema({"type": "string", "enum": sorted(currencies())})]
Phone = Annotated[
    str | None,
    PlainValidator(_phone),
    WithJsonSchema(
        {"type": ["string", "integer", "null"], "description": 'an international number such as "+3725550001"'}
    ),
]


# ---- durations, amounts, local times ---------------------------------------------------------------------------


def duration(value: object) -> timedelta:
    try:
        result = parse_duration(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except (ValueError, OverflowError):
        result = None
    if result is None:
        raise refuse(f"{show(value)} is not a duration like 90s, 10m, 2h, 1d or 1h30m")
    if result <= timedelta(0):
        raise refuse("a duration must be longer than zero")
    return result


def amount(value: object) -> Decimal:
    """A decimal amount (``"45.00"``, ``45``; a YAML float is read through its shortest spelling), not negative."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise refuse(f'{show(value)} is not a decimal amount such as "45.00"')
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise refuse(f'{show(value)} is not a decimal amount such as "45.00"')
    if number < 0:
        raise refuse(f"{show(value)} is negative")
    return number


def _local_time(value: object) -> datetime:
    hint = "expected a local date and time such as 2026-12-01T10:00"
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise refuse(f"{hint}, got only a date ({value.isoformat()})")
    if isinstance(value, str):
        written = value.strip()
        if len(written) > 10:  # a bare date would silently mean midnight
            try:
                return datetime.fromisoformat(written[:-1] + "+00:00" if written.endswith("Z") else written)
            except ValueError:
                pass
    raise refuse(f"{hint}, got {show(value)}")


def local_to_utc(local: datetime, where: ZoneInfo) -> datetime:
    """A wall-clock time in ``where`` as aware UTC. Ambiguous times (the repeated hour in autumn) take the first
    occurrence; times that do not exist (the skipped hour in spring) raise ``ValueError``."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    utc = local.replace(tzinfo=where, fold=0).astimezone(UTC)
    if utc.astimezone(where).replace(tzinfo=None) != local:
        raise ValueError(f"{local.isoformat(timespec='minutes')} does not exist in {where.key} (clocks skip it)")
    return utc


_DURATION_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": DURATION_RE}, {"type": "integer", "minimum": 1}],
    "description": "90s, 10m, 2h, 1d, 1w or combined (1h30m); a whole number means seconds",
}
Duration = Annotated[timedelta, PlainValidator(duration), WithJsonSchema(_DURATION_SCHEMA)]
AMOUNT_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": AMOUNT_RE}, {"type": "number", "minimum": 0}],
    "description": 'a decimal string such as "45.00"',
}
LocalTime = Annotated[
    datetime,
    PlainValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_RE,
            "description": "the region's wall-clock time, e.g. 2026-12-01T10:00 (or with an explicit offset)",
        }
    ),
]


# ---- lists -----------------------------------------------------------------------------------------------------


def listed(
    expected: str = "a list", sizes: tuple[int, int] | None = None
) -> Callable[[object, ValidatorFunctionWrapHandler], Any]:
    """A YAML list (read as a tuple); ``sizes`` bounds the number of items."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(value, list | tuple) or (sizes and not sizes[0] <= len(value) <= sizes[1]):
            raise refuse(f"expected {expected}, got {show(value)}")
        return handler(tuple(value))

    return check


def unique_ids(what: str, attribute: str = "code") -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Refuses a second item with the same ``id`` (read from ``attribute``), naming the first."""

    def check(items: Sequence[Any]) -> Sequence[Any]:
        first: dict[str, int] = {}
        found: list[tuple[Loc, PydanticCustomError, object]] = []
        for i, item in enumerate(items):
            code = getattr(item, attribute)
            if code in first:
                found.append(((i, "id"), repeated(f"duplicate {what} {show(code)}", (first[code], "id")), code))
            else:
                first[code] = i
        if found:
            raise refusals(found)
        return items

    return check


def no_repeats(shown: Callable[[Any], str]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Refuses an item listed twice (a language, a reminder)."""

    def check(items: Sequence[Any]) -> Sequence[Any]:
        found = [((i,), refuse(f"{shown(x)} is listed twice"), x) for i, x in enumerate(items) if x in items[:i]]
        if found:
            raise refusals(found)
        return items

    return check


def longest_first(items: Sequence[timedelta]) -> tuple[timedelta, ...]:
    return tuple(sorted(items, reverse=True))
