"""How the catalog refuses a value: in words for the catalog's author, at a location pydantic carries up.

A validator raises :func:`refuse` for the value it was given, or :func:`refusals` for parts of it (an item of a
list, a key of a mapping); pydantic prefixes the location of the value, and :mod:`bot.catalog.load` writes the whole
location the way the author reads it (``events[2] (islands-cruise).prices.adult``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# The error type of a repeated id or start time; ``ctx["first"]`` is the location of the first one, relative to
# the same list (``(0, "id")``), and :mod:`bot.catalog.load` adds "(first at ...)" to the message.
DUPLICATE = "duplicate"

Loc = tuple[str | int, ...]


def show(value: object) -> str:
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


def bool_key_hint(value: object) -> str:
    """YAML 1.1 reads unquoted no/yes/on/off as booleans; the Norwegian "no" is the classic casualty."""
    return ' (YAML reads unquoted no/yes/on/off as true/false: write "no" in quotes)' if isinstance(value, bool) else ""


def refuse(message: str) -> PydanticCustomError:
    """The refusal of the value at hand."""
    return PydanticCustomError("catalog", "{message}", {"message": message})


def repeated(message: str, first: Loc) -> PydanticCustomError:
    """A repeat of an earlier item of the same list, found at ``first`` (relative to the list)."""
    return PydanticCustomError(DUPLICATE, "{message}", {"message": message, "first": first})


def refusals(found: Iterable[tuple[Loc, PydanticCustomError, object]]) -> ValidationError:
    """Refusals of parts of the value at hand, each at its location below the value."""
    return ValidationError.from_exception_data(
        "catalog",
        [
            InitErrorDetails(type=error, loc=tuple(_loc_part(p) for p in loc), input=value)
            for loc, error, value in found
        ],
    )


def _loc_part(part: object) -> str | int:
    # pydantic reads a bool as the number 0 or 1; a YAML key such as an unquoted `no:` should read `False`.
    return part if isinstance(part, int | str) and not isinstance(part, bool) else str(part)
