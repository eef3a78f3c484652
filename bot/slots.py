"""Room for a bounded number of chats in hand, handed out in order of arrival with a front lane.

The inbox worker handles a dozen chats at once (bot/inbox_worker.py, ``IN_HAND``); in a hot on-sale thousands wait
for a slot. A tourist whose turn has come has a few minutes to book (the room's admission window), and their taps
queued behind thousands of others preparing their bookings let the turn pass before they were handled
(bench/surge.py). :class:`Slots` gives such a chat (the caller says which: ``urgent``) the next free slot ahead of
every other waiting one; each lane keeps its order. Written here because ``asyncio.Semaphore`` has no priority.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class Slots:
    def __init__(self, size: int) -> None:
        self._free = size
        self._lanes: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    def waiting(self) -> int:
        return sum(1 for lane in self._lanes for future in lane if not future.done())

    @contextlib.asynccontextmanager
    async def held(self, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self.waiting():
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lanes[0 if urgent else 1].append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # handed a slot just as it was cancelled: pass it on
                self._release()
            raise

    def _release(self) -> None:
        for lane in self._lanes:
            while lane:
                future = lane.popleft()
                if not future.done():
                    future.set_result(None)
                    return
        self._free += 1
