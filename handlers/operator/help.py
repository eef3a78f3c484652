"""/help in the operator group: what the desk can do. The same list is the group's command menu (bot/app.py)."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import Message

from handlers.ui import N_, Translator

router = Router(name=__name__)

# (command, what it does): the menu of the operator group and the body of /help
DESK_COMMANDS: tuple[tuple[str, str], ...] = (
    ("problems", N_("Open problems: /problems [oldest]; filter by kind with the list's buttons")),
    ("order", N_("An order's card and changes: /order <code>")),
    ("audit", N_("An order's history: /audit <code>")),
    ("find", N_("Find a tourist: phone, @username, ticket or order code")),
    ("events", N_("Sessions with free seats: /events <region> [date] [category]")),
    ("session", N_("Cancel a session: /session <event> <date> <time> cancel [reason]")),
    ("offer", N_("Send an offer to a segment of guests, in their languages")),
    ("stats", N_("Today's figures")),
    ("help", N_("What the desk can do")),
)


def help_text(tr: Translator) -> str:
    _ = tr.gettext
    lines = ["🧭 <b>" + _("The operator desk") + "</b>", ""]
    lines += [html.quote(f"/{command} — {_(description)}") for command, description in DESK_COMMANDS]
    lines += ["", _("Problem cards come by themselves. Reply to a tourist's question to answer them.")]
    return "\n".join(lines)


@router.message(Command("help"))
async def cmd_help(message: Message, tr: Translator) -> None:
    await message.answer(help_text(tr))
