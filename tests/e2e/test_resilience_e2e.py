"""The real bot process when Telegram pushes back: flood control (429), server errors (5xx), a failing getUpdates,
and an organiser who blocked the bot."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.i18n import I18n
from bot.storage.tables import EventRow, OrganiserRow, SessionRow
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    BrowseCb,
    MenuAction,
    MenuCb,
    When,
)
from sandbox.calls import CallRecord
from sandbox.world import World
from tests.e2e.tourist import Tourist, callback_data

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

I18N = I18n("en")
BLOCKED_ORGANISER_CHAT_ID = 700009
SENDER_GRACE = 2.0  # the outbox sender runs every 0.5 s in these tests


def since(world: World, mark: int) -> list[CallRecord]:
    return world.calls[mark:]


def repeated_until_accepted(refused: CallRecord, calls: list[CallRecord]) -> bool:
    """A refused request was sent again, with the same parameters, and accepted."""
    return any(c.n > refused.n and c.method == refused.method and c.params == refused.params and c.ok for c in calls)


async def start_all(tourists: list[Tourist], text: str = "/start") -> list[dict]:
    """Everyone writes at once (the updates reach the bot in one getUpdates), then each waits for their reply."""
    sent = [await t.world.user_sends(t.id, text) for t in tourists]
    return await asyncio.gather(
        *(t.wait_reply(m["message_id"], f"reply to {text!r}") for t, m in zip(tourists, sent, strict=True))
    )


@pytest.mark.telegram_limits
async def test_a_429_storm_loses_no_message(tourist_factory, world, database) -> None:
    seeded = database.seeded
    tourists = [await tourist_factory(f"Storm {n}", "en") for n in range(3)]
    mark = len(world.calls)

    world.fail_next(5, kind="429", retry_after=1)  # the next five messages the bot sends
    menus = await start_all(tourists)
    for menu in menus:
        assert MenuCb(action=MenuAction.EVENTS).pack() in callback_data(menu)

    # they browse on while edits and callback answers are refused too
    world.fail_next(3, kind="429", retry_after=1, methods=["editMessageText", "answerCallbackQuery", "sendMessage"])
    screens = await asyncio.gather(*(t.press(MenuCb(action=MenuAction.EVENTS)) for t in tourists))
    assert all(BrowseCb(region=seeded.region_id, step="when").pack() in callback_data(s) for s in screens)
    anna = tourists[0]
    await anna.press(BrowseCb(region=seeded.region_id, step="when"))
    screen = await anna.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    assert I18N.translator("en").gettext("All categories") in str(screen["reply_markup"])
    help_ = await anna.send("/help")
    assert "/events" in help_["text"]

    calls = since(world, mark)
    refused = [c for c in calls if c.status == 429]
    assert len(refused) == 8, [(c.method, c.fault) for c in refused]
    assert all(c.response["parameters"]["retry_after"] == 1 for c in refused)
    ours = {t.id for t in tourists}
    for call in refused:
        if call.params.get("chat_id") in ours or call.method == "answerCallbackQuery":
            assert repeated_until_accepted(call, calls), call
    # every reply exactly once: three menus (edited: once, once, three times) and Anna's help text
    assert [len(t.bot_messages()) for t in tourists] == [2, 1, 1]
    assert [len(t.bot_messages()[0]["edits"]) for t in tourists] == [3, 1, 1]
    assert [len(t.callback_answers()) for t in tourists] == [3, 1, 1]


@pytest.mark.telegram_limits
async def test_telegram_flood_limits_delay_replies_but_lose_none(tourist_factory, world) -> None:
    """Five messages at once: Telegram lets three replies through, then one a second; the others are answered 429
    with retry_after, and the bot waits and sends them again."""
    chatty = await tourist_factory("Chatty", "en")
    mark = len(world.calls)
    for n in range(5):
        await world.user_sends(chatty.id, f"hello {n}")
    await chatty.wait(lambda: len(chatty.bot_messages()) >= 5, "five replies", timeout=15)
    calls = since(world, mark)
    throttled = [c for c in calls if c.status == 429 and c.fault is None]
    assert throttled, "Telegram's limits (1 message/s in a chat, bursts of 3) did not throttle five replies"
    assert all(repeated_until_accepted(c, calls) for c in throttled)
    assert len(chatty.bot_messages()) == 5
    assert len([c for c in calls if c.method == "sendMessage" and c.ok and c.params["chat_id"] == chatty.id]) == 5


async def test_a_burst_of_server_errors_loses_no_message(tourist_factory, world) -> None:
    tourists = [await tourist_factory(f"Burst {n}", "de") for n in range(4)]
    mark = len(world.calls)
    world.fail_next(4, kind="5xx")
    menus = await start_all(tourists)
    de = I18N.translator("de")
    assert all(de.gettext("My orders") in str(menu["reply_markup"]) for menu in menus)
    calls = since(world, mark)
    failed = [c for c in calls if c.status == 500]
    assert len(failed) == 4 and all(c.fault == "5xx" for c in failed)
    assert all(repeated_until_accepted(c, calls) for c in failed)
    assert [len(t.bot_messages()) for t in tourists] == [1, 1, 1, 1]


async def test_polling_survives_failing_get_updates(tourist_factory, world, bot_process) -> None:
    tourist = await tourist_factory("Patient", "en")
    mark = len(world.calls)
    log_mark = bot_process.log_size()
    world.fail_next(3, kind="5xx", methods=["getUpdates"])
    await tourist.send("/start")  # the long poll in progress delivers this; the next three polls fail

    def failed_polls() -> list[CallRecord]:
        return [c for c in since(world, mark) if c.method == "getUpdates" and c.status == 500]

    await world.wait_for(lambda: failed_polls(), timeout=5)
    help_ = await tourist.send("/help")  # written while the bot cannot poll: delivered once it can again
    assert "/orders" in help_["text"]
    assert len(failed_polls()) == 3
    assert not world.faults
    assert bot_process.log(log_mark).count("getUpdates failed") == 3  # logged by bot/inbox.py, then backed off


# ---- an organiser who blocked the bot ------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="package")
async def blocked_organiser(database, world) -> str:
    """An organiser of its own (so the other tests' booking requests do not reach it), whose chat is a user who
    blocked the bot; one event of theirs needing confirmation, without questions. Returns the event's code."""
    world.add_user(first_name="Harbour Tours", language_code="en", user_id=BLOCKED_ORGANISER_CHAT_ID)
    world.block_bot(BLOCKED_ORGANISER_CHAT_ID)
    async with database.sessions() as db, db.begin():
        existing = await db.scalar(select(OrganiserRow).where(OrganiserRow.chat_id == BLOCKED_ORGANISER_CHAT_ID))
        assert existing is None
        organiser = OrganiserRow(
            code="harbour-tours",
            name="Harbour Tours",
            chat_id=BLOCKED_ORGANISER_CHAT_ID,
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
            code="harbour-tour",
            organiser_id=organiser.id,
            region_id=database.seeded.region_id,
            category="sea",
            title={"en": "Harbour tour"},
            description={"en": "An hour around the harbour."},
            meeting_point={"en": "Pier 1"},
            duration_s=3600,
            languages=["en"],
            currency="EUR",
            prices=[{"code": "adult", "price_minor": 2000}],
            confirmation="required",
        )
        db.add(event)
        await db.flush()
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
        db.add(SessionRow(event_id=event.id, starts_at=starts, capacity=10, seats_left=10, status="scheduled"))
    return event.code


async def book_by_link(tourist: Tourist, event_code: str) -> dict:
    """/start ev-<code> -> the event card -> its first date -> Continue -> Confirm; returns the order card."""
    card = await tourist.send(f"/start ev-{event_code}")
    first_date = next(d for d in callback_data(card) if d.startswith(f"k:{BookAction.START}:"))
    session = int(first_date.split(":")[2])
    await tourist.press(first_date)
    await tourist.press(BookCb(action=BookAction.NEXT, session=session))
    return await tourist.press(BookCb(action=BookAction.CONFIRM, session=session))


async def test_an_organiser_who_blocked_the_bot_is_not_messaged(tourist_factory, world, blocked_organiser) -> None:
    def sends() -> list[CallRecord]:
        return [
            c
            for c in world.calls
            if c.params.get("chat_id") == BLOCKED_ORGANISER_CHAT_ID and c.method.startswith("send")
        ]

    # the bot learnt of the block from Telegram's my_chat_member update: not one request goes to the organiser
    for name in ("First", "Second"):
        tourist = await tourist_factory(name, "en")
        card = await book_by_link(tourist, blocked_organiser)
        assert "Harbour tour" in card["text"]
        with contextlib.suppress(TimeoutError):  # a few runs of the sender: nothing may go to the organiser
            await world.wait_for(lambda: len(sends()) > 0, timeout=SENDER_GRACE)
        assert sends() == [], "messaged although blocked: " + "; ".join(
            f"call {c.n} {c.method} -> {c.status} {c.description}" for c in sends()
        )
    assert world.transcript(BLOCKED_ORGANISER_CHAT_ID) == []

    # the organiser unblocks the bot and writes to it: the next booking request reaches them
    organiser = Tourist(world, world.user(BLOCKED_ORGANISER_CHAT_ID))
    await organiser.send("/start")  # writing to a blocked bot restarts it (the world unblocks first)
    before = len(sends())  # the 403 and the bot's answer to /start
    third = await tourist_factory("Third", "en")
    card = await book_by_link(third, blocked_organiser)
    code = card["text"].split("\n")[0].split()[-1]  # "🎟 Order K7M-A4X"
    request = await organiser.wait(
        lambda: next((m for m in organiser.bot_messages() if code in (m.get("text") or "")), None),
        f"the booking request {code}",
    )
    assert request["text"].startswith("🆕")
    assert [c.status for c in sends()[before:]] == [200]
