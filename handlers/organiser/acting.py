"""Whom an organiser's screen acts for, decided on the server for every message and press (issue 14).

In an organiser's own chat the command acts for that organiser (``/sessions``); an operator may act for any organiser
by its code (``/sessions baltic-boats``), in any chat. A button names the organiser by id: it acts only in that
organiser's chat or for an operator, so a forged or forwarded button changes nothing for anyone else.
"""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import User

from domain.model.catalog import Organiser
from domain.ports import UnitOfWork
from domain.use_cases.organiser_access import OrganiserActor
from handlers.operator.access import OperatorDirectory
from handlers.ui import Translator

CODE_MAX = 64


async def _actor(
    organiser: Organiser, chat_id: int, user: User | None, bot: Bot, operators: OperatorDirectory
) -> OrganiserActor | None:
    if organiser.chat_id == chat_id:
        return OrganiserActor(chat_id)
    if user is not None and await operators.is_operator(bot, user.id):
        return OrganiserActor(chat_id, operator_id=user.id)
    return None


async def acting_for_command(
    uow: UnitOfWork, bot: Bot, operators: OperatorDirectory, chat_id: int, user: User | None, args: str | None
) -> tuple[Organiser, OrganiserActor] | None:
    """The organiser a command acts for: the one named by code (an operator, or that organiser's own chat), else the
    organiser whose chat this is; None when neither."""
    code = (args or "").strip().lower()[:CODE_MAX]
    async with uow:
        if code:
            organiser = await uow.organiser_catalog.organiser_by_code(code)
        else:
            organiser = await uow.organiser_catalog.organiser_for_chat(chat_id)
    if organiser is None:
        return None
    actor = await _actor(organiser, chat_id, user, bot, operators)
    return (organiser, actor) if actor else None


async def acting_for_button(
    uow: UnitOfWork, bot: Bot, operators: OperatorDirectory, chat_id: int, user: User | None, organiser_id: int
) -> tuple[Organiser, OrganiserActor] | None:
    """The organiser a button names, if this chat may act for them."""
    async with uow:
        organiser = await uow.catalog.organiser(organiser_id)
    if organiser is None:
        return None
    actor = await _actor(organiser, chat_id, user, bot, operators)
    return (organiser, actor) if actor else None


def not_yours_text(tr: Translator) -> str:
    return "🔒 " + tr.gettext("Only the organiser's own chat or our team can change this. Nothing was changed.")


def not_an_organiser_text(tr: Translator, command: str) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            "🔒 " + _("This command is for organisers, in the chat their booking requests come to."),
            _("Our team can open an organiser's screens with the organiser's code: {example}").format(
                example=f"<code>{html.quote(command)} CODE</code>"
            ),
        ]
    )
