"""``tripdesk export orders``: one row per order created in a date range, as CSV or as an Excel workbook (xlsx).

No personal data (no names, phones, usernames, answers): codes, dates, statuses and amounts. Rows are read in
batches and written as they come; the xlsx is written with the standard library (a zip of a few XML files, the
sheet streamed into it, strings inline), so there is no extra dependency.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.desk_queries import EXPORT_COLUMNS, DeskQueries
from domain.rules.money import to_decimal

FORMATS = ("csv", "xlsx")
_TOTAL = EXPORT_COLUMNS.index("total")
_CURRENCY = EXPORT_COLUMNS.index("currency")
_REFUNDED = EXPORT_COLUMNS.index("refunded")


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """``[first 00:00 UTC, the day after last 00:00 UTC)``: both dates inclusive."""
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value


def _row(raw: Sequence[Any]) -> list[Any]:
    """Amounts in the currency's units (``45.00``), times as UTC ISO 8601, empty for nothing."""
    row = [_value(v) for v in raw]
    currency = row[_CURRENCY]
    row[_TOTAL] = to_decimal(int(row[_TOTAL] or 0), currency)
    row[_REFUNDED] = to_decimal(int(row[_REFUNDED] or 0), currency)
    return ["" if v is None else v for v in row]


async def order_rows(sessions: async_sessionmaker, first: date, last: date) -> AsyncIterator[list[Any]]:
    start, end = day_range(first, last)
    async with sessions() as db:
        async for raw in DeskQueries(db).export_orders(start, end):
            yield _row(raw)


async def write_csv(rows: AsyncIterator[list[Any]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
    return count


# ---- xlsx ---------------------------------------------------------------------------------------------------------

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "http://schemas.openxmlformats.org"
_SHEET_NS = f"{_OOXML}/spreadsheetml/2006/main"
_RELS_NS = f"{_OOXML}/package/2006/relationships"
_DOC_RELS = f"{_OOXML}/officeDocument/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE}.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_SHEET_NS}" xmlns:r="{_DOC_RELS}">'
    '<sheets><sheet name="orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    f'{_XML}<worksheet xmlns="{_SHEET_NS}">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters XML 1.0 cannot carry


def _column(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, value: Any) -> str:
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | Decimal | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(_NOT_XML.sub("", str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet_row(number: int, values: Sequence[Any]) -> str:
    cells = "".join(_cell(f"{_column(i)}{number}", v) for i, v in enumerate(values) if v != "")
    return f'<row r="{number}">{cells}</row>'


async def write_xlsx(rows: AsyncIterator[list[Any]], out: IO[bytes]) -> int:
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD.encode())
            sheet.write(_sheet_row(1, EXPORT_COLUMNS).encode())
            async for row in rows:
                count += 1
                sheet.write(_sheet_row(count + 1, row).encode())
            sheet.write(_SHEET_TAIL.encode())
    return count


async def export_orders(sessions: async_sessionmaker, first: date, last: date, fmt: str, out: IO[Any]) -> int:
    """Write the orders created from ``first`` to ``last`` (UTC days, inclusive) to ``out`` (text for csv, binary
    for xlsx); returns how many."""
    rows = order_rows(sessions, first, last)
    if fmt == "csv":
        return await write_csv(rows, out)
    if fmt == "xlsx":
        return await write_xlsx(rows, out)
    raise ValueError(f"unknown format {fmt!r}")
