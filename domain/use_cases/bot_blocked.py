"""A guest blocks or unblocks the bot (Telegram's ``my_chat_member`` update in their private chat, issue 15).

Blocking marks them at once (``User.blocked_bot``, the flag the outbox sets on a 403 too): no notification, offer or
alert is sent to them from then on (each reads the flag). Unblocking makes them reachable again, as writing to the
bot does. Someone we never knew who blocks the bot is remembered blocked (like the outbox's 403)."""

from __future__ import annotations

from datetime import datetime

from domain.model.users import User
from domain.ports import UnitOfWork


async def note_bot_blocked(uow: UnitOfWork, user_id: int, blocked: bool, language: str, now: datetime) -> bool:
    """Set the user's ``blocked_bot`` to ``blocked`` (creating them, in ``language``, when unknown); False when it
    was so already (a repeated update changes nothing)."""
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            await uow.users.add(User(id=user_id, language=language, created_at=now, blocked_bot=blocked))
        elif user.blocked_bot is blocked:
            return False
        else:
            user.blocked_bot = blocked
            await uow.users.save(user)
        await uow.commit()
    return True
