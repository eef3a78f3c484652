"""The catalog's places and media (issue 15): the meeting point on the map, photos, a hotel's page and a region's
area guide — read when right, refused with the entry and the field path when not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.catalog.load import CatalogError, parse_catalog
from tests.unit.test_catalog_parse import sample


def with_places() -> dict[str, Any]:
    data = sample()
    data["regions"][0]["guide"] = {"en": "A medieval Old Town above the harbour.", "et": "Keskaegne vanalinn."}
    hotel = data["hotels"][0]
    hotel.update(
        address="Vene 9, 10123 Tallinn",
        location={"latitude": 59.43722, "longitude": 24.74778},
        free={"en": "Wi-Fi, breakfast"},
        paid={"en": "Parking"},
        timetable={"en": "Breakfast 7:00-10:30"},
        sights={"en": "Town Hall Square, 2 minutes on foot"},
    )
    event = data["events"][0]
    event.update(
        meeting_location={"latitude": 59.4445, "longitude": 24.767},
        meeting_address="Sadama 25, 10111 Tallinn",
        photos=["https://example.com/cruise.jpg", "AgACAgIAAxkBAAIBZ2ZkAAFpX0000000000000000"],
    )
    return data


def problems(data: object) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    return caught.value.problems


def test_places_and_media_are_read() -> None:
    catalog = parse_catalog(with_places())
    region, hotel, event = catalog.regions[0], catalog.hotels[0], catalog.events[0]
    assert region.guide["et"] == "Keskaegne vanalinn."
    assert (hotel.address, hotel.location) is not None
    assert hotel.location is not None and (hotel.location.latitude, hotel.location.longitude) == (59.43722, 24.74778)
    assert hotel.free == {"en": "Wi-Fi, breakfast"} and hotel.sights["en"].startswith("Town Hall")
    assert event.meeting_location is not None and event.meeting_location.longitude == 24.767
    assert event.meeting_address == "Sadama 25, 10111 Tallinn"
    assert event.photos[0] == "https://example.com/cruise.jpg" and len(event.photos) == 2


def test_all_of_it_is_optional() -> None:
    catalog = parse_catalog(sample())
    hotel, event = catalog.hotels[0], catalog.events[0]
    assert (hotel.address, hotel.location, hotel.free, event.meeting_location, event.photos) == (
        None,
        None,
        {},
        None,
        (),
    )
    assert catalog.regions[0].guide == {}


def test_whole_degrees_are_numbers_too() -> None:
    data = with_places()
    data["events"][0]["meeting_location"] = {"latitude": 59, "longitude": -24}
    location = parse_catalog(data).events[0].meeting_location
    assert location is not None and (location.latitude, location.longitude) == (59.0, -24.0)


@pytest.mark.parametrize(
    ("location", "field", "reason"),
    [
        ({"latitude": 91, "longitude": 24}, "latitude", "91 is out of range (-90..90) for a latitude"),
        ({"latitude": -90.5, "longitude": 24}, "latitude", "-90.5 is out of range (-90..90) for a latitude"),
        ({"latitude": 59, "longitude": 180.01}, "longitude", "180.01 is out of range (-180..180) for a longitude"),
        ({"latitude": "59.4", "longitude": 24}, "latitude", "expected the latitude in degrees"),
        ({"latitude": True, "longitude": 24}, "latitude", "expected the latitude in degrees"),
        ({"latitude": 59}, "longitude", "missing (required)"),
    ],
)
def test_bad_coordinates_are_refused_with_the_field_path(location: dict, field: str, reason: str) -> None:
    data = with_places()
    data["events"][0]["meeting_location"] = location
    [problem] = problems(data)
    assert problem.startswith(f"events[0] (islands-cruise).meeting_location.{field}: "), problem
    assert reason in problem


def test_a_hotel_s_bad_location_names_the_hotel() -> None:
    data = with_places()
    data["hotels"][0]["location"] = {"latitude": 59.4, "longitude": 200}
    [problem] = problems(data)
    assert problem.startswith("hotels[0] (telegraaf).location.longitude: 200 is out of range"), problem


def test_an_unknown_field_in_a_location_is_refused() -> None:
    data = with_places()
    data["events"][0]["meeting_location"] = {"latitude": 59.4, "longitude": 24.7, "altitude": 3}
    [problem] = problems(data)
    assert "meeting_location.altitude: unknown field" in problem


@pytest.mark.parametrize(
    ("photos", "where", "reason"),
    [
        ([], "photos", "expected a list of 1 to 10 photos"),
        ("https://example.com/a.jpg", "photos", "expected a list of 1 to 10 photos"),
        ([f"https://example.com/{n}.jpg" for n in range(11)], "photos", "expected a list of 1 to 10 photos"),
        (["http://example.com/a.jpg"], "photos[0]", "is not an https URL of a photo or a Telegram file id"),
        (["https://example.com/a b.jpg"], "photos[0]", "is not an https URL"),
        (["a.jpg"], "photos[0]", "is not an https URL"),
        (["https://example.com/a.jpg", "https://example.com/a.jpg"], "photos[1]", "is listed twice"),
    ],
)
def test_photo_refusals(photos: object, where: str, reason: str) -> None:
    data = with_places()
    data["events"][0]["photos"] = photos
    [problem] = problems(data)
    assert problem.startswith(f"events[0] (islands-cruise).{where}: "), problem
    assert reason in problem


def test_hotel_texts_and_the_guide_are_translations_within_their_limits() -> None:
    data = with_places()
    data["hotels"][0]["free"] = {"en": "x" * 801}
    data["hotels"][0]["address"] = " "
    data["regions"][0]["guide"] = {"english": "Hello"}
    found = problems(copy.deepcopy(data))
    assert any(p.startswith("hotels[0] (telegraaf).free.en: text of 801 characters is longer than 800") for p in found)
    assert any(p.startswith("hotels[0] (telegraaf).address: expected non-empty text") for p in found)
    assert any(p.startswith("regions[0] (tallinn).guide.english:") for p in found), found
