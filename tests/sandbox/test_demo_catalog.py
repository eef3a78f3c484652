"""The demo catalog reads like a real one for the coming weeks (issue 10, item 21): sunset trips at sunset, winter
activities in winter and summer ones in summer, the guide's language asked only among the languages the
organiser's events are guided in, and descriptions that do not repeat the facts lines (duration, group size,
languages). ``tripdesk demo-data`` writes this catalog."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.catalog.demo import build_demo_catalog
from bot.catalog.load import parse_catalog

WINTER_START = date(2026, 12, 1)
SUMMER_START = date(2026, 6, 10)
# Summer-only things (open water, rope parks) and winter-only ones, by their English titles.
SUMMER_ONLY = ("sailing", "kayak", "paddle", "boat tour", "rope park", "islands cruise", "bike tour")
WINTER_ONLY = ("icebreaker", "ski", "sledding", "snowshoe", "christmas", "ice swim", "stargazing")
# Local sunset in these cities over the demo's three weeks is 14:45-16:00 in December and 21:55-22:55 in June
# (published almanac times); a sunset trip starts within two hours before it.
SUNSET_START_WINDOW = {WINTER_START: ("12:45", "16:00"), SUMMER_START: ("19:55", "22:55")}


def _titles(catalog: dict) -> list[str]:
    return [event["title"]["en"].split(" · ")[0].casefold() for event in catalog["events"]]


@pytest.mark.parametrize(
    ("start", "wrong", "right"), [(WINTER_START, SUMMER_ONLY, WINTER_ONLY), (SUMMER_START, WINTER_ONLY, SUMMER_ONLY)]
)
def test_the_season_fits_the_coming_weeks(start: date, wrong: tuple[str, ...], right: tuple[str, ...]) -> None:
    titles = _titles(build_demo_catalog(start=start))
    assert [t for t in titles if any(word in t for word in wrong)] == []
    assert any(word in t for t in titles for word in right)


@pytest.mark.parametrize("start", [WINTER_START, SUMMER_START])
def test_sunset_trips_start_before_sunset(start: date) -> None:
    catalog = build_demo_catalog(start=start)
    earliest, latest = SUNSET_START_WINDOW[start]
    sunset_events = [e for e in catalog["events"] if "sunset" in e["title"]["en"].casefold()]
    assert sunset_events, "the demo has no sunset trip"
    for event in sunset_events:
        for session in event["sessions"]:
            clock = datetime.fromisoformat(session["starts_at"]).strftime("%H:%M")
            assert earliest <= clock <= latest, (event["title"]["en"], event["region"], session["starts_at"])


def test_the_guide_language_is_asked_among_the_languages_spoken() -> None:
    catalog = build_demo_catalog(start=WINTER_START)
    languages: dict[str, set[str]] = {}
    for event in catalog["events"]:
        languages.setdefault(event["organiser"], set()).update(event["languages"])
    asked = 0
    for organiser in catalog["organisers"]:
        for question in organiser.get("questions", []):
            if question["id"] != "guide-language":
                continue
            asked += 1
            offered = {choice["id"] for choice in question["choices"]}
            spoken = languages.get(organiser["id"], set())
            assert offered == spoken and len(offered) > 1, (organiser["id"], offered, spoken)
    assert asked > 0


def test_descriptions_do_not_repeat_the_facts_lines() -> None:
    catalog = build_demo_catalog(start=WINTER_START)
    facts = ("Duration", "Languages", "Groups of up to", "Продолжительность", "Dauer", "Sprachen", "Kestus", "Keeled")
    for event in catalog["events"]:
        for text in event["description"].values():
            assert not any(word in text for word in facts), (event["id"], text)
    assert len({e["description"]["en"] for e in catalog["events"]}) > 8  # more than one pitch per category


def test_the_catalog_stays_valid_in_both_seasons() -> None:
    for start in (WINTER_START, SUMMER_START):
        catalog = parse_catalog(build_demo_catalog(start=start))
        assert {e.category for e in catalog.events} == {
            "sea",
            "city",
            "food",
            "nature",
            "history",
            "kids",
            "night",
            "adventure",
        }
        starts = [s.starts_at for e in catalog.events for s in e.sessions]
        assert min(starts).date() >= start and max(starts).date() < start + timedelta(days=21)
