"""The inbox worker's slots for chats in hand (bot/slots.py): at most N at once, the others in order of arrival,
a chat whose turn has come ahead of them; a waiter cancelled (or cancelled as it got a slot) loses no slot."""

from __future__ import annotations

import asyncio

import pytest

from bot.slots import Slots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_at_most_size_at_once_then_the_urgent_lane_then_the_rest_in_order() -> None:
    slots = Slots(2)
    order: list[str] = []
    release = asyncio.Event()

    async def chat(name: str, urgent: bool = False) -> None:
        async with slots.held(urgent):
            order.append(name)
            await release.wait()

    tasks = [asyncio.create_task(chat(name)) for name in ("a", "b", "c", "d")]
    await _settle()
    tasks.append(asyncio.create_task(chat("turn", urgent=True)))
    await _settle()
    assert order == ["a", "b"] and slots.waiting() == 3
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "turn", "c", "d"]
    assert slots.waiting() == 0


async def test_a_cancelled_waiter_gives_no_slot_away() -> None:
    slots = Slots(1)
    release = asyncio.Event()

    async def hold() -> None:
        async with slots.held():
            await release.wait()

    holder = asyncio.create_task(hold())
    await _settle()
    waiter = asyncio.create_task(hold())
    await _settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    async with asyncio.timeout(1):  # the slot came back: the next takes it at once
        async with slots.held():
            pass
    # one handed a slot and cancelled before it ran passes the slot on
    release.clear()
    holder = asyncio.create_task(hold())
    await _settle()
    waiter = asyncio.create_task(hold())
    await _settle()
    release.set()
    await asyncio.sleep(0)  # the holder ends and hands the slot to the waiter...
    assert holder.done() and not waiter.done()
    waiter.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    async with asyncio.timeout(1):
        async with slots.held():
            pass
