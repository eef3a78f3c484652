"""Importing catalog files into the real schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog.demo import write_demo_catalog
from bot.catalog.load import CatalogError
from bot.catalog.store import ImportReport, KindCounts, import_catalog
from bot.storage.catalog import event_from_row, organiser_from_row
from bot.storage.tables import EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from domain.model.catalog import Choice, QuestionKind, TicketType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"
TABLES = (RegionRow, HotelRow, OrganiserRow, EventRow, SessionRow)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalog row, as plain tuples: two snapshots are equal only if no row changed."""
    async with sessions() as s:
        result = {}
        for row in TABLES:
            table = row.__table__
            rows = await s.execute(select(table).order_by(table.c.id))
            result[row.__tablename__] = [tuple(r) for r in rows]
        return result


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as s:
        return {row.__tablename__: await s.scalar(select(func.count()).select_from(row)) or 0 for row in TABLES}


Coded = TypeVar("Coded", HotelRow, OrganiserRow, EventRow)


async def by_code(s: AsyncSession, row: type[Coded], code: str) -> Coded:
    """The row of ``row``'s table with ``code``, which must exist."""
    found = await s.scalar(select(row).where(row.code == code))
    assert found is not None, f"no {row.__tablename__} {code}"
    return found


async def session_row(sessions: async_sessionmaker[AsyncSession], event_code: str, starts_at: datetime) -> SessionRow:
    """The session of ``event_code`` at ``starts_at``, which must exist."""
    async with sessions() as s:
        row = await s.scalar(
            select(SessionRow)
            .join(EventRow, EventRow.id == SessionRow.event_id)
            .where(EventRow.code == event_code, SessionRow.starts_at == starts_at)
        )
    assert isinstance(row, SessionRow), f"no session of {event_code} at {starts_at}"
    return row


async def sell(sessions: async_sessionmaker[AsyncSession], event_code: str, starts_at: datetime, seats: int) -> None:
    row = await session_row(sessions, event_code, starts_at)
    async with sessions() as s, s.begin():
        await s.execute(update(SessionRow).where(SessionRow.id == row.id).values(seats_left=row.seats_left - seats))


def write(tmp_path: Path, text: str, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


CRUISE_FIRST = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 2026-12-01T10:00 in Tallinn (UTC+2)


async def test_the_example_imports(sessions: async_sessionmaker[AsyncSession]) -> None:
    report = await import_catalog(sessions, EXAMPLE)

    assert report == ImportReport(
        regions=KindCounts(created=2),
        hotels=KindCounts(created=3),
        organisers=KindCounts(created=2),
        events=KindCounts(created=4),
        sessions=KindCounts(created=10),
    )
    assert report.summary().startswith("regions 2 created, 0 updated, 0 unchanged; hotels 3 created")
    assert await counts(sessions) == {"regions": 2, "hotels": 3, "organisers": 2, "events": 4, "event_sessions": 10}

    async with sessions() as s:
        hotel = await by_code(s, HotelRow, "telegraaf")
        assert (hotel.name, hotel.search_name, hotel.discount_percent) == ("Hotel Telegraaf", "hotel telegraaf", 10)
        boats = organiser_from_row(await by_code(s, OrganiserRow, "baltic-boats"))
        assert boats.phone == "+3725550001" and boats.language == "et" and boats.chat_id == 700001
        assert [int(r.total_seconds()) for r in boats.reminders] == [86400, 7200]
        assert boats.confirm_within.total_seconds() == 600 and boats.hold.total_seconds() == 900
        pickup, lunch = boats.questions
        assert (pickup.id, pickup.kind, pickup.max_length, pickup.required) == ("pickup", QuestionKind.TEXT, 120, True)
        assert lunch.kind is QuestionKind.CHOICE
        assert lunch.choices[1] == Choice(
            "veg", {"en": "Vegetarian", "ru": "Вегетарианский", "de": "Vegetarisch", "et": "Taimetoit"}
        )
        walks = await by_code(s, OrganiserRow, "nordic-walks")
        assert walks.chat_id == -1001234567890 and walks.phone is None and walks.pay_within_s == 1800

        cruise = event_from_row(await by_code(s, EventRow, "islands-cruise"))
        assert cruise.ticket_types == (
            TicketType("adult", 4500),
            TicketType("child", 2500),
            TicketType("family", 12000),
        )
        assert cruise.duration.total_seconds() == 3 * 3600 and cruise.needs_confirmation
        walk = event_from_row(await by_code(s, EventRow, "old-town-walk"))
        assert not walk.needs_confirmation and walk.meeting_point["et"] == "Viru värav"
        sailing = event_from_row(await by_code(s, EventRow, "archipelago-sailing"))
        assert sailing.currency == "SEK" and sailing.ticket_types[0] == TicketType("adult", 65000)
        assert sailing.description == {}

    first = await session_row(sessions, "islands-cruise", CRUISE_FIRST)
    assert (first.capacity, first.seats_left, first.status) == (20, 20, "scheduled")
    assert first.starts_at == CRUISE_FIRST and first.starts_at.tzinfo is not None
    # Stockholm is UTC+1 in December: 09:00 local is 08:00 UTC.
    assert await session_row(sessions, "archipelago-sailing", datetime(2026, 12, 6, 8, 0, tzinfo=UTC))
    cancelled = await session_row(sessions, "old-town-walk", datetime(2026, 12, 4, 13, 30, tzinfo=UTC))
    assert cancelled.status == "cancelled"


async def test_importing_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await import_catalog(sessions, EXAMPLE)
    before = await snapshot(sessions)

    report = await import_catalog(sessions, EXAMPLE)

    assert not report.changed
    assert report.as_dict() == {
        "regions": {"created": 0, "updated": 0, "unchanged": 2},
        "hotels": {"created": 0, "updated": 0, "unchanged": 3},
        "organisers": {"created": 0, "updated": 0, "unchanged": 2},
        "events": {"created": 0, "updated": 0, "unchanged": 4},
        "sessions": {"created": 0, "updated": 0, "unchanged": 10},
    }
    assert await snapshot(sessions) == before


async def test_changes_are_upserted_by_id(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_catalog(sessions, EXAMPLE)
    before = await snapshot(sessions)
    changed = (
        example_text()
        .replace("name: Hotel Telegraaf", "name: Hotel Telegraaf Tallinn")
        .replace('prices: {adult: "15.00"}', 'prices: {adult: "17.50"}')
        .replace(
            "      - {starts_at: 2026-12-05T20:00, capacity: 12}",
            "      - {starts_at: 2026-12-05T20:00, capacity: 12}\n      - {starts_at: 2026-12-06T20:00, capacity: 12}",
        )
    )

    report = await import_catalog(sessions, write(tmp_path, changed))

    assert report.hotels == KindCounts(updated=1, unchanged=2)
    assert report.events == KindCounts(updated=1, unchanged=3)
    assert report.sessions == KindCounts(created=1, unchanged=10)
    after = await snapshot(sessions)
    assert [r[0] for r in after["hotels"]] == [r[0] for r in before["hotels"]]  # same rows, same ids
    async with sessions() as s:
        hotel = await by_code(s, HotelRow, "telegraaf")
        assert hotel.search_name == "hotel telegraaf tallinn"
        walk = await by_code(s, EventRow, "old-town-walk")
        assert walk.prices == [{"code": "adult", "price_minor": 1750}]


async def test_a_bad_file_imports_nothing(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    # Valid except one price in the last event.
    bad = example_text().replace(
        'prices: {adult: "650.00", child: "350.00"}', 'prices: {adult: "6x0", child: "350.00"}'
    )
    assert bad != example_text()

    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, write(tmp_path, bad))

    assert str(caught.value) == (
        'events[3] (archipelago-sailing).prices.adult: "6x0" is not a decimal amount such as "45.00"'
    )
    assert await counts(sessions) == {"regions": 0, "hotels": 0, "organisers": 0, "events": 0, "event_sessions": 0}


async def test_a_bad_file_changes_nothing_in_a_filled_database(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    before = await snapshot(sessions)
    # Real changes at the top, an unknown organiser at the bottom (only the database can tell it is unknown).
    bad = (
        example_text()
        .replace("name: Hotel Telegraaf", "name: Hotel Telegraaf Tallinn")
        .replace(
            "    organiser: baltic-boats\n    region: stockholm", "    organiser: baltic-boat\n    region: stockholm"
        )
    )

    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, write(tmp_path, bad))

    assert caught.value.problems == [
        'events[3] (archipelago-sailing).organiser: no organiser "baltic-boat" in the file or the database'
    ]
    assert await snapshot(sessions) == before


async def test_references_may_point_into_the_database(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    only_event = """
events:
  - id: winter-lights
    organiser: baltic-boats
    region: stockholm
    category: night
    title: {en: Winter lights cruise, ru: Круиз зимних огней, de: Winterlichter-Fahrt, et: Talvetulede kruiis}
    duration: 1h30m
    languages: [en]
    currency: SEK
    prices: {adult: 250}
    sessions:
      - {starts_at: 2026-12-10T18:00, capacity: 40}
"""
    report = await import_catalog(sessions, write(tmp_path, only_event))

    assert report.events == KindCounts(created=1) and report.sessions == KindCounts(created=1)
    assert report.regions == KindCounts() and report.organisers == KindCounts()
    # The region's zone came from the database: 18:00 in Stockholm is 17:00 UTC.
    row = await session_row(sessions, "winter-lights", datetime(2026, 12, 10, 17, 0, tzinfo=UTC))
    assert row is not None and row.capacity == 40


async def test_unknown_references_are_refused(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    text = example_text().replace(
        "    region: stockholm\n    name: Gamla Stan Inn", "    region: stokholm\n    name: Gamla Stan Inn"
    )

    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, write(tmp_path, text))

    assert str(caught.value) == 'hotels[2] (gamla-stan-inn).region: no region "stokholm" in the file or the database'
    assert (await counts(sessions))["regions"] == 0


async def test_a_capacity_change_keeps_the_sold_seats(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    await sell(sessions, "islands-cruise", CRUISE_FIRST, 7)
    grown = example_text().replace(
        "      - starts_at: 2026-12-01T10:00     # local time of the region: 08:00 UTC\n        capacity: 20",
        "      - starts_at: 2026-12-01T10:00\n        capacity: 25",
    )
    assert grown != example_text()

    report = await import_catalog(sessions, write(tmp_path, grown))

    assert report.sessions == KindCounts(updated=1, unchanged=9)
    row = await session_row(sessions, "islands-cruise", CRUISE_FIRST)
    assert (row.capacity, row.seats_left) == (25, 18)  # 7 sold stay sold

    exact = grown.replace("        capacity: 25", "        capacity: 7")
    await import_catalog(sessions, write(tmp_path, exact))
    row = await session_row(sessions, "islands-cruise", CRUISE_FIRST)
    assert (row.capacity, row.seats_left) == (7, 0)


async def test_shrinking_below_the_sold_seats_is_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    await sell(sessions, "islands-cruise", CRUISE_FIRST, 7)
    before = await snapshot(sessions)
    shrunk = (
        example_text()
        .replace(
            "      - starts_at: 2026-12-01T10:00     # local time of the region: 08:00 UTC\n        capacity: 20",
            "      - starts_at: 2026-12-01T10:00\n        capacity: 6",
        )
        .replace("name: Hotel Telegraaf", "name: Hotel Telegraaf Tallinn")
    )

    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, write(tmp_path, shrunk))

    assert str(caught.value) == (
        "events[0] (islands-cruise).sessions[0] (2026-12-01T10:00).capacity: 6 is fewer than the 7 seats already sold"
    )
    assert await snapshot(sessions) == before


async def test_sessions_left_out_of_the_file_stay(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_catalog(sessions, EXAMPLE)
    before = await snapshot(sessions)
    fewer = example_text().replace("      - {starts_at: 2026-12-13T09:00, capacity: 8}\n", "")
    assert fewer != example_text()

    report = await import_catalog(sessions, write(tmp_path, fewer))

    assert report.sessions == KindCounts(unchanged=9)
    assert await snapshot(sessions) == before


async def test_status_cancels_and_an_omitted_status_keeps_the_current_one(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    first = "      - {starts_at: 2026-12-06T09:00, capacity: 8}   # 08:00 UTC"
    cancel = example_text().replace(first, "      - {starts_at: 2026-12-06T09:00, capacity: 8, status: cancelled}")
    sailing_first = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)

    report = await import_catalog(sessions, write(tmp_path, cancel))
    assert report.sessions == KindCounts(updated=1, unchanged=9)
    assert (await session_row(sessions, "archipelago-sailing", sailing_first)).status == "cancelled"

    # The original file does not say `status`: an operator's (or an earlier file's) cancellation stands.
    report = await import_catalog(sessions, EXAMPLE)
    assert report.sessions == KindCounts(unchanged=10)
    assert (await session_row(sessions, "archipelago-sailing", sailing_first)).status == "cancelled"

    restore = example_text().replace(first, "      - {starts_at: 2026-12-06T09:00, capacity: 8, status: scheduled}")
    report = await import_catalog(sessions, write(tmp_path, restore))
    assert report.sessions == KindCounts(updated=1, unchanged=9)
    assert (await session_row(sessions, "archipelago-sailing", sailing_first)).status == "scheduled"


async def test_invalid_yaml_names_the_file_and_the_line(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write(tmp_path, "regions:\n  - id: tallinn\n    name: {en: Tallinn\n  - id: riga\n", "broken.yaml")
    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, path)
    assert str(caught.value).startswith(f"{path}, line ")
    assert "invalid YAML" in str(caught.value)


async def test_a_key_written_twice_is_refused(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    text = example_text().replace(
        '    prices: {adult: "15.00"}\n', '    prices: {adult: "15.00"}\n    prices: {adult: "1.00"}\n'
    )
    with pytest.raises(CatalogError) as caught:
        await import_catalog(sessions, write(tmp_path, text))
    assert "the key 'prices' appears twice" in str(caught.value) and ", line " in str(caught.value)
    assert (await counts(sessions))["events"] == 0


async def test_a_missing_file_is_named(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        await import_catalog(sessions, tmp_path / "nope.yaml")


async def test_the_demo_catalog_imports_and_reimports_unchanged(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "demo.yaml"
    written = write_demo_catalog(path, scale=1, seed=1, start=date(2026, 12, 1))

    first = await import_catalog(sessions, path)

    in_db = await counts(sessions)
    assert in_db == {
        "regions": written["regions"],
        "hotels": written["hotels"],
        "organisers": written["organisers"],
        "events": written["events"],
        "event_sessions": written["sessions"],
    }
    assert in_db["regions"] == 8 and in_db["hotels"] >= 850 and in_db["organisers"] >= 230
    assert in_db["event_sessions"] >= 2000
    assert first.sessions == KindCounts(created=written["sessions"])

    second = await import_catalog(sessions, path)

    assert not second.changed
    assert second.sessions == KindCounts(unchanged=written["sessions"])
    assert second.hotels == KindCounts(unchanged=written["hotels"])
    assert await counts(sessions) == in_db
