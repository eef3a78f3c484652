"""The organisers' commands: in Telegram's command menu of their own chat, and told there in a line the tourists'
``/start`` and ``/help`` add.

The menu is set per organiser chat (``setMyCommands`` with ``BotCommandScopeChat``, in the organiser's language: their
commands, then the tourists' ones, which that scope replaces) by :class:`OrganiserMenus` (bot/organiser_menus.py):
when the organiser sends ``/start`` in their chat (:data:`router`, which lets ``/start`` go on to its own handlers),
and at the leader's start for known organisers, a bounded number at a time. Each chat's menu is set once per version
of its commands and language, so repeating costs no request. Tourists keep the default menu.

A chat is an organiser's as the organiser screens recognise it (``acting.acting_for_command``: the chat an
organiser's booking requests come to).
"""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import CommandStart
from aiogram.types import Message

from domain.ports import UnitOfWork
from handlers.ui import N_, Translator

# the organisers' commands, in the order of their menu (each description at most 256 characters, translated)
ORGANISER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("sessions", N_("Your sessions: seats, new dates, stop sales")),
    ("questions", N_("The questions asked at booking")),
    ("settings", N_("Booking terms, texts and the Book button")),
)


class OrganiserMenus(Protocol):
    """Telegram's command menu of an organiser's chat (implemented in bot/organiser_menus.py)."""

    async def show(self, bot: Bot, chat_id: int, language: str) -> None:
        """The organiser commands in ``chat_id``'s menu in ``language``, unless they are there already; a refusal
        of Telegram is logged, never raised (the menu is a convenience)."""


router = Router(name=__name__)


@router.message(CommandStart())
async def organiser_start(
    message: Message, bot: Bot, uow: UnitOfWork, tr: Translator, organiser_menus: OrganiserMenus | None = None
) -> None:
    """An organiser's ``/start`` in their chat: their command menu (once per version), then ``/start`` as usual."""
    if organiser_menus is not None:
        async with uow.read():
            organiser = await uow.organiser_catalog.organiser_for_chat(message.chat.id)
        if organiser is not None:
            await organiser_menus.show(bot, message.chat.id, tr.language)
    raise SkipHandler


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
