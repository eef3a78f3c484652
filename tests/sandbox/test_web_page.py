"""The sandbox page in a real headless browser: a tourist books an excursion by clicking, as a person would, and a
second tourist books an event of another organiser, whose request reaches the same organiser pane (the demo seats
every organiser there); the invoice speaks each tourist's language and the ticket's QR picture is shown.

The emulator and the bot run in this process (the real Dispatcher polling the emulator over HTTP, and the outbox
sender on its scheduler); the page is Debian's Chromium driven by Playwright. Nothing is downloaded: without
``/usr/bin/chromium`` (``apt-get install -y chromium``) or the ``playwright`` Python package (``pip install
playwright``; never ``playwright install``) the test skips and says which is missing -- or fails, when
``TRIPDESK_REQUIRE_BROWSER`` is set (CI). The screenshot lands in the test's temporary folder as ``sandbox.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import ErrorEvent
from sqlalchemy import select, update

from bot.app import build_bot, build_dispatcher
from bot.config import load_settings
from bot.demo import DemoOrganiser, DemoPeople, cast_for, create_guests, seat_every_organiser
from bot.i18n import I18n
from bot.outbox import OutboxSender
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.tables import EventRow, OrderRow
from domain.model.orders import format_order_code
from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.web import add_web_routes
from scheduler.jobs import build_scheduler
from tests.handlers.conftest import detach_routers
from tests.seed import CRUISE_TITLE, ORGANISER_CHAT_ID, WALK_TITLE, seed_catalog

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None

CHROMIUM = Path(os.environ.get("TRIPDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "123456789:sandbox-token-0000000000000000000"
PAYMENT_TOKEN = "sandbox:TEST:browser-test"  # any value: the emulator plays the payment provider
STEP_MS = 10_000  # the longest any one step may take before the test fails
OUTBOX_INTERVAL_S = 0.2
PANES = ("tourist1", "tourist2", "organiser", "operators")
TOLERATED = "message is not modified"  # Telegram's answer to an identical edit; the bot ignores it by design


@pytest.fixture
def chromium() -> Path:
    """The system browser, or a skip (a failure under ``TRIPDESK_REQUIRE_BROWSER``) saying what to install."""
    missing = None
    if async_playwright is None:
        missing = (
            "the playwright Python package is missing: pip install playwright (the package only; the "
            "browser is Debian's chromium, never `playwright install`)"
        )
    elif not os.access(CHROMIUM, os.X_OK):
        missing = f"no browser at {CHROMIUM}: apt-get install -y chromium"
    if missing and os.environ.get("TRIPDESK_REQUIRE_BROWSER"):
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)
    return CHROMIUM


@dataclass
class Sandbox:
    url: str
    emulator: Emulator
    sessions: object
    people: DemoPeople
    handler_errors: list[BaseException]


@pytest.fixture
async def sandbox(chromium: Path, tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The emulator with the page, a seeded SQLite database, the cast, and the real bot polling the emulator with
    its outbox sender running (booking requests reach the organiser)."""
    emulator = Emulator(limits=Limits.off())
    cast = add_web_routes(emulator.app)
    await emulator.start(host="127.0.0.1", port=0)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, datetime.now(UTC))
    async with sessions() as db, db.begin():  # the second organiser's walk needs confirming too
        await db.execute(update(EventRow).where(EventRow.id == seeded.instant_event_id).values(confirmation="required"))
    organisers = await seat_every_organiser(sessions, ORGANISER_CHAT_ID)  # as the demo does

    world = emulator.world
    olga = world.add_user(first_name="Olga", language_code="en")
    mark = world.add_user(first_name="Mark", language_code="en")
    group = world.add_group(title="Tripdesk operators", members=[olga.id, mark.id])
    organiser_row = DemoOrganiser("Baltic Boats", ORGANISER_CHAT_ID, "et", CRUISE_TITLE["en"], 2, "islands-cruise")
    people = create_guests(world, organiser_row, (olga.id, mark.id), group.id, organisers=organisers)
    cast.panes = cast_for(people, organiser_row)

    settings = load_settings(
        bot_token=TOKEN,
        telegram_api_url=emulator.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        operator_chat_id=group.id,
        admin_ids=people.operators,
        default_locale="en",
        redis_url=None,
        payment_provider_token=PAYMENT_TOKEN,
    )
    bot: Bot = build_bot(settings, TOKEN)
    dp: Dispatcher = build_dispatcher(settings, sessions, storage=MemoryStorage())
    handler_errors: list[BaseException] = []

    @dp.errors()
    async def _record(event: ErrorEvent) -> None:
        handler_errors.append(event.exception)

    sender = OutboxSender(bot, sessions, dp["i18n"], dp["clock"], payment_provider_token=PAYMENT_TOKEN)
    scheduler = build_scheduler(sender.drain, OUTBOX_INTERVAL_S)
    scheduler.start()
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, allowed_updates=dp.resolve_used_update_types())
    )
    try:
        await polling_started(emulator, polling)
        yield Sandbox(emulator.base_url + "/", emulator, sessions, people, handler_errors)
    finally:
        scheduler.shutdown(wait=False)
        with contextlib.suppress(RuntimeError):  # not started (it failed early): nothing to stop
            await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, 10)
        detach_routers(dp)
        await emulator.stop()
        await engine.dispose()


async def polling_started(emulator: Emulator, polling: asyncio.Task, timeout: float = 10.0) -> None:
    """Until the bot has started polling the emulator (or the polling task died)."""
    deadline = time.monotonic() + timeout
    while not emulator.world.calls_of("getMe"):  # start_polling calls getMe, then polls
        if polling.done():
            polling.result()  # raises what stopped it
            raise AssertionError("the bot stopped polling before it started")
        assert time.monotonic() < deadline, f"the bot did not poll the emulator within {timeout} s"
        await asyncio.sleep(0.05)


async def test_a_tourist_books_by_clicking(sandbox: Sandbox, chromium: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    problems: list[str] = []
    en = I18n("en").translator("en").gettext
    ru = I18n("en").translator("ru").gettext
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 720})  # a laptop screen
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
            await page.goto(sandbox.url)
            await expect(page.locator("body[data-ready=true]")).to_have_count(1, timeout=STEP_MS)
            await expect(page.locator("section.pane")).to_have_count(4)
            await expect(page.locator("#status")).to_have_attribute("data-state", "live")

            anna = page.locator('section[data-role="tourist1"]')
            await expect(anna.locator("h2")).to_have_text("Anna")
            card = await book_the_cruise(page, anna, en)
            order = await only_order(sandbox)
            code = format_order_code(order.code)
            await expect(card).to_contain_text(code)

            # The booking request reaches the organiser's pane; replying "+" to it confirms, and Anna hears so.
            organiser = page.locator('section[data-role="organiser"]')
            request = organiser.locator("li.msg.theirs", has_text=code).first
            await expect(request).to_be_visible(timeout=STEP_MS)
            await request.get_by_role("button", name=re.compile("^Reply to")).click()
            await send(organiser, "+")
            await expect(organiser.locator("li.msg.mine .reply-quote")).to_contain_text(code, timeout=STEP_MS)
            await expect(organiser.locator("li.msg.theirs")).to_have_count(2, timeout=STEP_MS)
            await expect(organiser.locator("li.msg.theirs").last).to_contain_text(code)
            await expect(request.locator(".inline-kb")).to_have_count(0, timeout=STEP_MS)  # settled: buttons gone
            await expect(anna.locator("li.msg.theirs", has_text=code).nth(1)).to_be_visible(timeout=STEP_MS)  # told

            # Payments are on: the invoice arrives as a card, and its Pay button pays it.
            invoice = anna.locator(".invoice")
            await expect(invoice).to_be_visible(timeout=STEP_MS)
            await invoice.get_by_role("button", name=re.compile("^Pay ")).click()
            await expect(invoice.locator(".paid")).to_be_visible(timeout=STEP_MS)
            await expect(anna.locator("li.msg.service")).to_contain_text("Payment of €45.00 received")

            # Paid: the ticket arrives with its QR code as a picture the page shows.
            ticket = anna.locator("li.msg.theirs img.photo").last
            await expect(ticket).to_be_visible(timeout=STEP_MS)
            assert await ticket.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR picture is empty"

            # Tourist 2 speaks Russian (and starts with the empty chat's suggestion) and books the walk of another
            # organiser: the request reaches the same organiser pane, the organiser's Confirm button confirms it,
            # and the invoice speaks Russian.
            dmitri = page.locator('section[data-role="tourist2"]')
            await dmitri.get_by_role("button", name="/start", exact=True).click()
            await expect(dmitri.locator("li.msg.theirs").last).to_contain_text(ru("What would you like to do?"))
            walk_card = await book_the_walk(dmitri, ru)
            walk = await order_of(sandbox, sandbox.people.tourists[1])
            walk_code = format_order_code(walk.code)
            await expect(walk_card).to_contain_text(walk_code)
            walk_request = organiser.locator("li.msg.theirs", has_text=walk_code).first
            await expect(walk_request).to_contain_text(WALK_TITLE["en"], timeout=STEP_MS)
            await walk_request.get_by_role("button", name=en("Confirm")).click()
            await expect(walk_request.locator(".inline-kb")).to_have_count(0, timeout=STEP_MS)
            invoice = dmitri.locator(".invoice")
            await expect(invoice).to_be_visible(timeout=STEP_MS)
            await expect(invoice).to_have_attribute("lang", "ru")
            await invoice.get_by_role("button", name=re.compile("^Оплатить ")).click()
            await expect(invoice.locator(".paid")).to_have_text("✓ Оплачено", timeout=STEP_MS)

            operators = page.locator('section[data-role="operators"]')
            await expect(operators.locator("select.speaker option")).to_have_text(["Olga", "Mark"])

            shot = tmp_path / "sandbox.png"
            await page.screenshot(path=str(shot))

            # Four panes side by side on a laptop screen, 2 × 2 on a narrower one.
            boxes = [await page.locator(f'section[data-role="{k}"]').bounding_box() for k in PANES]
            assert len({round(b["y"]) for b in boxes}) == 1, boxes
            await page.set_viewport_size({"width": 1100, "height": 900})
            boxes = [await page.locator(f'section[data-role="{k}"]').bounding_box() for k in PANES]
            assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"] == boxes[3]["y"], boxes
            assert boxes[0]["x"] == boxes[2]["x"] < boxes[1]["x"] == boxes[3]["x"], boxes
        finally:
            await browser.close()

    assert shot.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    print(f"\nscreenshot: {shot}  (order {code}, {time.monotonic() - started:.1f} s)")
    assert problems == [], "the page reported errors:\n" + "\n".join(problems)
    assert sandbox.handler_errors == [], f"a handler raised: {sandbox.handler_errors!r}"
    refused = [
        f"{c.method}: {c.status} {c.description}"
        for c in sandbox.emulator.world.calls
        if c.status >= 400 and TOLERATED not in (c.description or "")
    ]
    assert refused == [], "the emulator refused some of the bot's calls:\n" + "\n".join(refused)


async def book_the_cruise(page: Page, pane, _):
    """/start, then only clicks (and one typed answer) up to the order card, which replaces the summary in place;
    returns the order card's message."""
    await send(pane, "/start")
    screen = pane.locator("li.msg.theirs").last
    await expect(screen).to_contain_text(_("What would you like to do?"), timeout=STEP_MS)
    await expect(screen.locator("strong").first).to_have_text(_("Hello, {name}!").format(name="Anna"))  # <b> -> bold
    screen_id = await screen.get_attribute("data-message-id")
    screen = pane.locator(f'li.msg[data-message-id="{screen_id}"]')  # from here on the same message is edited

    await click(screen, _("Events"), expect_text=_("Where are you? Choose a region:"))
    await click(screen, "Tallinn", expect_text=_("Next 30 days"))
    await click(screen, _("Next 30 days"), expect_text=_("All categories"))
    await click(screen, _("Sea & boats"), expect_text=CRUISE_TITLE["en"])
    await click(screen, CRUISE_TITLE["en"], expect_text=_("Upcoming dates"))
    await screen.locator(".inline-kb .kb-btn").first.click()  # the first date
    await expect(screen).to_contain_text(_("How many tickets? Use − and +."), timeout=STEP_MS)
    await expect(screen.locator(".edited")).to_have_count(1)

    # No tickets is refused with an alert, shown as a modal the keyboard can close.
    total = _("Total: {total}").split("{")[0]
    await expect(screen).to_contain_text(total)
    await click(screen, re.compile("^− "), expect_text=None)
    await expect(screen).not_to_contain_text(total, timeout=STEP_MS)
    await screen.get_by_role("button", name=_("Continue")).click()
    dialog = page.locator("#alert-dialog")
    await expect(dialog).to_be_visible(timeout=STEP_MS)
    await expect(dialog).to_contain_text("at least one")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await click(screen, re.compile(r"^\+ "), expect_text=total)
    await click(
        screen,
        _("Continue"),
        expect_text=_("Type your answer in a message (up to {limit} characters).").split("(")[0].strip(),
    )

    # The first question is answered by replying to it (↩), the second with a button.
    await screen.get_by_role("button", name=re.compile("^Reply to")).click()
    await expect(pane.locator(".reply-bar")).to_be_visible()
    await send(pane, "Hotel Telegraaf, lobby")
    answer = pane.locator("li.msg.mine").last
    await expect(answer).to_contain_text("Hotel Telegraaf, lobby", timeout=STEP_MS)
    await expect(answer.locator(".reply-quote")).to_be_visible()
    await expect(pane.locator(".reply-bar")).to_be_hidden()

    question = pane.locator("li.msg.theirs").last
    await expect(question).to_contain_text("lunch", timeout=STEP_MS)
    question_id = await question.get_attribute("data-message-id")
    summary = pane.locator(f'li.msg[data-message-id="{question_id}"]')
    await click(summary, "Vegetarian", expect_text=_("Your booking"))
    await summary.evaluate("el => { el.sandboxMark = 'summary'; }")
    await click(summary, _("Confirm booking"), expect_text=re.compile(r"\b[A-Z0-9]{3}-[A-Z0-9]{3}\b"))
    # The order card replaced the summary in place: the very same element, marked as edited.
    assert await summary.evaluate("el => el.sandboxMark") == "summary"
    await expect(summary.locator(".edited")).to_have_count(1)
    await expect(summary.get_by_role("button", name=_("Confirm booking"))).to_have_count(0)
    return summary


async def send(pane, text: str) -> None:
    box = pane.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("", timeout=STEP_MS)


async def click(message, label: str | re.Pattern[str], expect_text: str | re.Pattern[str] | None) -> None:
    await message.get_by_role("button", name=label).first.click(timeout=STEP_MS)
    if expect_text is not None:
        await expect(message).to_contain_text(expect_text, timeout=STEP_MS)


async def book_the_walk(pane, _):
    """The Old Town walk (the second organiser's, no questions to answer) by clicking; returns the order card."""
    screen = pane.locator("li.msg.theirs").last
    screen_id = await screen.get_attribute("data-message-id")
    screen = pane.locator(f'li.msg[data-message-id="{screen_id}"]')
    await click(screen, _("Events"), expect_text=_("Where are you? Choose a region:"))
    await click(screen, "Таллин", expect_text=_("Next 30 days"))
    await click(screen, _("Next 30 days"), expect_text=_("All categories"))
    await click(screen, _("City tours"), expect_text=WALK_TITLE["ru"])
    await click(screen, WALK_TITLE["ru"], expect_text=_("Upcoming dates"))
    await screen.locator(".inline-kb .kb-btn").first.click()
    await expect(screen).to_contain_text(_("How many tickets? Use − and +."), timeout=STEP_MS)
    await click(screen, _("Continue"), expect_text=_("Your booking"))
    await click(screen, _("Confirm booking"), expect_text=re.compile(r"\b[A-Z0-9]{3}-[A-Z0-9]{3}\b"))
    return screen


async def only_order(sandbox: Sandbox) -> OrderRow:
    async with sandbox.sessions() as db:
        orders = list(await db.scalars(select(OrderRow)))
    assert len(orders) == 1 and orders[0].user_id == sandbox.people.tourists[0]
    return orders[0]


async def order_of(sandbox: Sandbox, user_id: int) -> OrderRow:
    async with sandbox.sessions() as db:
        (order,) = list(await db.scalars(select(OrderRow).where(OrderRow.user_id == user_id)))
    return order
