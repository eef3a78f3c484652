"""``tripdesk export orders``: one row per order created in a date range, as CSV or as an Excel workbook (xlsx).

No personal data (no names, phones, usernames, answers): codes, dates, statuses and amounts. Rows are read in
batches and written as they come. The CSV has times in UTC (ISO 8601) and amounts as decimal text; the workbook is
written by openpyxl in write-only mode (constant memory) with real cells: times in the region's time zone, amounts
as numbers in the currency's format, the header row frozen, an autofilter and readable column widths.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.desk_queries import EXPORT_COLUMNS, export_rows
from bot.storage.tables import RegionRow
from domain.rules.money import currency_exponent, to_decimal

if TYPE_CHECKING:  # openpyxl keeps the write-only sheet's class in a private module; it is only a type here
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMATS = ("csv", "xlsx")
_TIMES = tuple(EXPORT_COLUMNS.index(name) for name in ("created", "session_start", "paid_at"))
_AMOUNTS = tuple(EXPORT_COLUMNS.index(name) for name in ("total", "refunded"))
_CURRENCY = EXPORT_COLUMNS.index("currency")
_REGION = EXPORT_COLUMNS.index("region")


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """``[first 00:00 UTC, the day after last 00:00 UTC)``: both dates inclusive."""
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def _typed(raw: Sequence[Any]) -> list[Any]:
    """The columns of :data:`EXPORT_COLUMNS` with times as aware UTC datetimes, amounts as decimals in the
    currency's units (``Decimal("45.00")``) and None for nothing."""
    row = list(raw)
    currency = row[_CURRENCY]
    for index in _AMOUNTS:
        row[index] = to_decimal(int(row[index] or 0), currency)
    for index in _TIMES:
        if row[index] is not None:
            row[index] = row[index].astimezone(UTC)
    return row


async def order_rows(sessions: async_sessionmaker[Any], first: date, last: date) -> AsyncIterator[list[Any]]:
    start, end = day_range(first, last)
    async with sessions() as db:
        async for raw in export_rows(db, start, end):
            yield _typed(raw)


async def region_zones(sessions: async_sessionmaker[Any]) -> dict[str, str]:
    """Every region's code and its IANA time zone (a handful of rows)."""
    async with sessions() as db:
        return dict((await db.execute(select(RegionRow.code, RegionRow.timezone))).all())


# ---- csv ----------------------------------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


async def write_csv(rows: AsyncIterator[list[Any]], out: IO[str]) -> int:
    """Times as UTC ISO 8601, amounts as ``45.00``, empty for nothing."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for row in rows:
        writer.writerow([_text(v) for v in row])
        count += 1
    return count


# ---- xlsx ---------------------------------------------------------------------------------------------------------

XLSX_COLUMNS = (*EXPORT_COLUMNS[: _REGION + 1], "time_zone", *EXPORT_COLUMNS[_REGION + 1 :])
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_XLSX_TIMES = tuple(XLSX_COLUMNS.index(EXPORT_COLUMNS[i]) for i in _TIMES)
# how wide a column's values usually are, in characters; the header's own length is the other bound
_CONTENT_WIDTHS = {
    **dict.fromkeys(("code", "ticket"), 12),
    **dict.fromkeys(("region", "total", "refunded"), 14),
    **dict.fromkeys(("payment", "hotel"), 16),
    **dict.fromkeys(("time_zone", "organiser"), 18),
    "booking": 20,  # awaiting_organiser
    "event": 24,
    **{EXPORT_COLUMNS[i]: len("2026-12-31 23:59") for i in _TIMES},
}


def money_format(currency: str) -> str:
    """Excel's number format for amounts in ``currency``: the code, thousands grouped, its minor digits."""
    digits = currency_exponent(currency)
    return f"[${currency}] #,##0" + ("." + "0" * digits if digits else "")


def xlsx_header(zones: dict[str, str]) -> list[str]:
    """The column names; a time column names its zone when every region has the same one (Excel cells have no
    zone), else it points at the ``time_zone`` column that every row has."""
    distinct = set(zones.values())
    where = next(iter(distinct)) if len(distinct) == 1 else "local time, see time_zone"
    return [f"{name} ({where})" if i in _XLSX_TIMES else name for i, name in enumerate(XLSX_COLUMNS)]


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time in ``zone``, naive: what an Excel cell can hold."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _cells(sheet: WriteOnlyWorksheet, row: list[Any], zones: dict[str, ZoneInfo]) -> list[Any]:
    region = row[_REGION]
    zone = zones.get(region, ZoneInfo("UTC"))
    currency = row[_CURRENCY]
    cells: list[Any] = []
    for index, value in enumerate(row):
        if value is None:
            cells.append(None)
        elif index in _TIMES:
            cell = WriteOnlyCell(sheet, value=_local(value, zone))
            cell.number_format = DATETIME_FORMAT
            cells.append(cell)
        elif index in _AMOUNTS:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = money_format(currency)
            cells.append(cell)
        elif isinstance(value, str):
            cells.append(ILLEGAL_CHARACTERS_RE.sub("", value))
        else:
            cells.append(value)
        if index == _REGION:
            cells.append(zone.key)
    return cells


async def write_xlsx(rows: AsyncIterator[list[Any]], out: IO[bytes], zones: dict[str, str]) -> int:
    """One sheet, ``orders``; ``zones`` maps each region's code to its time zone."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("orders")
    header = xlsx_header(zones)
    for number, name in enumerate(header, start=1):
        width = max(len(name), _CONTENT_WIDTHS.get(XLSX_COLUMNS[number - 1], 0)) + 2
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for name in header:
        title = WriteOnlyCell(sheet, value=name)
        title.font = bold
        titles.append(title)
    sheet.append(titles)
    zone_infos = {code: ZoneInfo(zone) for code, zone in zones.items()}
    count = 0
    async for row in rows:
        sheet.append(_cells(sheet, row, zone_infos))
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    book.save(out)
    return count


async def export_orders(sessions: async_sessionmaker[Any], first: date, last: date, fmt: str, out: IO[Any]) -> int:
    """Write the orders created from ``first`` to ``last`` (UTC days, inclusive) to ``out`` (text for csv, binary
    for xlsx); returns how many."""
    rows = order_rows(sessions, first, last)
    if fmt == "csv":
        return await write_csv(rows, out)
    if fmt == "xlsx":
        return await write_xlsx(rows, out, await region_zones(sessions))
    raise ValueError(f"unknown format {fmt!r}")
