"""The sandbox page's details in a real headless browser, with the emulator alone (no bot): the bot's messages are
sent straight through the Bot API. One 📱 on a contact button, a "new message below" marker when reading older
messages, panes that stay usable on a 1280 × 720 screen, and a page that picks up a restarted emulator at once.
Skips like ``test_web_page.py`` without Debian's Chromium or the playwright package."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.web import Pane, add_web_routes
from tests.sandbox.test_web_page import CHROMIUM_ARGS, STEP_MS, chromium  # noqa: F401  (the fixture)

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - the chromium fixture skips first
    expect = None

TOKEN = "123456789:sandbox-token-0000000000000000000"
MIN_TRANSCRIPT_PX = 380  # a usable chat: several messages and their buttons at once


async def _emulator(port: int = 0, names: tuple[str, ...] = ("Anna", "Dmitri")) -> Emulator:
    emulator = Emulator(limits=Limits.off())
    cast = add_web_routes(emulator.app)
    await emulator.start(host="127.0.0.1", port=port)
    world = emulator.world
    first = world.add_user(first_name=names[0], language_code="en")
    second = world.add_user(first_name=names[1], language_code="ru")
    organiser = world.add_user(first_name="Organiser", language_code="en")
    olga = world.add_user(first_name="Olga")
    group = world.add_group(title="Tripdesk operators", members=[olga.id])
    cast.panes = [
        Pane("tourist1", "tourist", "Tourist 1", first.id, (first.id,)),
        Pane("tourist2", "tourist", "Tourist 2", second.id, (second.id,)),
        Pane("organiser", "organiser", "Organiser", organiser.id, (organiser.id,)),
        Pane("operators", "operators", "Operator group", group.id, (olga.id,), name="Tripdesk operators"),
    ]
    return emulator


@pytest.fixture
async def page(chromium: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page(viewport={"width": 1280, "height": 720})
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def _bot(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_the_page_at_1280_by_720(page, tmp_path: Path) -> None:
    emulator = await _emulator()
    try:
        anna = next(iter(emulator.world.users))
        await page.goto(emulator.base_url + "/")
        await expect(page.locator("body[data-ready=true]")).to_have_count(1, timeout=STEP_MS)
        pane = page.locator('section[data-role="tourist1"]')

        # Every pane usable without scrolling the page: side by side, full height.
        for key in ("tourist1", "tourist2", "organiser", "operators"):
            box = await page.locator(f'section[data-role="{key}"] .transcript').bounding_box()
            assert box["height"] >= MIN_TRANSCRIPT_PX, (key, box)
            assert box["y"] + box["height"] <= 720, (key, box)

        async with _bot(emulator) as bot:
            # One 📱 on a contact button whose text has one already (the bot's own "📱 Share my phone number").
            keyboard = ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="📱 Share my phone number", request_contact=True)]], resize_keyboard=True
            )
            await bot.send_message(anna, "Your phone, please", reply_markup=keyboard)
            contact = pane.locator(".reply-kb .kb-contact")
            await expect(contact).to_be_visible(timeout=STEP_MS)
            assert (await contact.inner_text()).count("📱") == 1, await contact.inner_text()

            # Reading older messages: a new one shows the marker instead of pulling the reader down.
            for n in range(30):
                await bot.send_message(anna, f"Message {n}\nwith a second line")
            await expect(pane.locator("li.msg.theirs", has_text="Message 29")).to_be_visible(timeout=STEP_MS)
            marker = pane.locator(".new-below")
            await expect(marker).to_be_hidden()
            await pane.locator(".transcript").evaluate("list => { list.scrollTop = 0; }")
            await bot.send_message(anna, "The newest one")
            await expect(marker).to_be_visible(timeout=STEP_MS)
            await marker.click()
            await expect(marker).to_be_hidden()
            await expect(pane.locator("li.msg.theirs", has_text="The newest one")).to_be_in_viewport()
        shot = tmp_path / "sandbox-1280x720.png"
        await page.screenshot(path=str(shot))
        print(f"\nscreenshot: {shot}")
    finally:
        await emulator.stop()


async def test_the_page_picks_up_a_restarted_emulator_at_once(page) -> None:
    emulator = await _emulator()
    port = int(emulator.base_url.rsplit(":", 1)[1])
    try:
        await page.goto(emulator.base_url + "/")
        await expect(page.locator('section[data-role="tourist1"] h2')).to_have_text("Anna", timeout=STEP_MS)
        await emulator.stop()
        await expect(page.locator("#status")).to_have_attribute("data-state", "offline", timeout=STEP_MS)
        await asyncio.sleep(2)  # the demo is down for a while
        emulator = await _emulator(port, names=("Berit", "Dmitri"))
        loop = asyncio.get_running_loop()
        back = loop.time()
        await expect(page.locator('section[data-role="tourist1"] h2')).to_have_text("Berit", timeout=STEP_MS)
        await expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=STEP_MS)
        took = loop.time() - back
        assert took < 2.5, f"the page took {took:.1f} s to pick up the restarted emulator"
        assert re.match(r"^Tripdesk sandbox", await page.title())
    finally:
        await emulator.stop()
