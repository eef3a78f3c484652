"""The catalog's field types for places and media (issue 15): coordinates, addresses, photos and the texts of a
hotel's page and a region's area guide. Refused with the words ``docs/catalog.md`` shows, like
:mod:`bot.catalog.fields`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bot.catalog.fields import text, translations, translations_schema
from bot.catalog.refusals import Loc, refusals, refuse, show
from domain.model.places import LATITUDE_RANGE, LONGITUDE_RANGE, MAX_PHOTOS

ADDRESS_MAX = 300  # the column size (bot/storage/place_tables.py)
HOTEL_TEXT_MAX = 800  # four of them and the address fit one message (4096 characters)
GUIDE_MAX = 3000
PHOTO_URL_MAX = 1000
# https only (Telegram fetches the photo; the guest's client shows it), no spaces; or a file id Telegram gave the bot
PHOTO_URL_RE = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")
FILE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20,250}$")


def _degrees(what: str, bounds: tuple[float, float]) -> PlainValidator:
    low, high = bounds

    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse(f"expected the {what} in degrees, a number from {low:g} to {high:g}, got {show(value)}")
        if not low <= value <= high:
            raise refuse(f"{value} is out of range ({low:g}..{high:g}) for a {what}")
        return float(value)

    return PlainValidator(check)


def _address(value: object) -> str:
    return text(value, ADDRESS_MAX)


def _photos(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_PHOTOS:
        raise refuse(
            f"expected a list of 1 to {MAX_PHOTOS} photos (https URLs or Telegram file ids), got {show(value)}"
        )
    found: list[tuple[Loc, PydanticCustomError, object]] = []
    photos: list[str] = []
    for i, photo in enumerate(value):
        ok = isinstance(photo, str) and (
            (len(photo) <= PHOTO_URL_MAX and PHOTO_URL_RE.match(photo)) or FILE_ID_RE.match(photo)
        )
        if not ok:
            found.append(((i,), refuse(f"{show(photo)} is not an https URL of a photo or a Telegram file id"), photo))
        elif photo in photos:
            found.append(((i,), refuse(f"{show(photo)} is listed twice"), photo))
        else:
            photos.append(photo)
    if found:
        raise refusals(found)
    return tuple(photos)


Latitude = Annotated[
    float, _degrees("latitude", LATITUDE_RANGE), WithJsonSchema({"type": "number", "minimum": -90, "maximum": 90})
]
Longitude = Annotated[
    float, _degrees("longitude", LONGITUDE_RANGE), WithJsonSchema({"type": "number", "minimum": -180, "maximum": 180})
]
Address = Annotated[
    str, Field(min_length=1, max_length=ADDRESS_MAX), PlainValidator(_address), WithJsonSchema({"type": "string"})
]
Photos = Annotated[
    tuple[str, ...],
    PlainValidator(_photos),
    WithJsonSchema(
        {
            "type": "array",
            "description": "https URLs or Telegram file ids; the first is the event's cover",
            "minItems": 1,
            "maxItems": MAX_PHOTOS,
            "uniqueItems": True,
            "items": {"type": "string", "anyOf": [{"pattern": PHOTO_URL_RE.pattern}, {"pattern": FILE_ID_RE.pattern}]},
        }
    ),
]
HotelText = Annotated[dict[str, str], PlainValidator(translations(HOTEL_TEXT_MAX)), translations_schema(HOTEL_TEXT_MAX)]
AreaGuide = Annotated[dict[str, str], PlainValidator(translations(GUIDE_MAX)), translations_schema(GUIDE_MAX)]
