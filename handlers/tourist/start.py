"""/start (with deep links to an event), /help, /language and the main menu."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.profile import set_language
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import LangCb, MenuAction, MenuCb
from handlers.tourist.keyboards import language_kb, main_menu_kb
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Languages, Translator

router = Router(name=__name__)

EVENT_LINK_PREFIX = "ev-"


def greeting(tr: Translator, name: str | None) -> str:
    _ = tr.gettext
    hello = _("Hello, {name}!").format(name=html.quote(name)) if name else _("Hello!")
    return "\n\n".join(
        [
            f"<b>{hello}</b>",
            _(
                "I help you find and book excursions and events: pick a region and a date, choose tickets, "
                "and I hold your seats while the organiser confirms. Your orders, tickets and reminders stay "
                "here in this chat."
            ),
            _("What would you like to do?"),
        ]
    )


@router.message(CommandStart(deep_link=True))
async def cmd_start_deep_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    user: User,
) -> None:
    await state.clear()
    payload = command.args or ""
    if payload.startswith(EVENT_LINK_PREFIX):
        async with uow.read():
            event = await uow.catalog.event_by_code(payload.removeprefix(EVENT_LINK_PREFIX))
        if event is not None:
            text, markup = await event_card(uow, event.id, tr, clock.now(), user.id)
            await message.answer(text, reply_markup=markup)
            return
        await message.answer(tr.gettext("That event link is not valid any more. Here is the main menu."))
    text = await _with_organiser_commands(greeting(tr, user.first_name), uow, message.chat.id, tr)
    await message.answer(text, reply_markup=main_menu_kb(tr))


async def _with_organiser_commands(text: str, uow: UnitOfWork, chat_id: int, tr: Translator) -> str:
    """In an organiser's own chat, the text and a line naming their commands (``handlers/organiser/commands.py``)."""
    # the organisers' package imports this one (through the operators' access): imported here, no cycle at import
    from handlers.organiser.commands import organiser_commands_line

    line = await organiser_commands_line(uow, chat_id, tr)
    return f"{text}\n\n{line}" if line else text


@router.message(CommandStart())
async def cmd_start(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User) -> None:
    await state.clear()
    text = await _with_organiser_commands(greeting(tr, user.first_name), uow, message.chat.id, tr)
    await message.answer(text, reply_markup=main_menu_kb(tr))


@router.message(Command("help"))
async def cmd_help(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator) -> None:
    await state.clear()
    _ = tr.gettext
    text = "\n".join(
        [
            _("<b>What I can do</b>"),
            "",
            _("/events — browse excursions and events by region, date and category"),
            _("/orders — your bookings: status, what happens next, cancel"),
            _("/question — ask our team anything; the answer comes here"),
            _("/profile — your phone, hotel (partner hotels give discounts) and your data"),
            _("/language — change the language"),
        ]
    )
    text = await _with_organiser_commands(text, uow, message.chat.id, tr)
    await message.answer(text, reply_markup=main_menu_kb(tr))


@router.message(Command("language"))
async def cmd_language(message: Message, state: FSMContext, tr: Translator, i18n: Languages, user: User) -> None:
    await state.clear()
    await message.answer(
        tr.gettext("Choose your language:"), reply_markup=language_kb(tr, i18n.languages, user.language)
    )


@router.callback_query(LangCb.filter())
async def on_language_pick(
    query: CallbackQuery, callback_data: LangCb, uow: UnitOfWork, i18n: Languages, user: User
) -> None:
    if callback_data.language not in i18n.languages:
        tr = i18n.translator(user.language)
        await answer_query(query, tr.gettext("This language is not available."), alert=True)
        return
    await set_language(uow, user.id, callback_data.language)
    tr = i18n.translator(callback_data.language)
    await answer_query(query, tr.gettext("Language changed."))
    await show(query, greeting(tr, user.first_name), main_menu_kb(tr))


@router.callback_query(MenuCb.filter(F.action == MenuAction.HOME))
async def on_menu_home(query: CallbackQuery, state: FSMContext, tr: Translator, user: User) -> None:
    await state.clear()
    await answer_query(query)
    await show(query, greeting(tr, user.first_name), main_menu_kb(tr))
