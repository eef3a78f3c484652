"""What the sandbox page needs from the emulator (issue 10, items 19 and 20): a stop that does not wait for the
page's long poll, the bytes of the pictures the bot sends, and a way to tell a restarted emulator from the old one."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile

from sandbox.limits import Limits
from sandbox.server import Emulator

TOKEN = "123456:AAE_sandbox-test-token-0000000000"
# The smallest valid PNG: one transparent pixel.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


async def test_stop_does_not_wait_for_the_pages_long_poll() -> None:
    emulator = Emulator(limits=Limits.off())
    await emulator.start()
    async with aiohttp.ClientSession() as http:
        url = f"{emulator.base_url}/sandbox/api/events"
        poll = asyncio.create_task(http.get(url, params={"since": str(emulator.world.version), "timeout": "25"}))
        await asyncio.sleep(0.3)  # the page's request is held now
        started = time.monotonic()
        await emulator.stop()
        took = time.monotonic() - started
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
    assert took < 1.5, f"stopping took {took:.1f} s while the page waited for events"


async def test_a_photo_the_bot_sends_can_be_shown() -> None:
    emulator = Emulator(limits=Limits.off())
    await emulator.start()
    anna = emulator.world.add_user(first_name="Anna")
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    try:
        await bot.send_photo(anna.id, BufferedInputFile(PIXEL, filename="ticket.png"), caption="Your ticket")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{emulator.base_url}/sandbox/api/transcript", params={"chat_id": anna.id}) as answer:
                (message,) = (await answer.json())["messages"]
            file_id = message["photo"][-1]["file_id"]
            async with http.get(f"{emulator.base_url}/sandbox/api/file", params={"file_id": file_id}) as image:
                assert image.status == 200
                assert image.content_type == "image/png"
                assert await image.read() == PIXEL
            async with http.get(f"{emulator.base_url}/sandbox/api/file", params={"file_id": "nope"}) as missing:
                assert missing.status == 404
    finally:
        await bot.session.close()
        await emulator.stop()


async def test_the_page_can_tell_a_restarted_emulator() -> None:
    instances = []
    for _ in range(2):
        async with Emulator(limits=Limits.off()) as emulator, aiohttp.ClientSession() as http:
            async with http.get(f"{emulator.base_url}/sandbox/api/state") as state:
                instance = (await state.json())["instance"]
            async with http.get(f"{emulator.base_url}/sandbox/api/events", params={"timeout": "0"}) as events:
                assert (await events.json())["instance"] == instance
            instances.append(instance)
    assert instances[0] != instances[1]
