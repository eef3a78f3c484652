"""The catch-all, included last: whatever no other handler took gets a localized hint, never silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.model.questions import QUESTION_MAX_LENGTH
from handlers.settings import HandlerSettings
from handlers.tourist.keyboards import main_menu_kb
from handlers.tourist.messaging import answer_query
from handlers.tourist.question import can_offer, offer_kb, remember_offer
from handlers.ui import Translator

router = Router(name=__name__)


@router.message(F.chat.type == ChatType.PRIVATE, F.text.startswith("/"))
async def on_unknown_command(message: Message, tr: Translator) -> None:
    await message.answer(
        tr.gettext("I don't know that command. Here is what I can do — or send /help."),
        reply_markup=main_menu_kb(tr),
    )


@router.message(F.chat.type == ChatType.PRIVATE, F.text.as_("typed"))
async def on_free_text(
    message: Message, typed: str, tr: Translator, state: FSMContext, settings: HandlerSettings
) -> None:
    _ = tr.gettext
    if can_offer(typed, settings):  # offer to pass it on as a question; the menu stays below
        text = _(
            "I didn't catch that. Shall I send this message to our team? They will answer you here — or use "
            "“Ask a question” and the other buttons below."
        )
        sent = await message.answer(text, reply_markup=offer_kb(tr))
        await remember_offer(state, sent.message_id, typed)
        return
    if settings.operator_chat_id is not None and len(typed.strip()) > QUESTION_MAX_LENGTH:
        text = _(
            "That is {length} characters — a message to our team can be up to {limit}. Please send a shorter "
            "version (or split it into several messages) and I will offer to pass it on."
        ).format(length=len(typed.strip()), limit=QUESTION_MAX_LENGTH)
    else:
        text = _(
            "I didn't catch that. Use the buttons below — or press “Ask a question” and our team will answer you here."
        )
    await message.answer(text, reply_markup=main_menu_kb(tr))


@router.message(F.chat.type == ChatType.PRIVATE)
async def on_other_content(message: Message, tr: Translator) -> None:
    await message.answer(
        tr.gettext("I can only read text and buttons, sorry. Here is the menu:"), reply_markup=main_menu_kb(tr)
    )


@router.callback_query()
async def on_unknown_button(query: CallbackQuery, tr: Translator) -> None:
    """Malformed, forged or long-outdated button data: refuse, change nothing."""
    await answer_query(query, tr.gettext("This button is no longer valid. Please use the menu."), alert=True)
