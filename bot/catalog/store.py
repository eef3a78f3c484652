"""Importing a catalog file: the all-or-nothing upsert into the database (:func:`import_catalog`).

The file is read and validated first (:mod:`bot.catalog.load`); then its references are checked against the file
and the database, and everything is written in one transaction, so a bad file imports nothing. Entries are
matched by their ``id`` (stored as ``code``), sessions by (event, start time). Rows in the database that the file
does not mention are left as they are: orders reference sessions, and a catalog file may well describe only a part
of the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog.changes import (
    Reconciled,
    drop_settled,
    keep_events,
    keep_organisers,
    keep_session_capacity,
    keep_stopped_sales,
    load_notes,
)
from bot.catalog.fields import NAME_MAX, local_to_utc
from bot.catalog.load import CatalogError, load_catalog
from bot.catalog.points_store import write_points_rules
from bot.catalog.refusals import show
from bot.catalog.schema import Catalog, EventSpec, HotelSpec, OrganiserSpec, QuestionSpec, RegionSpec, SessionSpec
from bot.catalog.store_places import write_places
from bot.storage.tables import Base, EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from domain.model.catalog import SessionStatus

__all__ = ["ImportReport", "KindCounts", "import_catalog"]


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
    # values an organiser changed in the chat since: kept (the file did not change them) or replaced (it did)
    kept: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self._counts().values())

    def _counts(self) -> dict[str, KindCounts]:
        return {f.name: c for f in fields(self) if isinstance(c := getattr(self, f.name), KindCounts)}

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in self._counts().items()
        }

    def summary(self) -> str:
        """One line, e.g. ``regions 2 created, 0 updated, 0 unchanged; hotels 3 created, ...``; then one line per
        value an organiser changed in the chat that the import kept or replaced."""
        line = "; ".join(
            f"{name} {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for name, c in self.as_dict().items()
        )
        return "\n".join([line, *(f"kept: {k}" for k in self.kept), *(f"replaced: {r}" for r in self.replaced)])


async def import_catalog(sessions: async_sessionmaker[AsyncSession], path: Path | str) -> ImportReport:
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


# ---- the rows as the file wants them ---------------------------------------------------------------------------


def _question_dict(question: QuestionSpec) -> dict[str, Any]:
    """The ``organisers.questions`` JSON shape read back by ``bot.storage.catalog.question_from_dict``."""
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
        "waitlist_claim_window_s": int(spec.waitlist_claim_window.total_seconds()),
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
    "waitlist_claim_window_s",
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


# ---- reading and writing rows in bulk --------------------------------------------------------------------------


def _table(row: type[Base]) -> Table:
    table = row.__table__
    assert isinstance(table, Table)  # every row class maps one table
    return table


async def _existing(s: AsyncSession, row: type[Base], columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every row of ``row``'s table as ``{code: {"id": ..., column: value}}``: one SELECT per kind."""
    table = _table(row)
    result = await s.execute(select(table.c.id, table.c.code, *(table.c[name] for name in columns)))
    return {r.code: r._asdict() for r in result}


async def _write(
    s: AsyncSession,
    row: type[Base],
    wanted: Sequence[tuple[str, dict[str, Any]]],
    existing: Mapping[str, dict[str, Any]],
) -> tuple[KindCounts, dict[str, int]]:
    """Insert the new codes and update the changed ones in bulk (Core executemany, no ORM objects); return the
    counts and the id of every code in ``wanted``."""
    table = _table(row)
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
    if updates:  # one executemany UPDATE; every dict has ``row_id`` and the same other keys
        names = [name for name in updates[0] if name != "row_id"]
        statement = update(table).where(table.c.id == bindparam("row_id"))
        await s.execute(statement.values({name: bindparam(name) for name in names}), updates)
    return KindCounts(created=len(inserts), updated=len(updates), unchanged=unchanged), ids


# ---- the upsert ------------------------------------------------------------------------------------------------


async def _upsert(s: AsyncSession, catalog: Catalog) -> ImportReport:
    problems: list[str] = []
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
            problems.append(
                f"hotels[{i}] ({hotel.code}).region: no region {show(hotel.region)} in the file or the database"
            )

    # Session times in UTC: the region's zone may come from the database, so they are resolved here.
    starts: list[list[datetime | None]] = []
    hot_plan: dict[tuple[int, datetime], dict[str, Any]] = {}  # (event index, UTC start) -> the waiting room's values
    for i, event in enumerate(catalog.events):
        where = f"events[{i}] ({event.code})"
        if event.organiser not in organiser_codes:
            problems.append(f"{where}.organiser: no organiser {show(event.organiser)} in the file or the database")
        zone_key = zones.get(event.region)
        if zone_key is None:
            problems.append(f"{where}.region: no region {show(event.region)} in the file or the database")
            starts.append([None] * len(event.sessions))
            continue
        zone = ZoneInfo(zone_key)
        event_starts: list[datetime | None] = []
        seen: set[datetime] = set()
        for j, session in enumerate(event.sessions):
            utc: datetime | None
            try:
                utc = local_to_utc(session.starts_at, zone)
            except ValueError as exc:
                problems.append(f"{where}.sessions[{j}] ({session.label}).starts_at: {exc}")
                utc = None
            if utc is not None:
                hot_plan[(i, utc)] = _hot_values(
                    event, session, zone, f"{where}.sessions[{j}] ({session.label})", problems
                )
            if utc is not None and utc in seen:
                problems.append(f"{where}.sessions[{j}] ({session.label}).starts_at: a second session at the same time")
            elif utc is not None:
                seen.add(utc)
            event_starts.append(utc)
        starts.append(event_starts)

    # Existing sessions of the events in the file, within the file's time span: one SELECT.
    all_starts = [t for event_starts in starts for t in event_starts if t is not None]
    sessions_db: dict[tuple[int, datetime], dict[str, Any]] = {}
    if all_starts:
        table = _table(SessionRow)
        known_events = {events_db[e.code]["id"] for e in catalog.events if e.code in events_db}
        result = await s.execute(
            select(
                table.c.id,
                table.c.event_id,
                table.c.starts_at,
                table.c.capacity,
                table.c.seats_left,
                table.c.status,
                table.c.sales_stopped,
                *(table.c[name] for name in _HOT_COLUMNS),
            ).where(table.c.starts_at >= min(all_starts), table.c.starts_at <= max(all_starts))
        )
        sessions_db = {(r.event_id, r.starts_at): r._asdict() for r in result if r.event_id in known_events}

    # Capacity changes keep the seats already sold; an organiser's change of a capacity stays while the file still
    # says what the catalog said then (bot/catalog/changes.py).
    notes, done = await load_notes(s), Reconciled()
    session_plan: list[tuple[int, SessionSpec, datetime, int]] = []  # (event index, spec, UTC start, capacity)
    for i, event in enumerate(catalog.events):
        event_id = events_db.get(event.code, {}).get("id")
        for j, (session, start) in enumerate(zip(event.sessions, starts[i], strict=True)):
            if start is None:
                continue
            old = sessions_db.get((event_id, start)) if event_id is not None else None
            capacity = session.capacity
            if old is not None:
                where = f"event {event.code} session {session.label}"
                capacity = keep_session_capacity(done, notes, where, session.capacity, old)
                keep_stopped_sales(done, where, old)
                sold = old["capacity"] - old["seats_left"]
                if capacity < sold:
                    problems.append(
                        f"events[{i}] ({event.code}).sessions[{j}] ({session.label}).capacity: "
                        f"{capacity} is fewer than the {sold} seats already sold"
                    )
                    continue
            session_plan.append((i, session, start, capacity))
    if problems:
        raise CatalogError(problems)

    # Writes, parents first.
    region_counts, region_ids = await _write(
        s, RegionRow, [(r.code, _region_values(r)) for r in catalog.regions], regions_db
    )
    region_ids = {**{code: row["id"] for code, row in regions_db.items()}, **region_ids}
    organisers = [(o.code, _organiser_values(o)) for o in catalog.organisers]
    keep_organisers(done, notes, organisers, organisers_db)
    organiser_counts, organiser_ids = await _write(s, OrganiserRow, organisers, organisers_db)
    organiser_ids = {**{code: row["id"] for code, row in organisers_db.items()}, **organiser_ids}
    await write_points_rules(s, catalog, region_ids, organiser_ids)  # loyalty (issue 15)
    hotel_counts, hotel_ids = await _write(
        s, HotelRow, [(h.code, _hotel_values(h, region_ids[h.region])) for h in catalog.hotels], hotels_db
    )
    events = [(e.code, _event_values(e, organiser_ids[e.organiser], region_ids[e.region])) for e in catalog.events]
    keep_events(done, notes, events, events_db)
    event_counts, event_ids = await _write(s, EventRow, events, events_db)
    await write_places(s, catalog, region_ids, hotel_ids, event_ids)  # the map, photos, hotel pages, area guides
    await drop_settled(s, done.settled)
    session_counts = await _write_sessions(s, catalog, session_plan, event_ids, sessions_db, hot_plan)
    return ImportReport(
        regions=region_counts,
        hotels=hotel_counts,
        organisers=organiser_counts,
        events=event_counts,
        sessions=session_counts,
        kept=tuple(done.kept),
        replaced=tuple(done.replaced),
    )


async def _write_sessions(
    s: AsyncSession,
    catalog: Catalog,
    plan: Sequence[tuple[int, SessionSpec, datetime, int]],
    event_ids: Mapping[str, int],
    existing: Mapping[tuple[int, datetime], dict[str, Any]],
    hot_plan: Mapping[tuple[int, datetime], dict[str, Any]],
) -> KindCounts:
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for i, session, start, capacity in plan:
        event_id = event_ids[catalog.events[i].code]
        old = existing.get((event_id, start))
        if old is None:
            inserts.append(
                {
                    "event_id": event_id,
                    "starts_at": start,
                    "capacity": capacity,
                    "seats_left": capacity,
                    "status": (session.status or SessionStatus.SCHEDULED).value,
                    **hot_plan[(i, start)],
                }
            )
            continue
        status = session.status.value if session.status else old["status"]
        hot = hot_plan[(i, start)]
        if capacity == old["capacity"] and status == old["status"] and all(hot[k] == old[k] for k in hot):
            unchanged += 1
            continue
        updates.append(
            {"row_id": old["id"], "capacity": capacity, "status": status}
            | {f"new_{key}": value for key, value in hot.items()}
        )
    table = _table(SessionRow)
    if inserts:
        await s.execute(insert(table), inserts)
    if updates:
        # Relative to the row as it is at UPDATE time, so a booking that lands between our read and this write
        # is kept too (seats sold = capacity - seats_left); the CHECK seats_left >= 0 refuses an oversell.
        await s.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                capacity=bindparam("capacity"),
                seats_left=table.c.seats_left + bindparam("capacity") - table.c.capacity,
                status=bindparam("status"),
                **{name: bindparam(f"new_{name}") for name in _HOT_COLUMNS},
            ),
            updates,
        )
    return KindCounts(created=len(inserts), updated=len(updates), unchanged=unchanged)


_HOT_COLUMNS = ("hot", "sale_opens_at", "admission_window_s")


def _hot_values(
    event: EventSpec, session: SessionSpec, zone: ZoneInfo, where: str, problems: list[str]
) -> dict[str, Any]:
    """A session's waiting-room columns: what the session says, else what its event says (``sale_opens_at`` in the
    region's time, stored in UTC)."""
    opens = session.sale_opens_at or event.sale_opens_at
    opens_utc: datetime | None = None
    if opens is not None:
        try:
            opens_utc = local_to_utc(opens, zone)
        except ValueError as exc:
            problems.append(f"{where}.sale_opens_at: {exc}")
    window = session.admission_window or event.admission_window
    return {
        "hot": event.hot if session.hot is None else session.hot,
        "sale_opens_at": opens_utc,
        "admission_window_s": int(window.total_seconds()) if window is not None else None,
    }
