"""Validation of the catalog file (no database): every refusal names the entry and the field at fault."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.catalog.demo import build_demo_catalog, catalog_counts
from bot.catalog.fields import local_to_utc
from bot.catalog.load import CatalogError, parse_catalog, read_yaml
from domain.model.catalog import Confirmation, QuestionKind, SessionStatus, TicketType

# The example of DESIGN.md ("The catalog file"), verbatim: every version must read it.
DESIGN_SAMPLE = """\
regions:
  - id: tallinn
    timezone: Europe/Tallinn
    name: {en: Tallinn, ru: Таллин, de: Tallinn, et: Tallinn}
hotels:
  - id: telegraaf
    region: tallinn
    name: Hotel Telegraaf
    discount_percent: 10            # partner discount on events for its guests
organisers:
  - id: baltic-boats
    name: Baltic Boats
    chat_id: 700001                 # where booking requests go (a user or a group)
    language: et
    phone: "+3725550001"
    confirm_within: 10m             # durations: 90s, 10m, 2h, 1d
    pay_within: 30m
    hold: 15m
    reminders: [24h, 2h]
    questions:
      - id: pickup
        text: {en: Where shall we pick you up?, ru: Откуда вас забрать?, de: Wo holen wir Sie ab?, et: Kust teid peale võtta?}
events:
  - id: islands-cruise
    organiser: baltic-boats
    region: tallinn
    category: sea
    title: {en: Islands cruise, ru: Круиз по островам, de: Inselkreuzfahrt, et: Saarte kruiis}
    description: {en: ..., ru: ..., de: ..., et: ...}
    meeting_point: {en: Pier 3, ru: Причал 3, de: Pier 3, et: Kai 3}
    duration: 3h
    languages: [en, ru]
    currency: EUR
    prices: {adult: "45.00", child: "25.00"}    # decimal strings; stored as integer minor units
    confirmation: required          # or: instant
    sessions:
      - starts_at: 2026-12-01T10:00 # local time of the region
        capacity: 20
"""  # noqa: E501 - DESIGN.md's sample verbatim: one translation line is longer than ours


def sample() -> dict[str, Any]:
    data = read_yaml(DESIGN_SAMPLE, "DESIGN.md")  # the importer's own loader: libyaml reads the `?,` above
    assert isinstance(data, dict)
    return data


def refusal(data: object) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    return caught.value


def only_problem(data: object) -> str:
    error = refusal(data)
    assert len(error.problems) == 1, error.problems
    assert str(error) == error.problems[0]
    return error.problems[0]


# ---- the accepted format -----------------------------------------------------------------------------------------


def test_the_design_sample_is_accepted() -> None:
    catalog = parse_catalog(sample())

    (region,) = catalog.regions
    assert (region.code, region.timezone, region.name["ru"]) == ("tallinn", "Europe/Tallinn", "Таллин")
    (hotel,) = catalog.hotels
    assert (hotel.code, hotel.region, hotel.name, hotel.discount_percent) == (
        "telegraaf",
        "tallinn",
        "Hotel Telegraaf",
        10,
    )
    (organiser,) = catalog.organisers
    assert organiser.chat_id == 700001 and organiser.language == "et" and organiser.phone == "+3725550001"
    assert (organiser.confirm_within, organiser.pay_within, organiser.hold) == (
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(minutes=15),
    )
    assert organiser.reminders == (timedelta(hours=24), timedelta(hours=2))
    (question,) = organiser.questions
    assert (question.id, question.kind, question.required, question.max_length) == (
        "pickup",
        QuestionKind.TEXT,
        True,
        200,
    )
    assert question.text["et"] == "Kust teid peale võtta?"
    (event,) = catalog.events
    assert event.prices == (TicketType("adult", 4500), TicketType("child", 2500))
    assert event.duration == timedelta(hours=3) and event.languages == ("en", "ru")
    assert event.confirmation is Confirmation.REQUIRED
    (session,) = event.sessions
    assert session.starts_at == datetime(2026, 12, 1, 10, 0) and session.capacity == 20 and session.status is None


def test_defaults_fill_the_optional_fields() -> None:
    data = sample()
    organiser = data["organisers"][0]
    for name in ("phone", "confirm_within", "pay_within", "hold", "reminders", "questions"):
        del organiser[name]
    event = data["events"][0]
    for name in ("description", "meeting_point", "confirmation", "sessions"):
        del event[name]
    del data["hotels"][0]["discount_percent"]

    catalog = parse_catalog(data)

    parsed = catalog.organisers[0]
    assert parsed.phone is None and parsed.questions == ()
    assert (parsed.confirm_within, parsed.pay_within, parsed.hold, parsed.reminders) == (
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(minutes=15),
        (timedelta(hours=24), timedelta(hours=2)),
    )
    assert catalog.hotels[0].discount_percent == 0
    assert catalog.events[0].description == {} and catalog.events[0].meeting_point == {}
    assert catalog.events[0].confirmation is Confirmation.REQUIRED and catalog.events[0].sessions == ()


def test_a_file_may_hold_only_some_sections() -> None:
    data = sample()
    catalog = parse_catalog({"events": data["events"]})  # references are checked against the database on import
    assert [e.code for e in catalog.events] == ["islands-cruise"] and catalog.regions == ()


def test_phone_is_normalised_to_e164() -> None:
    data = sample()
    data["organisers"][0]["phone"] = "372 5123 4567"
    assert parse_catalog(data).organisers[0].phone == "+37251234567"


def test_choice_questions_and_cancelled_sessions() -> None:
    data = sample()
    data["organisers"][0]["questions"].append(
        {
            "id": "lunch",
            "kind": "choice",
            "required": False,
            "text": {"en": "Which lunch?", "et": "Milline lõuna?"},
            "choices": [{"id": "fish", "text": {"en": "Fish"}}, {"id": "veg", "text": {"en": "Vegetarian"}}],
        }
    )
    data["events"][0]["sessions"].append({"starts_at": "2026-12-02T10:00", "capacity": 5, "status": "cancelled"})
    data["events"][0]["confirmation"] = "instant"

    catalog = parse_catalog(data)

    lunch = catalog.organisers[0].questions[1]
    assert lunch.kind is QuestionKind.CHOICE and not lunch.required
    assert [c.id for c in lunch.choices] == ["fish", "veg"]
    assert catalog.events[0].sessions[1].status is SessionStatus.CANCELLED
    assert catalog.events[0].confirmation is Confirmation.INSTANT


# ---- refusals name the entry and the field -------------------------------------------------------------------------


def test_bad_price_is_named_like_the_design_says() -> None:
    data = sample()
    data["events"][0]["prices"]["adult"] = "4x"
    assert only_problem(data) == 'events[0] (islands-cruise).prices.adult: "4x" is not a decimal amount such as "45.00"'


@pytest.mark.parametrize(
    ("prices", "field", "reason"),
    [
        ({"adult": "45.001"}, "prices.adult", "more than 2 decimal places for EUR"),
        ({"adult": "-5"}, "prices.adult", "negative"),
        ({"adult": True}, "prices.adult", "not a decimal amount"),
        ({"Adult": "5.00"}, "prices.Adult", "is not a ticket type"),
        ({}, "prices", "expected 1 to 6 ticket types"),
        ({f"t{i}": "1.00" for i in range(7)}, "prices", "got 7 ticket types"),
    ],
)
def test_price_refusals(prices: dict[str, object], field: str, reason: str) -> None:
    data = sample()
    data["events"][0]["prices"] = prices
    problem = only_problem(data)
    assert problem.startswith(f"events[0] (islands-cruise).{field}: ")
    assert reason in problem


def test_whole_numbers_are_prices_too() -> None:
    data = sample()
    data["events"][0]["prices"] = {"adult": 45, "child": "0"}
    assert parse_catalog(data).events[0].prices == (TicketType("adult", 4500), TicketType("child", 0))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("confirm_within", "10x", '"10x" is not a duration like 90s, 10m, 2h, 1d or 1h30m'),
        ("pay_within", "0m", "a duration must be longer than zero"),
        ("hold", 1.5, "is not a duration"),
        ("reminders", "24h", "expected a list of durations"),
    ],
)
def test_duration_refusals(field: str, value: object, reason: str) -> None:
    data = sample()
    data["organisers"][0][field] = value
    problem = only_problem(data)
    assert problem.startswith(f"organisers[0] (baltic-boats).{field}: ")
    assert reason in problem


def test_a_bad_reminder_is_named_by_its_index() -> None:
    data = sample()
    data["organisers"][0]["reminders"] = ["24h", "2 hours"]
    assert only_problem(data).startswith('organisers[0] (baltic-boats).reminders[1]: "2 hours" is not a duration')


def test_event_duration_is_required_and_positive() -> None:
    data = sample()
    data["events"][0]["duration"] = "0s"
    assert only_problem(data) == "events[0] (islands-cruise).duration: a duration must be longer than zero"
    del data["events"][0]["duration"]
    assert only_problem(data) == "events[0] (islands-cruise).duration: missing (required)"


@pytest.mark.parametrize(
    ("translations", "field", "reason"),
    [
        ({}, "title", "expected translations"),
        ({"en": ""}, "title.en", "expected non-empty text"),
        ({"en": "   "}, "title.en", "expected non-empty text"),
        ({"english": "Cruise"}, "title.english", '"english" is not a language code'),
        ({"EN": "Cruise"}, "title.EN", "is not a language code"),
        ({False: "Cruise"}, "title.False", 'write "no" in quotes'),  # YAML reads an unquoted `no:` as false
        ({"en": ["Cruise"]}, "title.en", "expected non-empty text"),
        ({"en": "x" * 201}, "title.en", "longer than 200"),
        ("Islands cruise", "title", "expected translations"),
    ],
)
def test_translation_refusals(translations: object, field: str, reason: str) -> None:
    data = sample()
    data["events"][0]["title"] = translations
    problem = only_problem(data)
    assert problem.startswith(f"events[0] (islands-cruise).{field}: ")
    assert reason in problem


def test_unquoted_no_in_yaml_gets_a_hint() -> None:
    data = sample()
    data["events"][0]["languages"] = yaml.safe_load("[en, no]")
    problem = only_problem(data)
    assert problem.startswith("events[0] (islands-cruise).languages[1]: false is not a language code")
    assert 'write "no" in quotes' in problem


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("regions", "Tallinn", '"Tallinn" is not an id'),
        ("regions", "-tallinn", "is not an id"),
        ("regions", "t" * 61, "is not an id"),
        ("regions", "tallinn city", "is not an id"),
        ("hotels", "hotel.telegraaf", "is not an id"),
        ("organisers", "", "is not an id"),
    ],
)
def test_id_refusals(kind: str, value: str, reason: str) -> None:
    data = sample()
    data[kind][0]["id"] = value
    problem = refusal(data).problems[0]
    assert problem.startswith(f"{kind}[0] ({value}).id: " if value else f"{kind}[0] ().id: ")
    assert reason in problem


def test_ids_may_be_written_as_numbers() -> None:
    data = sample()
    data["hotels"][0]["id"] = 1905
    assert parse_catalog(data).hotels[0].code == "1905"


def test_duplicate_ids_are_refused_with_the_first_place() -> None:
    data = sample()
    data["hotels"].append(dict(data["hotels"][0], name="Another Telegraaf"))
    assert only_problem(data) == (
        'hotels[1] (telegraaf).id: duplicate hotel id "telegraaf" (first at hotels[0] (telegraaf).id)'
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [("sea", True), ("day-trips", True), ("a" * 24, True), ("a" * 25, False), ("day_trips", False), ("Sea", False)],
)
def test_category_pattern(value: str, ok: bool) -> None:
    data = sample()
    data["events"][0]["category"] = value
    if ok:
        assert parse_catalog(data).events[0].category == value
    else:
        assert only_problem(data).startswith(f"events[0] (islands-cruise).category: {value!r}".replace("'", '"'))


def test_unknown_field_is_refused() -> None:
    data = sample()
    data["events"][0]["prise"] = {"adult": "45.00"}
    problem = only_problem(data)
    assert problem.startswith("events[0] (islands-cruise).prise: unknown field (expected one of: id, organiser,")


def test_unknown_field_in_a_nested_entry_is_refused() -> None:
    data = sample()
    data["events"][0]["sessions"][0]["seats"] = 5
    problem = only_problem(data)
    assert problem.startswith("events[0] (islands-cruise).sessions[0] (2026-12-01T10:00).seats: unknown field")


def test_unknown_section_is_refused() -> None:
    data = sample()
    data["venues"] = []
    assert only_problem(data) == "venues: unknown section (expected: regions, hotels, organisers, events)"


def test_missing_required_field() -> None:
    data = sample()
    del data["organisers"][0]["chat_id"]
    assert only_problem(data) == "organisers[0] (baltic-boats).chat_id: missing (required)"


@pytest.mark.parametrize(
    ("path", "value", "field", "reason"),
    [
        (("regions", 0, "timezone"), "Europe/Tallin", "regions[0] (tallinn).timezone", "not a time zone"),
        (("hotels", 0, "discount_percent"), 101, "hotels[0] (telegraaf).discount_percent", "out of range (0..100)"),
        (("hotels", 0, "discount_percent"), "10", "hotels[0] (telegraaf).discount_percent", "expected a whole number"),
        (("organisers", 0, "chat_id"), 0, "organisers[0] (baltic-boats).chat_id", "non-zero"),
        (("organisers", 0, "language"), "EN", "organisers[0] (baltic-boats).language", "not a language code"),
        (("organisers", 0, "phone"), "+372 12", "organisers[0] (baltic-boats).phone", "not a valid international"),
        (("events", 0, "currency"), "eur", "events[0] (islands-cruise).currency", "not a currency code"),
        (("events", 0, "confirmation"), "auto", "events[0] (islands-cruise).confirmation", "not one of: required"),
        (("events", 0, "languages"), [], "events[0] (islands-cruise).languages", "1 to 10 language codes"),
        (("events", 0, "languages"), ["en", "en"], "events[0] (islands-cruise).languages[1]", "listed twice"),
    ],
)
def test_field_refusals(path: tuple[str, int, str], value: object, field: str, reason: str) -> None:
    data = sample()
    kind, index, name = path
    data[kind][index][name] = value
    problem = only_problem(data)
    assert problem.startswith(f"{field}: ")
    assert reason in problem


@pytest.mark.parametrize(
    ("session", "field", "reason"),
    [
        ({"starts_at": "2026-12-01T10:00", "capacity": 0}, "capacity", "out of range (1..10000)"),
        ({"starts_at": "2026-12-01T10:00", "capacity": 10001}, "capacity", "out of range"),
        ({"starts_at": "2026-12-01T10:00", "capacity": 5, "status": "closed"}, "status", "not one of"),
        ({"starts_at": "2026-12-01", "capacity": 5}, "starts_at", "expected a local date and time"),
        ({"starts_at": date(2026, 12, 1), "capacity": 5}, "starts_at", "got only a date"),
        ({"starts_at": "tomorrow 10am", "capacity": 5}, "starts_at", "expected a local date and time"),
    ],
)
def test_session_refusals(session: dict[str, object], field: str, reason: str) -> None:
    data = sample()
    data["events"][0]["sessions"] = [session]
    problem = only_problem(data)
    assert problem.startswith("events[0] (islands-cruise).sessions[0] (")
    assert f").{field}: " in problem
    assert reason in problem


def test_two_sessions_at_the_same_time_are_refused() -> None:
    data = sample()
    data["events"][0]["sessions"].append({"starts_at": "2026-12-01T10:00", "capacity": 5})
    assert "a second session at the same time" in only_problem(data)


def test_a_local_time_in_the_dst_gap_is_refused() -> None:
    data = sample()
    # Tallinn skips 03:00-04:00 on the last Sunday of March.
    data["events"][0]["sessions"] = [{"starts_at": "2027-03-28T03:30", "capacity": 5}]
    assert only_problem(data) == (
        "events[0] (islands-cruise).sessions[0] (2027-03-28T03:30).starts_at: "
        "2027-03-28T03:30 does not exist in Europe/Tallinn (clocks skip it)"
    )


def test_local_times_to_utc() -> None:
    tallinn = ZoneInfo("Europe/Tallinn")
    assert local_to_utc(datetime(2026, 12, 1, 10, 0), tallinn) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 7, 1, 10, 0), tallinn) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    # 03:30 happens twice on 2026-10-25 (EEST then EET): the first occurrence wins.
    assert local_to_utc(datetime(2026, 10, 25, 3, 30), tallinn) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not exist"):
        local_to_utc(datetime(2026, 3, 29, 3, 30), tallinn)


def test_an_explicit_offset_is_honoured() -> None:
    data = sample()
    data["events"][0]["sessions"] = [{"starts_at": "2026-12-01T10:00+00:00", "capacity": 5}]
    assert parse_catalog(data).events[0].sessions[0].starts_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_question_refusals() -> None:
    data = sample()
    questions = data["organisers"][0]["questions"]
    questions.append(
        {"id": "size", "kind": "choice", "text": {"en": "Size?"}, "choices": [{"id": "s", "text": {"en": "S"}}]}
    )
    questions.append(
        {
            "id": "note",
            "text": {"en": "Note?"},
            "choices": [{"id": "a", "text": {"en": "A"}}, {"id": "b", "text": {"en": "B"}}],
        }
    )
    questions.append({"id": "pickup", "text": {"en": "Again?"}, "max_length": 5000})
    problems = refusal(data).problems
    assert problems == [
        "organisers[0] (baltic-boats).questions[1] (size).choices: a choice question needs 2 to 10 choices, got 1",
        "organisers[0] (baltic-boats).questions[2] (note).choices: only a question of kind: choice has choices",
        "organisers[0] (baltic-boats).questions[3] (pickup).max_length: 5000 is out of range (1..1000)",
    ]


def test_duplicate_question_id_is_refused() -> None:
    data = sample()
    data["organisers"][0]["questions"].append(copy.deepcopy(data["organisers"][0]["questions"][0]))
    assert 'duplicate question id "pickup"' in only_problem(data)


def test_every_problem_is_collected_and_the_message_stays_one_line() -> None:
    data = sample()
    data["events"][0]["prices"]["adult"] = "4x"
    data["events"][0]["duration"] = "3 hours"
    data["hotels"][0]["discount_percent"] = 150
    error = refusal(data)
    assert len(error.problems) == 3
    assert str(error) == error.problems[0] + " (and 2 more)"
    assert "\n" not in str(error)


@pytest.mark.parametrize("data", [None, [], "regions"])
def test_not_a_catalog(data: object) -> None:
    assert "expected a mapping with regions, hotels, organisers and events" in str(refusal(data))


# ---- the demo catalog ---------------------------------------------------------------------------------------------


def test_demo_catalog_is_deterministic_valid_and_sized() -> None:
    start = date(2026, 12, 1)
    first = build_demo_catalog(seed=7, start=start)
    assert first == build_demo_catalog(seed=7, start=start)
    assert first != build_demo_catalog(seed=8, start=start)

    counts = catalog_counts(first)
    assert counts["regions"] == 8
    assert 850 <= counts["hotels"] <= 1000 and 230 <= counts["organisers"] <= 260
    assert 2 * counts["organisers"] <= counts["events"] <= 4 * counts["organisers"]
    assert counts["sessions"] >= 2000

    catalog = parse_catalog(first)
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
    assert {o.language for o in catalog.organisers} == {"en", "ru", "de", "et"}
    assert all(set(e.title) == {"en", "ru", "de", "et"} for e in catalog.events)
    assert any(e.confirmation is Confirmation.INSTANT for e in catalog.events)
    assert any(q.kind is QuestionKind.CHOICE for o in catalog.organisers for q in o.questions)
    assert len({o.chat_id for o in catalog.organisers}) == len(catalog.organisers)
    starts = [s.starts_at for e in catalog.events for s in e.sessions]
    assert min(starts).date() >= start and max(starts).date() < start + timedelta(days=21)


def test_demo_catalog_scales_everything_but_regions() -> None:
    one = catalog_counts(build_demo_catalog(scale=1, start=date(2026, 12, 1)))
    two = build_demo_catalog(scale=2, start=date(2026, 12, 1))
    counts = catalog_counts(two)
    assert counts["regions"] == 8
    assert counts["hotels"] == 2 * one["hotels"] and counts["organisers"] == 2 * one["organisers"]
    assert counts["events"] > 1.7 * one["events"]
    parse_catalog(two)  # codes stay unique at any scale
