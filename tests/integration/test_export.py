"""``tripdesk export orders``: CSV and xlsx content, the date range, batches, bad options (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.cli import main
from bot.export import export_orders
from bot.storage.db import create_engine, session_factory
from bot.storage.desk_queries import EXPORT_COLUMNS, DeskQueries
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWork
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.payments import record_payment
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


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
        batched = [
            row
            async for row in DeskQueries(db).export_orders(NOW - timedelta(days=1), NOW + timedelta(days=9), batch=1)
        ]
        whole = [row async for row in DeskQueries(db).export_orders(NOW - timedelta(days=1), NOW + timedelta(days=9))]
    assert batched == whole and len(whole) == 4


async def test_xlsx_is_a_valid_workbook(sessions) -> None:
    await make_orders(sessions)
    out = io.BytesIO()
    assert await export_orders(sessions, date(2026, 11, 30), date(2026, 12, 1), "xlsx", out) == 3
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as book:
        assert book.testzip() is None
        names = set(book.namelist())
        assert {
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml",
        } <= names
        for name in names:
            ElementTree.fromstring(book.read(name))  # every part is well-formed XML
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    table = []
    for row in sheet.iter(f"{MAIN}row"):
        cells = {}
        for cell in row.iter(f"{MAIN}c"):
            column = cell.get("r").rstrip("0123456789")
            text = cell.find(f"{MAIN}is/{MAIN}t")
            cells[column] = text.text if text is not None else cell.find(f"{MAIN}v").text
        table.append(cells)
    assert [table[0][c] for c in "ABC"] == ["code", "created", "event"]
    assert len(table) == 4
    header = {table[0][c]: c for c in table[0]}
    paid = table[1]
    assert paid[header["total"]] == "103.50" and paid[header["quantity"]] == "3"
    assert paid[header["hotel"]] == "telegraaf" and paid[header["payment"]] == "paid"
    assert header["paid_at"] not in table[2]  # empty cells are left out


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
    with zipfile.ZipFile(target) as book:
        assert book.read("xl/worksheets/sheet1.xml").count(b"<row ") == 5  # the header and four orders
