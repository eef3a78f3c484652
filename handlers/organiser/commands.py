"""The organisers' commands, told in their own chat: a line the tourists' ``/start`` and ``/help`` add there.

No command menu is set per organiser chat (one Bot API call per organiser at startup, thousands at scale): the
organiser learns ``/sessions``, ``/questions`` and ``/settings`` from the greeting and the help of their own chat,
recognised as the organiser screens recognise it (``acting.acting_for_command``: the chat an organiser's booking
requests come to).
"""

from __future__ import annotations

from domain.ports import UnitOfWork
from handlers.ui import Translator


def organiser_commands_text(tr: Translator) -> str:
    return "🧭 " + tr.gettext(
        "Your organiser commands: /sessions — your sessions and seats, /questions — the booking questions, "
        "/settings — booking terms and texts"
    )


async def organiser_commands_line(uow: UnitOfWork, chat_id: int, tr: Translator) -> str | None:
    """The line for ``chat_id`` if it is an organiser's chat, else None."""
    async with uow.read():
        organiser = await uow.organiser_catalog.organiser_for_chat(chat_id)
    return organiser_commands_text(tr) if organiser is not None else None
