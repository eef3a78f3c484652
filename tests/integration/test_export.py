"""``tripdesk export orders``: CSV and xlsx content (the workbook read back with openpyxl: cell types and formats),
the date range, batches, bad options (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.cli import main
from bot.export import DATETIME_FORMAT, export_orders, money_format, write_xlsx
from bot.storage.db import create_engine, session_factory
from bot.storage.desk_queries import EXPORT_COLUMNS, export_rows
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.payments import record_payment
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def make_orders(sessions: async_sessionmaker) -> Seeded:
    """Nov 29: none. Nov 30: a paid order with the partner hotel's discount (Mr Personal, +37255550009) and an
    unpaid one. Dec 1: one awaiting the organiser. Dec 2: one (outside the range the tests ask for)."""
    seeded = await seed_catalog(sessions, NOW)
    await seed_user(
        sessions,
        1,
        language="de",
        now=NOW,
        hotel_id=seeded.hotel_id,
        first_name="Mr Personal",
        phone="+37255550009",
        username="personal_user",
    )
    await seed_user(sessions, 2, language="ru", now=NOW)

    async def book(user_id: int, at: datetime, seats: int = 2):
        return await place_order(
            SqlUnitOfWork(sessions),
            PlaceOrder(
                user_id=user_id,
                session_id=seeded.session_id,
                quantities={"adult": seats, "child": 1},
                answers={"pickup": "Hotel Viru", "lunch": "fish"},
                payments_enabled=True,
            ),
            at,
        )

    paid = await book(1, NOW)
    await answer_booking_request(
        SqlUnitOfWork(sessions), paid.id, ORGANISER_CHAT_ID, OrganiserReply(Verdict.YES), "+", NOW, True
    )
    await record_payment(
        SqlUnitOfWork(sessions), paid.id, 1, "charge-1", "p-1", paid.total_minor, "EUR", NOW + timedelta(minutes=5)
    )
    await book(2, NOW + timedelta(hours=1), seats=1)
    await book(2, NOW + timedelta(days=1), seats=3)
    await book(2, NOW + timedelta(days=1, hours=20), seats=4)
    return seeded


async def export_text(sessions: async_sessionmaker, first: date, last: date) -> list[dict[str, str]]:
    out = io.StringIO()
    count = await export_orders(sessions, first, last, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == count
    return rows


async def test_csv_has_one_row_per_order_in_the_range_and_no_personal_data(sessions) -> None:
    await make_orders(sessions)
    rows = await export_text(sessions, date(2026, 11, 30), date(2026, 12, 1))
    assert [r["quantity"] for r in rows] == ["3", "2", "4"]  # the Dec 2 order is outside the range
    paid = rows[0]
    assert list(paid) == list(EXPORT_COLUMNS)
    assert (paid["event"], paid["region"], paid["organiser"], paid["hotel"]) == (
        "islands-cruise",
        "tallinn",
        "baltic-boats",
        "telegraaf",
    )
    assert (paid["booking"], paid["payment"], paid["ticket"]) == ("confirmed", "paid", "issued")
    assert (paid["total"], paid["currency"], paid["discount_percent"]) == ("103.50", "EUR", "10")  # 115.00 - 10%
    assert paid["created"] == "2026-11-30T09:00:00+00:00" and paid["paid_at"] == "2026-11-30T09:05:00+00:00"
    assert paid["session_start"] == "2026-12-02T09:00:00+00:00"
    assert (paid["refunded"], paid["tourist_language"]) == ("0.00", "de")
    assert rows[1]["paid_at"] == "" and rows[1]["hotel"] == "" and rows[2]["booking"] == "awaiting_organiser"
    assert len({r["code"] for r in rows}) == 3
    everything = str(rows)
    assert "Personal" not in everything and "5555" not in everything and "personal_user" not in everything
    assert "Hotel Viru" not in everything  # the organiser's questions' answers are personal too
    assert await export_text(sessions, date(2026, 11, 29), date(2026, 11, 29)) == []


async def test_rows_are_read_in_batches(sessions) -> None:
    await make_orders(sessions)
    async with sessions() as db:
        batched = [row async for row in export_rows(db, NOW - timedelta(days=1), NOW + timedelta(days=9), batch=1)]
        whole = [row async for row in export_rows(db, NOW - timedelta(days=1), NOW + timedelta(days=9))]
    assert batched == whole and len(whole) == 4


async def test_xlsx_is_a_valid_workbook(sessions) -> None:
    await make_orders(sessions)
    out = io.BytesIO()
    assert await export_orders(sessions, date(2026, 11, 30), date(2026, 12, 1), "xlsx", out) == 3
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as book:
        assert book.testzip() is None
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(book.namelist())
    sheet = load_workbook(io.BytesIO(out.getvalue()))["orders"]
    table = [list(row) for row in sheet.iter_rows()]
    assert len(table) == 4
    header = {cell.value: cell.column_letter for cell in table[0]}
    assert [cell.value for cell in table[0][:5]] == [
        "code",
        "created (Europe/Tallinn)",
        "event",
        "session_start (Europe/Tallinn)",
        "region",
    ]
    assert all(cell.font.bold for cell in table[0])
    paid = {cell.column_letter: cell for cell in table[1]}

    total = paid[header["total"]]
    assert isinstance(total.value, float) and total.value == 103.5 and total.data_type == "n"
    assert total.number_format == "[$EUR] #,##0.00" == money_format("EUR")
    assert paid[header["refunded"]].value == 0 and paid[header["refunded"]].number_format == total.number_format
    assert paid[header["quantity"]].value == 3 and paid[header["discount_percent"]].value == 10
    assert paid[header["hotel"]].value == "telegraaf" and paid[header["payment"]].value == "paid"
    assert paid[header["time_zone"]].value == "Europe/Tallinn"

    # real datetimes, naive, in the region's wall-clock time (UTC+2 in winter), with a date-time format
    created = paid[header["created (Europe/Tallinn)"]]
    assert created.is_date and created.number_format == DATETIME_FORMAT
    assert created.value == datetime(2026, 11, 30, 11, 0)
    assert paid[header["paid_at (Europe/Tallinn)"]].value == datetime(2026, 11, 30, 11, 5)
    assert paid[header["session_start (Europe/Tallinn)"]].value == datetime(2026, 12, 2, 11, 0)

    unpaid = {cell.column_letter: cell.value for cell in table[2]}
    assert unpaid[header["paid_at (Europe/Tallinn)"]] is None  # empty cells are left out
    assert unpaid[header["hotel"]] is None and unpaid[header["quantity"]] == 2

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(table[0]))}4"
    widths = {letter: sheet.column_dimensions[letter].width for letter in header.values()}
    assert all(width >= 10 for width in widths.values()), widths
    assert widths[header["created (Europe/Tallinn)"]] >= len("created (Europe/Tallinn)")


async def test_xlsx_times_follow_each_region_and_amounts_their_currency() -> None:
    """Regions in two zones: the header points at the time_zone column; a currency without cents has no decimals."""
    columns = {name: i for i, name in enumerate(EXPORT_COLUMNS)}

    def row(code: str, region: str, currency: str, total: Decimal) -> list[object]:
        values: list[object] = [None] * len(EXPORT_COLUMNS)
        values[columns["code"]] = code
        values[columns["region"]] = region
        values[columns["created"]] = NOW
        values[columns["currency"]] = currency
        values[columns["total"]] = total
        values[columns["refunded"]] = Decimal(0)
        return values

    async def rows():
        yield row("T-1", "tallinn", "EUR", Decimal("45.00"))
        yield row("S-1", "stockholm", "SEK", Decimal("1250.50"))
        yield row("K-1", "kyoto", "JPY", Decimal(9000))

    zones = {"tallinn": "Europe/Tallinn", "stockholm": "Europe/Stockholm", "kyoto": "Asia/Tokyo"}
    out = io.BytesIO()
    assert await write_xlsx(rows(), out, zones) == 3
    sheet = load_workbook(io.BytesIO(out.getvalue()))["orders"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    formats = [[cell.number_format for cell in row] for row in sheet.iter_rows()]
    header = table[0]
    created = header.index("created (local time, see time_zone)")
    assert [r[created] for r in table[1:]] == [
        datetime(2026, 11, 30, 11, 0),
        datetime(2026, 11, 30, 10, 0),
        datetime(2026, 11, 30, 18, 0),
    ]
    assert [r[header.index("time_zone")] for r in table[1:]] == ["Europe/Tallinn", "Europe/Stockholm", "Asia/Tokyo"]
    total = header.index("total")
    assert [r[total] for r in table[1:]] == [45, 1250.5, 9000]
    assert [f[total] for f in formats[1:]] == ["[$EUR] #,##0.00", "[$SEK] #,##0.00", "[$JPY] #,##0"]


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            ["--from", "2026-13-01", "--to", "2026-12-31"],
            "tripdesk export: --from: not a date (YYYY-MM-DD): '2026-13-01'",
        ),
        (["--from", "2026-12-01", "--to", "tomorrow"], "tripdesk export: --to: not a date (YYYY-MM-DD): 'tomorrow'"),
        (
            ["--from", "2026-12-02", "--to", "2026-12-01"],
            "tripdesk export: --to: 2026-12-01 is before --from 2026-12-02",
        ),
        (
            ["--from", "2026-12-01", "--to", "2026-12-01", "--format", "xlsx"],
            "tripdesk export: --output: an xlsx workbook needs a file to write",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line(options, line, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["export", "orders", *options]) == 2
    err = capsys.readouterr().err
    assert err.strip() == line


def test_the_command_writes_csv_to_stdout_and_xlsx_to_a_file(
    capsys,
    monkeypatch,
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"

    async def prepare() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            await make_orders(session_factory(engine))
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["export", "orders", "--from", "2026-11-30", "--to", "2026-11-30"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS) and len(lines) == 3
    assert "exported 2 orders" in captured.err
    target = tmp_path / "orders.xlsx"
    assert (
        main(
            [
                "export",
                "orders",
                "--from",
                "2026-11-30",
                "--to",
                "2026-12-31",
                "--format",
                "xlsx",
                "--output",
                str(target),
            ]
        )
        == 0
    )
    assert load_workbook(target)["orders"].max_row == 5  # the header and four orders
