"""Helpers for end-to-end tests that follow an order through its life with the real bot process (``python -m bot
run``) against the emulator, and that kill and restart that process (tests/e2e_restart).

- :func:`start_bot`: spawn the bot with the e2e environment (tests/e2e/conftest.py) plus overrides; ready once it
  long-polls. Works for a restart against the same emulator too (a new getMe, then a new getUpdates).
- :class:`Organiser`: the organiser's private chat with the bot, seen from the emulator (the booking request, the
  reply "+" to it, nudges, the participant list).
- :func:`book`: the tourist's booking journey for a given session (as tests.e2e.booking.book_cruise, any session);
  :func:`booked_and_invoiced`: booked, confirmed by the organiser's "+", invoiced.
- :func:`wait_db`: a bounded wait on a database condition (the database wakes nobody, so it is polled).

Every wait is bounded; waits on the chat are event-driven (``World.wait_for``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.i18n import I18n
from bot.storage.tables import InboxRow, OrderRow, OutboxRow
from domain.model.messages import OutboxKind
from domain.model.orders import format_order_code
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    BrowseCb,
    EventCb,
    MenuAction,
    MenuCb,
    When,
)
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.booking import PICKUP, VEGETARIAN, book_cruise, orders_of, plain
from tests.e2e.conftest import (
    REPO,
    STARTUP_TIMEOUT,
    BotProcess,
    bot_environment,
    wait_or_exit,
)
from tests.e2e.tourist import Tourist, callback_data
from tests.seed import ORGANISER_CHAT_ID, Seeded

I18N = I18n("en")
T = TypeVar("T")

POLL_GRACE = 5.0  # getMe answered -> the first getUpdates (migrations and the scheduler start in between)
DB_POLL_S = 0.05


# ---- the bot process ---------------------------------------------------------------------------------------------


def _polling_since(world: World, mark: int) -> bool:
    """A getUpdates of the new process: noted on arrival (``allowed_updates``) or finished after ``mark``."""
    return world.bot.allowed_updates is not None or any(c.method == "getUpdates" for c in world.calls[mark:])


async def start_bot(emulator: Emulator, database_url: str, operators: int, log_path: Path, **env: str) -> BotProcess:
    """``python -m bot run`` against ``emulator`` and ``database_url`` (its output appended to ``log_path``), with
    ``env`` on top of the e2e environment; returns once it long-polls. Fails the test (with the log) otherwise."""
    world = emulator.world
    mark = len(world.calls)
    known = len(world.calls_of("getMe"))
    # A restart: the emulator still remembers the killed process's allowed_updates; forget them, so that the new
    # process's first getUpdates shows (until then updates are queued for the default types, which include all the
    # bot's).
    world.bot.allowed_updates = None
    environment = bot_environment(emulator, SimpleNamespace(url=database_url), operators)
    environment.update(env)
    with open(log_path, "ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=REPO,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    bot = BotProcess(process, log_path)
    try:
        await wait_or_exit(world, process, lambda: len(world.calls_of("getMe")) > known, STARTUP_TIMEOUT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + POLL_GRACE
        while not _polling_since(world, mark):  # a long poll wakes nobody when it arrives: checked briefly
            if process.returncode is not None:
                raise RuntimeError(f"the bot process exited with {process.returncode}")
            if loop.time() > deadline:
                raise TimeoutError(f"the bot answered getMe but did not call getUpdates within {POLL_GRACE} s")
            await asyncio.sleep(0.01)
    except (RuntimeError, TimeoutError) as error:
        await bot.stop()
        pytest.fail(f"{error}; the bot's log ({log_path}):\n{bot.tail()}")
    return bot


@asynccontextmanager
async def running_bot(
    emulator: Emulator, database_url: str, operators: int, log_path: Path, **env: str
) -> AsyncIterator[BotProcess]:
    """:func:`start_bot` for a whole block (a module's ``bot`` fixture): stopped with SIGTERM at its end, on which it
    must exit cleanly."""
    process = await start_bot(emulator, database_url, operators, log_path, **env)
    try:
        yield process
    finally:
        code = await process.stop()
    assert code == 0, f"the bot did not exit cleanly on SIGTERM (exit code {code}):\n{process.tail()}"


async def kill9(bot: BotProcess) -> None:
    """SIGKILL: no cleanup of any kind in the bot."""
    bot.process.kill()
    await asyncio.wait_for(bot.process.wait(), 10)
    assert bot.process.returncode == -9, bot.process.returncode


# ---- waiting on the database ---------------------------------------------------------------------------------------


async def wait_db(
    read: Callable[[], Awaitable[T]], what: str, until: Callable[[T], object] = bool, timeout: float = 10.0
) -> T:
    """``read()``'s value once ``until`` accepts it (default: truthy), polled every 50 ms for at most ``timeout``
    seconds; the failure shows the last value read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await read()
        if until(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"no {what} within {timeout} s (last read: {value!r})")
        await asyncio.sleep(DB_POLL_S)


async def inbox(sessions) -> dict[int, tuple[str, int]]:
    """The bot's inbox: update id -> (status, attempts)."""
    async with sessions() as db:
        rows = await db.execute(select(InboxRow.update_id, InboxRow.status, InboxRow.attempts))
        return {update_id: (status, attempts) for update_id, status, attempts in rows}


async def wait_idle(sessions) -> None:
    """Until the bot has handled every update it stored (a screen shows before its update is marked done)."""
    await wait_db(
        lambda: inbox(sessions),
        "idle inbox (every stored update handled)",
        until=lambda rows: all(status not in ("pending", "handling") for status, _attempts in rows.values()),
    )


def queued_update(world: World, predicate: Callable[[dict[str, Any]], bool]) -> int:
    """The id of the update the emulator holds for the bot (not yet confirmed by a getUpdates offset) that matches."""
    return next(u["update_id"] for u in world.bot.updates if predicate(u))


def confirmed(world: World, update_id: int) -> bool:
    """The bot confirmed the update to "Telegram": a getUpdates with a higher offset made the emulator forget it."""
    return all(u["update_id"] != update_id for u in world.bot.updates)


def fetched(world: World, update_id: int, mark: int = 0) -> bool:
    """A getUpdates (after call ``mark``) returned the update to the bot."""
    return any(
        c.method == "getUpdates" and c.status == 200 and any(u["update_id"] == update_id for u in c.result or [])
        for c in world.calls[mark:]
    )


async def order_row(sessions, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.scalar(
            select(OrderRow).where(OrderRow.id == order_id).execution_options(populate_existing=True)
        )


# ---- the tourist's journey -----------------------------------------------------------------------------------------


async def book(tourist: Tourist, seeded: Seeded, session_id: int, pickup: str = PICKUP) -> dict[str, Any]:
    """/start -> Events -> Tallinn -> next 30 days -> sea -> the islands cruise -> the date ``session_id`` ->
    Continue (one adult) -> pickup (typed) -> lunch (a button). Returns the summary screen (Confirm is its first
    button)."""
    await tourist.send("/start")
    await tourist.press(MenuCb(action=MenuAction.EVENTS))
    await tourist.press(BrowseCb(region=seeded.region_id, step="when"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list"))
    await tourist.press(EventCb(event=seeded.event_id))
    await tourist.press(BookCb(action=BookAction.START, session=session_id))
    await tourist.press(BookCb(action=BookAction.NEXT, session=session_id))
    question = await tourist.send(pickup)
    summary = await tourist.press(BookCb(action=BookAction.CHOICE, session=session_id, value=VEGETARIAN), question)
    assert callback_data(summary)[0] == BookCb(action=BookAction.CONFIRM, session=session_id).pack()
    return summary


async def booked_and_invoiced(
    world: World,
    tourist: Tourist,
    seeded: Seeded,
    sessions,
    organiser_chat_id: int = ORGANISER_CHAT_ID,
) -> tuple[OrderRow, dict[str, Any]]:
    """The tourist books the cruise's first date, the organiser replies "+" to the request, the invoice arrives
    (payments must be on). Returns the order (as placed) and the invoice message."""
    summary, _menu = await book_cruise(tourist, seeded)
    await tourist.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
    [order] = await orders_of(sessions, tourist.id)
    await Organiser(world, organiser_chat_id, sessions=sessions).answer_request(order.code, "+")
    [invoice] = await tourist.wait(lambda: invoices(tourist), "the invoice")
    return order, invoice


def invoices(tourist: Tourist) -> list[dict[str, Any]]:
    return [m for m in tourist.bot_messages() if "invoice" in m]


def photos(tourist: Tourist) -> list[dict[str, Any]]:
    return [m for m in tourist.bot_messages() if "photo" in m]


def texts_with(messages: list[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    """The messages whose text (or caption) shows ``part`` now."""
    return [m for m in messages if part in (m.get("text") or m.get("caption") or "")]


def sent_with(messages: list[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    """The messages whose text (or caption) had ``part`` when they were sent (whatever edits came since)."""
    return [m for m in messages if part in (m["original"].get("text") or m["original"].get("caption") or "")]


# ---- the organiser's chat ------------------------------------------------------------------------------------------


class Organiser:
    """The organiser's private chat with the bot (their Telegram id is the organiser's ``chat_id``)."""

    def __init__(
        self,
        world: World,
        chat_id: int,
        language: str = "et",
        timeout: float = 10.0,
        sessions=None,
    ) -> None:
        self.world = world
        self.sessions = sessions  # the database, for answer_request
        self.id = chat_id
        self.tr = I18N.translator(language)
        self.timeout = timeout

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.world.transcript(self.id) if m["from"]["is_bot"] and not m["deleted"]]

    def message(self, message_id: int) -> dict[str, Any]:
        return next(m for m in self.world.transcript(self.id) if m["message_id"] == message_id)

    def with_text(self, part: str) -> list[dict[str, Any]]:
        return texts_with(self.bot_messages(), part)

    async def wait(self, predicate: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        timeout = self.timeout if timeout is None else timeout
        try:
            return await self.world.wait_for(predicate, timeout)
        except TimeoutError:
            last = [m.get("text") for m in self.bot_messages()[-2:]]
            raise AssertionError(f"organiser {self.id}: no {what} within {timeout} s; last: {last!r}") from None

    # -- what the bot writes them ----------------------------------------------------------------------------------

    def request_head(self, code: str) -> str:
        return plain(self.tr.gettext("Booking request <b>{code}</b>")).format(code=format_order_code(code))

    def nudge_head(self, code: str) -> str:
        return plain(self.tr.gettext("Booking request <b>{code}</b> is still waiting for your answer.")).format(
            code=format_order_code(code)
        )

    def requests(self, code: str) -> list[dict[str, Any]]:
        """The booking request for order ``code`` (the nudge is another message with its own text)."""
        head = "🆕 " + self.request_head(code)
        return [m for m in self.bot_messages() if (m.get("text") or "").startswith(head)]

    def nudges(self, code: str) -> list[dict[str, Any]]:
        return self.with_text(self.nudge_head(code))

    async def wait_request(self, code: str, timeout: float | None = None) -> dict[str, Any]:
        found = await self.wait(lambda: self.requests(code), f"booking request {code}", timeout)
        return found[0]

    async def answer_request(self, code: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reply ``text`` ("+", "- reason") to the booking request of order ``code``; returns (the request, the
        bot's answer).

        The reply waits until the bot has recorded the request's message id (the outbox row marked sent): the bot
        matches a reply to its request by that id, and a reply arriving before the mark (a few milliseconds after the
        message shows, longer while the database is busy) is not taken as an answer: the bot gives its fallback
        text and the "+" is lost (a race in the bot, reported)."""
        request = await self.wait_request(code)
        assert self.sessions is not None, "Organiser(..., sessions=...) is needed to answer a request"

        async def recorded() -> int | None:
            async with self.sessions() as db:
                return await db.scalar(
                    select(OutboxRow.id).where(
                        OutboxRow.kind == OutboxKind.BOOKING_REQUEST.value,
                        OutboxRow.chat_id == self.id,
                        OutboxRow.sent_message_id == request["message_id"],
                    )
                )

        await wait_db(recorded, f"booking request {code} marked sent with its message id")
        return request, await self.reply(request["message_id"], text)

    async def reply(self, message_id: int, text: str) -> dict[str, Any]:
        """Reply ``text`` to the bot's message ``message_id``; wait for the bot's reply to that reply."""
        sent = await self.world.user_sends(self.id, text, reply_to=message_id)

        def answer() -> dict[str, Any] | None:
            return next((m for m in self.bot_messages() if m.get("reply_to_message_id") == sent["message_id"]), None)

        return await self.wait(answer, f"the bot's answer to {text!r}")
