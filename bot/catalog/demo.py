"""A realistic demo catalog: 8 Baltic and Nordic regions, ~900 hotels, ~240 organisers, ~700 events and several
thousand sessions over three weeks, with texts in English, Russian, German and Estonian.

The numbers follow the marketplace the design describes (905 partner hotels, 237 suppliers, 8 regions); ``scale``
multiplies hotels, organisers and events. The same ``seed`` and ``start`` always give the same file.

It reads like a real catalog for the weeks after ``start``: boats, kayaks and rope parks in the open-water season
(May to September), icebreakers, skis and Christmas markets in winter; a sunset trip starts an hour before that
day's sunset where it runs; an organiser's events are guided in its guides' languages, and only an organiser with
more than one asks which one (offering exactly those); questions fit the kinds of events asked about; descriptions
tell what the trip is like, not the duration, group size and languages the event's facts lines already show.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
import yaml

from bot.catalog.demo_places import add_places
from bot.catalog.demo_regions import POSITIONS, REGIONS, DemoRegion, T
from bot.catalog.demo_tables import (
    CATEGORIES,
    CONFIRM_WITHIN,
    HOLDS,
    HOTEL_BRANDS,
    HOTEL_TYPES,
    LANGUAGE_NAMES,
    ORGANISER_BRANDS,
    ORGANISER_KINDS,
    PAY_WITHIN,
    PITCHES,
    PROFILES,
    QUESTION_FITS,
    QUESTIONS,
    REMINDERS,
    SUMMER,
    SUMMER_MONTHS,
    TITLES,
    WATER_TITLES,
    WINTER,
    Title,
)

DAYS = 21
LANGS = ("en", "ru", "de", "et")


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def _unique(base: str, taken: set[str]) -> str:
    code, n = base, 2
    while code in taken:
        suffix = f"-{n}"
        code = base[: 60 - len(suffix)] + suffix
        n += 1
    taken.add(code)
    return code


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _phone(rng: random.Random, region: DemoRegion) -> str:
    for _ in range(100):
        number = "+" + rng.choice(region.phone_prefixes) + "".join(str(rng.randrange(10)) for _ in range(7))
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number
    raise RuntimeError(f"no valid phone number for {region.code}")  # pragma: no cover - the prefixes are valid


def _money(amount: float, currency: str, whole: bool = False) -> str:
    if currency == "SEK":
        return f"{round(amount * 11, -1):.2f}"
    return f"{round(amount):.2f}" if whole else f"{round(amount * 2) / 2:.2f}"


def _description(category: str, title: Title) -> T:
    """What the trip is like; the duration, group size and languages are the event's facts lines, not repeated."""
    return dict(title.pitch or PITCHES[category])


def season_of(start: date) -> str:
    return SUMMER if start.month in SUMMER_MONTHS else WINTER


def sunset(day: date, region: DemoRegion) -> datetime:
    """When the sun sets on ``day`` in ``region``, local wall time (the NOAA approximation: within minutes)."""
    latitude, longitude = POSITIONS[region.code]
    n = day.timetuple().tm_yday
    declination = math.radians(-23.44) * math.cos(2 * math.pi / 365 * (n + 10))
    lat = math.radians(latitude)
    cos_hour = (math.sin(math.radians(-0.833)) - math.sin(lat) * math.sin(declination)) / (
        math.cos(lat) * math.cos(declination)
    )
    hour_angle = math.degrees(math.acos(max(-1.0, min(1.0, cos_hour))))
    b = 2 * math.pi * (n - 81) / 364
    equation_of_time = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)  # minutes
    minutes = 720 - 4 * longitude - equation_of_time + 4 * hour_angle  # UTC
    at = datetime.combine(day, time(), UTC) + timedelta(minutes=minutes)
    return at.astimezone(ZoneInfo(region.timezone)).replace(tzinfo=None)


def _an_hour_before_sunset(region: DemoRegion) -> Callable[[date], time]:
    def starts(day: date) -> time:
        at = sunset(day, region) - timedelta(hours=1)
        quarter = round((at.hour * 60 + at.minute) / 15) * 15
        return time(quarter // 60, quarter % 60)

    return starts


def _duration(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "")


def _hotels(rng: random.Random, scale: int, taken: set[str]) -> list[dict[str, Any]]:
    hotels = []
    for region in REGIONS:
        names: set[str] = set()
        for _ in range(region.hotels * scale):
            for attempt in range(20):
                place = rng.choice(region.places)
                brand, kind = rng.choice(HOTEL_BRANDS), rng.choice(HOTEL_TYPES)
                pattern = rng.randrange(4)
                name = (f"{brand} {kind}", f"{kind} {place}", f"{place} {kind}", f"{brand} {place} {kind}")[pattern]
                if attempt >= 10:
                    name = f"{name} {rng.randrange(2, 100)}"
                if name not in names:
                    break
            names.add(name)
            hotel: dict[str, Any] = {
                "id": _unique(f"{region.code}-{_slug(name, 40)}", taken),
                "region": region.code,
                "name": name,
            }
            discount = rng.choices((0, 5, 10, 15, 20), weights=(4, 2, 3, 1, 1))[0]
            if discount:
                hotel["discount_percent"] = discount
            hotels.append(hotel)
    return hotels


def _organiser(
    rng: random.Random, region: DemoRegion, n: int, names: set[str], taken: set[str]
) -> tuple[dict[str, Any], tuple[str, ...], list[str]]:
    """An organiser of ``region``, the categories it runs and the languages its guides speak."""
    for attempt in range(30):
        first = rng.choice((*ORGANISER_BRANDS, *region.places)) if attempt < 20 else f"{region.name['en']} {n}"
        kind = rng.choice(tuple(ORGANISER_KINDS))
        name = f"{first} {kind}"
        if name not in names:
            break
    names.add(name)
    organiser: dict[str, Any] = {
        "id": _unique(_slug(name, 40), taken),
        "name": name,
        "chat_id": 700000 + n,
        "language": _weighted(rng, region.organiser_languages),
        "phone": _phone(rng, region),
        "confirm_within": rng.choice(CONFIRM_WITHIN),
        "pay_within": rng.choice(PAY_WITHIN),
        "hold": rng.choice(HOLDS),
        "reminders": list(rng.choice(REMINDERS)),
    }
    categories = ORGANISER_KINDS[kind]
    languages = ["en", *rng.sample(region.guide_languages, rng.choices((0, 1, 2), weights=(3, 5, 2))[0])]
    if rng.random() < 0.15:
        languages.remove("en")
        languages = languages or [region.guide_languages[0]]
    fitting = [
        q
        for q in QUESTIONS
        if set(QUESTION_FITS[q["id"]]) & set(categories) and (q["id"] != "guide-language" or len(languages) > 1)
    ]
    count = min(rng.choices((0, 1, 2), weights=(4, 4, 2))[0], len(fitting))
    if count:
        organiser["questions"] = [_question(q, languages) for q in rng.sample(fitting, count)]
    return organiser, categories, languages


def _question(question: dict[str, Any], languages: Sequence[str]) -> dict[str, Any]:
    """The question as this organiser asks it: the guide's language offers the languages its guides speak."""
    asked = dict(question)
    if asked["id"] == "guide-language":
        asked["choices"] = [{"id": code, "text": dict(LANGUAGE_NAMES[code])} for code in languages]
    return asked


def _sessions(
    rng: random.Random,
    start: date,
    times: Sequence[str],
    capacity: int,
    starts_on: Callable[[date], time] | None = None,
) -> list[dict[str, Any]]:
    """Sessions on some weekdays for :data:`DAYS` days, at one or two of ``times`` (or at ``starts_on(day)``)."""
    weekdays = set(rng.sample(range(7), rng.choices((1, 2, 3, 4, 5, 7), weights=(6, 8, 4, 2, 1, 1))[0]))
    slots = sorted(rng.sample(list(times), rng.choices((1, 2), weights=(4, 1))[0]))
    sessions = []
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        for slot in [starts_on(day)] if starts_on else [time.fromisoformat(slot) for slot in slots]:
            starts_at = datetime.combine(day, slot)
            session: dict[str, Any] = {"starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"), "capacity": capacity}
            if rng.random() < 0.01:
                session["status"] = "cancelled"
            sessions.append(session)
    return sessions


def _event(
    rng: random.Random,
    organiser: dict[str, Any],
    languages: list[str],
    region: DemoRegion,
    category: str,
    spec: Title,
    taken: set[str],
    start: date,
) -> dict[str, Any]:
    (low, high), durations, times, (cap_low, cap_high) = PROFILES[category]
    title = spec.text
    minutes = rng.choice(durations)
    capacity = rng.randint(cap_low, cap_high)
    on_water = category == "sea" or title["en"] in WATER_TITLES
    points = [p for p, water in region.meeting_points if water == on_water] or [p for p, _ in region.meeting_points]
    adult = rng.uniform(low, high)
    prices = {"adult": _money(adult, region.currency)}
    if category != "night" and rng.random() < 0.75:
        prices["child"] = _money(adult * 0.6, region.currency)
    if category in ("kids", "sea", "nature", "city") and rng.random() < 0.4:
        prices["family"] = _money(adult * 3, region.currency, whole=True)
    if rng.random() < 0.1:
        prices["senior"] = _money(adult * 0.8, region.currency)
    event: dict[str, Any] = {
        "id": _unique(f"{organiser['id'][:30]}-{_slug(title['en'], 28)}", taken),
        "organiser": organiser["id"],
        "region": region.code,
        "category": category,
        "title": {lang: f"{title[lang]} · {organiser['name']}" for lang in LANGS},
        "description": _description(category, spec),
        "meeting_point": dict(rng.choice(points)),
        "duration": _duration(minutes),
        "languages": list(languages),
        "currency": region.currency,
        "prices": prices,
        "confirmation": "instant" if rng.random() < 0.25 else "required",
        "sessions": _sessions(rng, start, times, capacity, _an_hour_before_sunset(region) if spec.sunset else None),
    }
    return event


DEMO_EARN_PERCENT = 5


def demo_points(region: DemoRegion) -> dict[str, int]:
    """The region's loyalty rule: 5% back in points; a referral is worth about €5 to each guest."""
    return {"earn_percent": DEMO_EARN_PERCENT, "referral_bonus": 5000 if region.currency == "SEK" else 500}


def build_demo_catalog(scale: int = 1, seed: int = 1, start: date | None = None) -> dict[str, Any]:
    """The demo catalog as a YAML-ready dict; sessions run for 21 days from ``start`` (default: today), and the
    events are those of ``start``'s season."""
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    rng = random.Random(seed)
    start = start or date.today()
    regions = [{"id": r.code, "timezone": r.timezone, "name": dict(r.name)} for r in REGIONS]
    for entry, region in zip(regions, REGIONS, strict=True):
        entry["points"] = demo_points(region)  # loyalty (issue 15)
    hotels = _hotels(rng, scale, set())
    organisers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    organiser_codes: set[str] = set()
    organiser_names: set[str] = set()
    event_codes: set[str] = set()
    season = season_of(start)
    in_season = {c: [t for t in TITLES[c] if t.runs_in(season)] for c in CATEGORIES}
    for region in REGIONS:
        for _ in range(region.organisers * scale):
            organiser, categories, languages = _organiser(
                rng, region, len(organisers) + 1, organiser_names, organiser_codes
            )
            organisers.append(organiser)
            if len(organisers) % 10 == 0:  # a few organisers give double points
                organiser["points"] = {"earn_percent": 2 * DEMO_EARN_PERCENT}
            specialities = rng.sample(categories, rng.randint(1, min(3, len(categories))))
            titles = [(category, title) for category in specialities for title in in_season[category]]
            # Most events run in the organiser's home region; a few in a neighbour of the same country.
            neighbours = [r for r in REGIONS if r.timezone == region.timezone]
            for category, title in rng.sample(titles, min(len(titles), rng.randint(2, 4))):
                where = rng.choice(neighbours) if rng.random() < 0.15 else region
                events.append(_event(rng, organiser, languages, where, category, title, event_codes, start))
    catalog = {"regions": regions, "hotels": hotels, "organisers": organisers, "events": events}
    add_places(catalog, seed)  # maps, photos, hotel pages, area guides (issue 15)
    return catalog


def catalog_counts(catalog: dict[str, Any]) -> dict[str, int]:
    counts = {kind: len(catalog.get(kind) or ()) for kind in ("regions", "hotels", "organisers", "events")}
    counts["sessions"] = sum(len(e.get("sessions") or ()) for e in catalog.get("events") or ())
    return counts


if TYPE_CHECKING:
    _SafeDumper = yaml.SafeDumper
else:  # libyaml's dumper when present: the same methods, several times faster
    _SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):
    """Writes shared texts out in full instead of as YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_demo_catalog(path: Path | str, scale: int = 1, seed: int = 1, start: date | None = None) -> dict[str, int]:
    """Write the demo catalog as YAML to ``path``; return the number of entries per kind (and of sessions)."""
    start = start or date.today()
    catalog = build_demo_catalog(scale=scale, seed=seed, start=start)
    dumper = _Dumper
    header = (
        f"# Tripdesk demo catalog: scale {scale}, seed {seed}, sessions for {DAYS} days from {start.isoformat()}.\n"
        f"# Generated by `tripdesk demo-data`; the format is described in docs/catalog.md.\n"
    )
    body = yaml.dump(catalog, Dumper=dumper, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
    Path(path).write_text(header + body, encoding="utf-8")
    return catalog_counts(catalog)
