"""A guest blocks the bot, then unblocks it (``my_chat_member`` in their private chat, issue 15), through the real
Dispatcher: marked blocked at once — the outbox then sends them nothing — and reachable again after unblocking; a
stranger who blocks the bot is remembered blocked; Telegram is asked for these updates."""

from __future__ import annotations

import itertools
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy import select

from bot.outbox import OutboxSender
from bot.storage.tables import OutboxRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.use_cases.booking import PlaceOrder, place_order
from tests.handlers.chat import Chat
from tests.handlers.conftest import STRANGER_ID, TOURIST_ID
from tests.seed import Seeded
from tests.telegram.recorder import BOT_ID, RecordingSession

_ids = itertools.count(900_000)


async def bot_status(dp: Dispatcher, bot: Bot, recorder: RecordingSession, user_id: int, old: str, new: str) -> None:
    """Telegram tells the bot its status in ``user_id``'s private chat changed (``kicked``: the user blocked it)."""
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Tripdesk"}

    def member(status: str) -> dict[str, Any]:
        return {"status": status, "user": bot_user, **({"until_date": 0} if status == "kicked" else {})}

    change: dict[str, Any] = {
        "chat": recorder.chat(user_id),
        "from": {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "de"},
        "date": int(recorder.now().timestamp()),
        "old_chat_member": member(old),
        "new_chat_member": member(new),
    }
    update = Update.model_validate({"update_id": next(_ids), "my_chat_member": change}, context={"bot": bot})
    await dp.feed_update(bot, update)


async def blocked(sessions, user_id: int) -> bool | None:
    async with sessions() as db:
        return await db.scalar(select(UserRow.blocked_bot).where(UserRow.id == user_id))


async def test_a_guest_who_blocks_the_bot_gets_nothing_until_they_unblock_it(
    chat: Chat,
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    sessions,
    seeded: Seeded,
    clock,
    sender: OutboxSender,
) -> None:
    await chat.send("/start")
    assert await blocked(sessions, TOURIST_ID) is False
    await bot_status(dp, bot, recorder, TOURIST_ID, "member", "kicked")
    assert await blocked(sessions, TOURIST_ID) is True
    await bot_status(dp, bot, recorder, TOURIST_ID, "member", "kicked")  # told twice: nothing more changes
    assert await blocked(sessions, TOURIST_ID) is True

    # an instant pay-on-site booking made for them (e.g. by the desk) is confirmed with a message: not sent
    order = PlaceOrder(TOURIST_ID, seeded.instant_session_id, {"adult": 1}, {})
    await place_order(SqlUnitOfWork(sessions), order, clock.now())
    sent_before = len(recorder.calls())
    await sender.deliver_due()
    assert [r for r in recorder.calls()[sent_before:] if r.chat_id == TOURIST_ID] == []
    async with sessions() as db:
        [row] = list(await db.scalars(select(OutboxRow).where(OutboxRow.chat_id == TOURIST_ID)))
    assert row.status == "dead"  # closed as undeliverable, never requested

    await bot_status(dp, bot, recorder, TOURIST_ID, "kicked", "member")
    assert await blocked(sessions, TOURIST_ID) is False  # reachable again


async def test_a_stranger_who_blocks_the_bot_is_remembered_blocked(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions, seeded: Seeded
) -> None:
    await bot_status(dp, bot, recorder, STRANGER_ID, "member", "kicked")
    assert await blocked(sessions, STRANGER_ID) is True
    async with sessions() as db:
        user = await db.get(UserRow, STRANGER_ID)
    assert user is not None and user.language == "de"


def test_the_bot_asks_telegram_for_its_own_membership_changes(dp: Dispatcher) -> None:
    assert "my_chat_member" in dp.resolve_used_update_types()  # polling and setWebhook pass exactly this list
