"""The real bot process (issue 14): an organiser changes the reminder offset and the reminder text in ``/settings``,
a tourist books, and the reminder comes at the new offset with the organiser's words (and the "what to bring"
note), in the tourist's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.storage.tables import OrderReminderRow, OrderRow, SessionRow
from domain.model.organiser_settings import Setting, TextKind
from handlers.organiser.callbacks import SettingEditCb, SettingsAction, SettingsCb, TextAction, TextCb
from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
from sandbox.world import World
from tests.e2e.booking import plain
from tests.e2e.conftest import Database
from tests.e2e.tourist import Tourist
from tests.seed import INSTANT_ORGANISER_CHAT_ID

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

OFFSET = timedelta(minutes=11)
LEAD = timedelta(seconds=75)  # the reminder falls due this long after the session is added
REMINDER = "Hello {name}! {event} starts {time} at {meeting_point}. Your order: {code}."
BRING = "Comfortable shoes, please."
REMINDER_WAIT = 180.0  # s: the lead, then a scheduler tick or two


async def test_the_new_reminder_offset_and_text_reach_the_next_booking(
    tourist_factory: Callable[..., Awaitable[Tourist]], database: Database, world: World
) -> None:
    seeded, sessions = database.seeded, database.sessions
    org = seeded.instant_organiser_id
    organiser = Tourist(world, world.user(INSTANT_ORGANISER_CHAT_ID))

    # the organiser: reminders 11 minutes before the start, their own reminder text and a note on what to bring
    await organiser.send("/settings")
    await organiser.press(SettingEditCb(org=org, setting=Setting.REMINDERS))
    saved = await organiser.send("11m")
    assert "Reminders before the start: 11 minutes" in saved["text"]
    await organiser.press(SettingsCb(action=SettingsAction.TEXTS, org=org))
    for kind, text in ((TextKind.REMINDER, REMINDER), (TextKind.BRING, BRING)):
        await organiser.press(TextCb(action=TextAction.OPEN, org=org, kind=kind))
        await organiser.press(TextCb(action=TextAction.EDIT, org=org, kind=kind, lang="en"))
        preview = await organiser.send(text)
        assert "Preview in English" in preview["text"]
        await organiser.press(TextCb(action=TextAction.SAVE, org=org, kind=kind, lang="en"), preview)
        await organiser.press(SettingsCb(action=SettingsAction.TEXTS, org=org))

    # a walk starting soon: its 11-minute reminder falls due shortly after the booking
    starts = (datetime.now(UTC) + OFFSET + LEAD).replace(microsecond=0)
    async with sessions() as db, db.begin():
        session_id = (
            await db.execute(
                insert(SessionRow)
                .values(
                    event_id=seeded.instant_event_id, starts_at=starts, capacity=5, seats_left=5, status="scheduled"
                )
                .returning(SessionRow.id)
            )
        ).scalar_one()

    anna = await tourist_factory("Anna", "en")
    await anna.send("/start")
    await anna.press(MenuCb(action=MenuAction.EVENTS))
    await anna.press(BrowseCb(region=seeded.region_id, step="when"))
    await anna.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    await anna.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="city", step="list"))
    await anna.press(EventCb(event=seeded.instant_event_id))
    await anna.press(BookCb(action=BookAction.START, session=session_id))
    summary = await anna.press(BookCb(action=BookAction.NEXT, session=session_id))
    await anna.press(BookCb(action=BookAction.CONFIRM, session=session_id), summary)

    async with sessions() as db:
        order = await db.scalar(select(OrderRow).where(OrderRow.user_id == anna.id))
        assert order is not None
        due = list(
            await db.scalars(
                select(OrderReminderRow.due_at).where(
                    OrderReminderRow.order_id == order.id, OrderReminderRow.kind.startswith("before:")
                )
            )
        )
    assert due == [starts - OFFSET]  # the new offset; the catalog's 24 h and 2 h are not asked for any more

    def reminder() -> dict[str, Any] | None:
        return next(
            (m for m in anna.bot_messages() if "starts" in m.get("text", "") and "Hello Anna!" in m["text"]), None
        )

    got = await anna.wait(reminder, "the reminder in the organiser's words", timeout=REMINDER_WAIT)
    text = got["text"]
    assert "Hello Anna! Old Town walk starts" in text
    assert "at Town Hall Square. Your order: " in text
    assert plain("🎒 " + BRING) in text
