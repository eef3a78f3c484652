"""A guest blocks or unblocks the bot: Telegram's ``my_chat_member`` update in their private chat (the bot's status
there becomes "kicked", or "member" again). Marked at once (:mod:`domain.use_cases.bot_blocked`), so nothing is sent
to a guest who blocked the bot — the outbox, offers and alerts read the same flag — and one who unblocks it is
reachable again. Nothing is answered: a blocked chat cannot be written to."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from domain.ports import Clock, UnitOfWork
from domain.use_cases.bot_blocked import note_bot_blocked
from handlers.ui import Languages

router = Router(name=__name__)
router.my_chat_member.filter(F.chat.type == ChatType.PRIVATE)


@router.my_chat_member(ChatMemberUpdatedFilter(KICKED))
async def on_bot_blocked(update: ChatMemberUpdated, uow: UnitOfWork, i18n: Languages, clock: Clock) -> None:
    language = i18n.best(update.from_user.language_code)
    await note_bot_blocked(uow, update.from_user.id, True, language, clock.now())


@router.my_chat_member(ChatMemberUpdatedFilter(MEMBER))
async def on_bot_unblocked(update: ChatMemberUpdated, uow: UnitOfWork, i18n: Languages, clock: Clock) -> None:
    language = i18n.best(update.from_user.language_code)
    await note_bot_blocked(uow, update.from_user.id, False, language, clock.now())
