"""A realistic demo catalog: 8 Baltic and Nordic regions, ~900 hotels, ~240 organisers, ~700 events and several
thousand sessions over three weeks, with texts in English, Russian, German and Estonian.

The numbers follow the marketplace the design describes (905 partner hotels, 237 suppliers, 8 regions); ``scale``
multiplies hotels, organisers and events. The same ``seed`` and ``start`` always give the same file.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import phonenumbers
import yaml

from bot.catalog.demo_regions import REGIONS, DemoRegion, T
from bot.catalog.demo_tables import (
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
    QUESTIONS,
    REMINDERS,
    TITLES,
    WATER_TITLES,
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


def _hours(minutes: int) -> T:
    h, m = divmod(minutes, 60)
    return {
        "en": " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m else "") if p),
        "ru": " ".join(p for p in (f"{h} ч" if h else "", f"{m} мин" if m else "") if p),
        "de": " ".join(p for p in (f"{h} Std." if h else "", f"{m} Min." if m else "") if p),
        "et": " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m else "") if p),
    }


def _description(category: str, minutes: int, capacity: int, languages: Sequence[str]) -> T:
    hours = _hours(minutes)
    hours = {lang: text if text.endswith(".") else text + "." for lang, text in hours.items()}
    spoken = {lang: ", ".join(LANGUAGE_NAMES[code][lang] for code in languages) for lang in LANGS}
    return {
        "en": f"{PITCHES[category]['en']} Duration: {hours['en']} Groups of up to {capacity} people. "
        f"Languages: {spoken['en']}.",
        "ru": f"{PITCHES[category]['ru']} Продолжительность: {hours['ru']} Группы до {capacity} человек. "
        f"Языки: {spoken['ru']}.",
        "de": f"{PITCHES[category]['de']} Dauer: {hours['de']} Gruppen bis zu {capacity} Personen. "
        f"Sprachen: {spoken['de']}.",
        "et": f"{PITCHES[category]['et']} Kestus: {hours['et']} Grupis kuni {capacity} inimest. "
        f"Keeled: {spoken['et']}.",
    }


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
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """An organiser of ``region`` and the categories it runs."""
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
    count = rng.choices((0, 1, 2), weights=(4, 4, 2))[0]
    if count:
        organiser["questions"] = [dict(q) for q in rng.sample(QUESTIONS, count)]
    return organiser, ORGANISER_KINDS[kind]


def _sessions(rng: random.Random, start: date, times: Sequence[str], capacity: int) -> list[dict[str, Any]]:
    weekdays = set(rng.sample(range(7), rng.choices((1, 2, 3, 4, 5, 7), weights=(6, 8, 4, 2, 1, 1))[0]))
    slots = sorted(rng.sample(list(times), rng.choices((1, 2), weights=(4, 1))[0]))
    sessions = []
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        for slot in slots:
            starts_at = datetime.combine(day, time.fromisoformat(slot))
            session: dict[str, Any] = {"starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"), "capacity": capacity}
            if rng.random() < 0.01:
                session["status"] = "cancelled"
            sessions.append(session)
    return sessions


def _event(
    rng: random.Random,
    organiser: dict[str, Any],
    region: DemoRegion,
    category: str,
    title: T,
    taken: set[str],
    start: date,
) -> dict[str, Any]:
    (low, high), durations, times, (cap_low, cap_high) = PROFILES[category]
    minutes = rng.choice(durations)
    capacity = rng.randint(cap_low, cap_high)
    languages = ["en", *rng.sample(region.guide_languages, rng.choices((0, 1, 2), weights=(3, 5, 2))[0])]
    if rng.random() < 0.15:
        languages.remove("en")
        languages = languages or [region.guide_languages[0]]
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
        "description": _description(category, minutes, capacity, languages),
        "meeting_point": dict(rng.choice(points)),
        "duration": _duration(minutes),
        "languages": languages,
        "currency": region.currency,
        "prices": prices,
        "confirmation": "instant" if rng.random() < 0.25 else "required",
        "sessions": _sessions(rng, start, times, capacity),
    }
    return event


def build_demo_catalog(scale: int = 1, seed: int = 1, start: date | None = None) -> dict[str, Any]:
    """The demo catalog as a YAML-ready dict; sessions run for 21 days from ``start`` (default: today)."""
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    rng = random.Random(seed)
    start = start or date.today()
    regions = [{"id": r.code, "timezone": r.timezone, "name": dict(r.name)} for r in REGIONS]
    hotels = _hotels(rng, scale, set())
    organisers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    organiser_codes: set[str] = set()
    organiser_names: set[str] = set()
    event_codes: set[str] = set()
    for region in REGIONS:
        for _ in range(region.organisers * scale):
            organiser, categories = _organiser(rng, region, len(organisers) + 1, organiser_names, organiser_codes)
            organisers.append(organiser)
            specialities = rng.sample(categories, rng.randint(1, min(3, len(categories))))
            titles = [(category, title) for category in specialities for title in TITLES[category]]
            # Most events run in the organiser's home region; a few in a neighbour of the same country.
            neighbours = [r for r in REGIONS if r.timezone == region.timezone]
            for category, title in rng.sample(titles, min(len(titles), rng.randint(2, 4))):
                where = rng.choice(neighbours) if rng.random() < 0.15 else region
                events.append(_event(rng, organiser, where, category, title, event_codes, start))
    return {"regions": regions, "hotels": hotels, "organisers": organisers, "events": events}


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
