"""Issue 13, "Proof": a hot on-sale through the real bot process. 300 tourists press Book on a hot 50-seat session
within a second, under Telegram's flood limits: every press is answered, every tourist gets one place in the queue
(one message, edited in place), exactly 50 seats are sold (one order of one seat to each of 50 tourists), the
admission follows the order of arrival, and everyone not admitted is told "sold out" in their language and offered
the waitlist. The operators get one summary card for the on-sale.

The session is the test's own: ``hot`` with no ``sale_opens_at``, so the room opens at the first press and everyone
lines up in order of arrival (no pre-queue to draw). Its organiser confirms at once and asks nothing, so an admitted
tourist books in three taps: "Book now", Continue, Confirm.

The 300 tourists first open the event's card (``/start ev-<code>``) without flood limits: that is the stage, not the
on-sale. Telegram's limits (the emulator's defaults: ~30 messages a second overall, ~1 a second per chat) are on from
the first press. Every tourist then acts on their own, as a person, and waits only for their own chat:
:class:`Patron` wakes on a change of its chat, not on every change in the world (300 tourists re-checking their chat
on each of the world's thousands of changes would starve the bot of the machine's two cores).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.i18n import I18n
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import EventRow, OrderItemRow, OrderRow, OrganiserRow, SessionRow
from domain.model.waiting_room import PlaceStatus, RoomStatus
from handlers.tourist.callbacks import BookAction, BookCb, RoomAction, RoomCb, WaitAction, WaitCb
from sandbox.errors import NOT_MODIFIED
from sandbox.limits import Limits
from sandbox.model import SimUser
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.booking import plain
from tests.e2e.conftest import Database
from tests.e2e.tourist import Tourist, buttons, callback_data

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

I18N = I18n("en")
TOURISTS = 300
SEATS = 50
LANGUAGES = ("en", "ru", "de", "et")
ORGANISER_CHAT_ID = 700041  # the organiser of this test's on-sale
PRESS_SPREAD_S = 0.8  # the presses arrive within this long
STAGE_BATCH = 50  # tourists opening the event's card at once (without flood limits)
ACTION_TIMEOUT = 30.0  # a tourist's wait for one answer: under the limits a reply may wait out 429s
SALE_TIMEOUT = 120.0  # from the presses until every tourist has been admitted or told "sold out"
SETTLE_TIMEOUT = 30.0  # then until the room is closed and the operators' card says so


@dataclass(frozen=True)
class OnSale:
    event_code: str
    title: str
    session_id: int


@pytest_asyncio.fixture(loop_scope="package")
async def onsale(database: Database, world: World) -> OnSale:
    """An organiser of its own (instant confirmation, no questions); one hot session of :data:`SEATS` seats
    tomorrow, its sale open now."""
    world.add_user(first_name="Hot Tickets", language_code="en", user_id=ORGANISER_CHAT_ID)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    title = "Midnight concert on the ice"
    async with database.sessions() as db, db.begin():
        organiser = OrganiserRow(
            code="hot-tickets",
            name="Hot Tickets",
            chat_id=ORGANISER_CHAT_ID,
            language="en",
            phone=None,
            confirm_within_s=600,
            pay_within_s=1800,
            hold_s=900,
            reminders_s=[],
            questions=[],
        )
        db.add(organiser)
        await db.flush()
        event = EventRow(
            code="ice-concert",
            organiser_id=organiser.id,
            region_id=database.seeded.region_id,
            category="music",
            title={"en": title},
            description={"en": "A string quartet on the frozen harbour."},
            meeting_point={"en": "The harbour gate"},
            duration_s=5400,
            languages=["en"],
            currency="EUR",
            prices=[{"code": "adult", "price_minor": 4000}],
            confirmation="instant",
        )
        db.add(event)
        await db.flush()
        session = SessionRow(
            event_id=event.id, starts_at=starts, capacity=SEATS, seats_left=SEATS, status="scheduled", hot=True
        )
        db.add(session)
        await db.flush()
        return OnSale(event.code, title, session.id)


# ---- waiting for one chat ---------------------------------------------------------------------------------------


class ChatWatch:
    """Wakes whoever waits on a chat when that chat changed (the world keeps each chat's last version)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._events: dict[int, asyncio.Event] = {}

    def event(self, chat_id: int) -> asyncio.Event:
        return self._events.setdefault(chat_id, asyncio.Event())

    async def run(self) -> None:
        seen = self.world.version
        while not self.world.closing:
            await self.world.changed(None)
            for chat_id in self.world.changed_chats(seen):
                if (event := self._events.pop(chat_id, None)) is not None:
                    event.set()
            seen = self.world.version


@contextlib.asynccontextmanager
async def watching(world: World) -> AsyncIterator[ChatWatch]:
    watch = ChatWatch(world)
    task = asyncio.create_task(watch.run())
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Patron(Tourist):
    """A tourist whose waits wake only on changes of their own chat (see the module's docstring)."""

    def __init__(self, world: World, user: SimUser, watch: ChatWatch) -> None:
        super().__init__(world, user, timeout=ACTION_TIMEOUT)
        self.watch = watch

    async def wait(self, predicate: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            changed = self.watch.event(self.id)  # taken before the check: a change after it sets this event
            if value := predicate():
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = self.bot_messages()[-1:] or [{}]
                raise AssertionError(
                    f"{self}: no {what} within {timeout or self.timeout} s; the bot's last message: "
                    f"{last[0].get('text')!r} {callback_data(last[0]) if last[0] else ''}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)


# ---- one tourist's on-sale --------------------------------------------------------------------------------------


def room_button(message: dict[str, Any], action: RoomAction) -> str | None:
    for data in callback_data(message):
        if data.startswith(f"{RoomCb.__prefix__}:") and RoomCb.unpack(data).action is action:
            return data
    return None


@dataclass
class Story:
    """What one tourist saw."""

    tourist: Patron
    card: dict[str, Any] = field(default_factory=dict)
    query_id: str = ""
    pressed_at: int = 0  # the press's place in the order of the presses
    answer: dict[str, Any] | None = None
    room_message_id: int = 0
    turn_message_id: int | None = None  # "It is your turn!", when they were admitted
    booked: dict[str, Any] | None = None  # the callback answer to Confirm
    sold_out: dict[str, Any] | None = None  # the room message as it ended, when they were not admitted


async def open_card(tourist: Patron, onsale: OnSale) -> dict[str, Any]:
    card = await tourist.send(f"/start ev-{onsale.event_code}")
    assert BookCb(action=BookAction.START, session=onsale.session_id).pack() in callback_data(card), card
    return card


def turn_message(tourist: Patron, after: int) -> dict[str, Any] | None:
    """A message newer than ``after`` with "Book now" on it: their turn came."""
    return next(
        (m for m in tourist.bot_messages() if m["message_id"] > after and room_button(m, RoomAction.BOOK)), None
    )


def waitlist_offered(message: dict[str, Any], session_id: int) -> bool:
    return WaitCb(action=WaitAction.ASK, id=session_id).pack() in callback_data(message)


async def follow(story: Story, onsale: OnSale) -> None:
    """From the press on: the answer, the queue's message, then their turn (and the booking, in three taps) or
    "sold out"."""
    tourist = story.tourist
    story.answer = await tourist.wait(lambda: tourist._answer(story.query_id), "answer to Book")
    room = await tourist.wait_reply(story.card["message_id"], "queue message")
    assert (
        room_button(room, RoomAction.REFRESH)
        or turn_message(tourist, 0)
        or waitlist_offered(tourist.message(room["message_id"]), onsale.session_id)
    ), room
    story.room_message_id = room["message_id"]

    def outcome() -> tuple[str, dict[str, Any]] | None:
        if (turn := turn_message(tourist, story.room_message_id - 1)) is not None:
            return "turn", turn
        current = tourist.message(story.room_message_id)
        if waitlist_offered(current, onsale.session_id):
            return "sold out", current
        return None

    kind, message = await tourist.wait(outcome, "turn or sold out", SALE_TIMEOUT)
    if kind == "sold out":
        story.sold_out = message
        return
    story.turn_message_id = message["message_id"]
    await tourist.press(lambda b: b.get("callback_data") == room_button(message, RoomAction.BOOK), message)
    await tourist.press(BookCb(action=BookAction.NEXT, session=onsale.session_id))
    confirm = BookCb(action=BookAction.CONFIRM, session=onsale.session_id).pack()
    summary = tourist.last()
    assert confirm in callback_data(summary), summary
    await tourist.press(confirm, summary)
    story.booked = tourist.callback_answers()[-1]


# ---- reading the database ---------------------------------------------------------------------------------------


async def places(database: Database, session_id: int) -> list[RoomPlaceRow]:
    async with database.sessions() as db:
        rows = await db.scalars(select(RoomPlaceRow).where(RoomPlaceRow.session_id == session_id))
        return list(rows)


async def room_status(database: Database, session_id: int) -> str | None:
    async with database.sessions() as db:
        status = await db.scalar(select(WaitingRoomRow.status).where(WaitingRoomRow.session_id == session_id))
        return str(status) if status is not None else None


async def sold(database: Database, session_id: int) -> tuple[int, list[int], int]:
    """(seats left, the users with an order, the seats in those orders)."""
    async with database.sessions() as db:
        left = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
        users = list(await db.scalars(select(OrderRow.user_id).where(OrderRow.session_id == session_id)))
        seats = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id, OrderRow.booking != "cancelled")
        )
        return int(left or 0), [u for u in users if u is not None], int(seats or 0)


async def settled(database: Database, world: World, operators: int, onsale: OnSale) -> list[dict[str, Any]]:
    """Until the room is closed and the operators' card for the on-sale says "sold out"; that card (as a list: the
    test checks there is one)."""
    sold_out = I18N.translator("en").gettext("Sold out: everyone waiting is told.")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    while True:
        cards = [
            m
            for m in world.transcript(operators)
            if m["from"]["is_bot"] and onsale.title in (m.get("text") or "") and not m["deleted"]
        ]
        closed = await room_status(database, onsale.session_id) == RoomStatus.CLOSED.value
        if (closed and cards and sold_out in cards[-1]["text"]) or loop.time() > deadline:
            return cards
        with contextlib.suppress(TimeoutError):
            await world.wait_for(lambda: False, timeout=min(1.0, max(deadline - loop.time(), 0.01)))


# ---- the test ---------------------------------------------------------------------------------------------------


async def test_300_tourists_press_book_on_a_hot_50_seat_session(
    emulator: Emulator, world: World, database: Database, operators: int, onsale: OnSale
) -> None:
    async with watching(world) as watch:
        tourists = [
            Patron(world, world.add_user(first_name=f"Fan{n}", language_code=LANGUAGES[n % 4]), watch)
            for n in range(TOURISTS)
        ]
        stories = [Story(t) for t in tourists]
        for start in range(0, TOURISTS, STAGE_BATCH):  # the stage: everyone has the event's card open
            batch = stories[start : start + STAGE_BATCH]
            shown = await asyncio.gather(*(open_card(s.tourist, onsale) for s in batch))
            for story, card in zip(batch, shown, strict=True):
                story.card = card

        world.limits = Limits()  # Telegram's flood limits from the first press on (conftest turns them off after)
        mark = len(world.calls)
        book = BookCb(action=BookAction.START, session=onsale.session_id).pack()
        began = time.monotonic()
        for number, story in enumerate(stories):  # evenly within PRESS_SPREAD_S, in this order
            await asyncio.sleep(max(0.0, began + PRESS_SPREAD_S * number / TOURISTS - time.monotonic()))
            story.query_id = await world.user_presses(
                story.tourist.id, story.tourist.id, story.card["message_id"], book
            )
            story.pressed_at = number
        spread = time.monotonic() - began
        await asyncio.gather(*(follow(story, onsale) for story in stories))
        cards = await settled(database, world, operators, onsale)

    rows = {row.user_id: row for row in await places(database, onsale.session_id)}
    left, buyers, seats = await sold(database, onsale.session_id)
    admitted = [s for s in stories if s.turn_message_id is not None]
    told = [s for s in stories if s.sold_out is not None]
    print(
        f"\n{TOURISTS} presses within {spread:.2f} s; admitted {len(admitted)}, booked "
        f"{sum(1 for s in stories if s.booked)}, told sold out {len(told)}; seats left {left}"
    )

    # every press answered; one place each, drawn in one message
    assert all(s.answer is not None for s in stories)
    assert sorted(rows) == sorted(t.id for t in tourists)  # one place per tourist, nobody else in the room
    for story in stories:
        queue = [
            m
            for m in story.tourist.bot_messages()
            if m["message_id"] > story.card["message_id"] and m["message_id"] != story.turn_message_id
        ]
        if story.sold_out is not None:
            assert [m["message_id"] for m in queue] == [story.room_message_id], (story.tourist, queue)

    # exactly SEATS seats sold, one to each of SEATS tourists, all of them admitted and booked through the room
    assert left == 0
    assert seats == SEATS
    assert len(buyers) == SEATS and len(set(buyers)) == SEATS, Counter(buyers).most_common(3)
    assert sorted(buyers) == sorted(s.tourist.id for s in admitted)
    for story in admitted:
        placed = I18N.translator(story.tourist.user.language_code).gettext("Booking placed! Your order code is {code}.")
        assert story.booked is not None and story.booked["text"].startswith(placed.split("{")[0]), story.booked
    assert {rows[s.tourist.id].status for s in admitted} == {PlaceStatus.BOOKED.value}
    assert len(admitted) + len(told) == TOURISTS

    # admission follows arrival: the admitted are the front of the line, admitted in the line's order...
    assert all(r.rank is not None for r in rows.values())
    line = sorted(rows.values(), key=lambda r: r.rank or 0)
    assert sorted(r.user_id for r in line[: len(admitted)]) == sorted(s.tourist.id for s in admitted)
    stamps = [r.admitted_at for r in line[: len(admitted)] if r.admitted_at is not None]
    assert len(stamps) == len(admitted) and stamps == sorted(stamps)
    assert all(r.admitted_at is None for r in line[len(admitted) :])
    # ...and the line is the order in which the tourists pressed
    order = {s.tourist.id: s.pressed_at for s in stories}
    pressed = [order[r.user_id] for r in line]
    moved = [abs(place - press) for place, press in enumerate(pressed)]
    first = sum(1 for s in admitted if s.pressed_at < len(admitted))
    print(
        f"line against the presses: {sum(1 for m in moved if m)} out of place, by up to {max(moved)} places; "
        f"{first} of the first {len(admitted)} to press were admitted"
    )
    assert pressed == sorted(pressed)

    # the others: told "sold out" in their language, offered the waitlist, their place closed
    for story in told:
        tr = I18N.translator(story.tourist.user.language_code)
        assert story.sold_out is not None
        assert tr.gettext("Sorry, this date is sold out.") in plain(story.sold_out["text"]), story.sold_out
        assert rows[story.tourist.id].status == PlaceStatus.SOLD_OUT.value
    assert all(s.sold_out is None or waitlist_offered(s.sold_out, onsale.session_id) for s in stories)

    # one summary card for the operators, edited in place; the room closed
    assert len(cards) == 1, [c["text"] for c in cards]
    assert await room_status(database, onsale.session_id) == RoomStatus.CLOSED.value

    # never "message is not modified": each edit of a tourist's message changed it
    chats = {t.id for t in tourists}
    unchanged = [c for c in world.calls[mark:] if c.description == NOT_MODIFIED and c.params.get("chat_id") in chats]
    assert not unchanged, unchanged[:3]
    assert all(buttons(s.tourist.message(s.room_message_id)) for s in stories)
