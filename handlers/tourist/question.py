"""/question: the tourist writes one message to our team; the answer comes back here, in this chat.

Free text nobody else understood gets an offer from the fallback ("Send this to our team"): the text waits in the
conversation's data, tied to the message with the button, and a press sends it as a question.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import InvalidQuestion, NoOperators
from domain.model.questions import QUESTION_MAX_LENGTH
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.questions import ask_question
from handlers.settings import HandlerSettings
from handlers.tourist.callbacks import MenuAction, MenuCb
from handlers.tourist.keyboards import main_menu_kb
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)


class QuestionForm(StatesGroup):
    text = State()


OFFER_KEY = "question_offer"  # FSM data: {"message": the offer's message id, "text": the tourist's text}


class OfferCb(CallbackData, prefix="qo"):
    """ "Send this to our team" under the fallback's answer to free text."""

    send: bool = True


def can_offer(text: str, settings: HandlerSettings) -> bool:
    return settings.operator_chat_id is not None and bool(text.strip()) and len(text.strip()) <= QUESTION_MAX_LENGTH


def offer_kb(tr: Translator) -> InlineKeyboardMarkup:
    """The offer's button above the usual menu."""
    menu = main_menu_kb(tr)
    offer = [button("💬 " + tr.gettext("Send this to our team"), OfferCb())]
    return InlineKeyboardMarkup(inline_keyboard=[offer, *menu.inline_keyboard])


async def remember_offer(state: FSMContext, message_id: int, text: str) -> None:
    await state.update_data({OFFER_KEY: {"message": message_id, "text": text}})


def cancel_kb(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button("✖️ " + tr.gettext("Cancel"), MenuCb(action=MenuAction.HOME))]])


def prompt(tr: Translator) -> str:
    _ = tr.gettext
    return "\n\n".join(
        [
            "💬 " + _("<b>Ask a question</b>"),
            _("Write your question in one message. Our team will answer here in this chat."),
        ]
    )


def unavailable(tr: Translator) -> str:
    return tr.gettext("Sorry, questions cannot be received right now. Please try again later.")


def thanks(tr: Translator) -> str:
    return "✅ " + tr.gettext("Thanks! Our team will answer here in this chat.")


async def open_question_form(
    target: Message | CallbackQuery, state: FSMContext, tr: Translator, settings: HandlerSettings
) -> None:
    """Start the form with its prompt, or say questions cannot be received when there is no operator chat."""
    await state.clear()
    if settings.operator_chat_id is None:
        await show(target, unavailable(tr), main_menu_kb(tr))
        return
    await state.set_state(QuestionForm.text)
    await show(target, prompt(tr), cancel_kb(tr))


async def send_question(uow: UnitOfWork, user: User, text: str, clock: Clock, settings: HandlerSettings) -> None:
    """:func:`ask_question` with this deployment's operator chat and answer time."""
    await ask_question(
        uow,
        user.id,
        text,
        clock.now(),
        operator_chat_id=settings.operator_chat_id,
        answer_within=settings.question_answer_within,
    )


@router.message(Command("question"))
async def cmd_question(message: Message, state: FSMContext, tr: Translator, settings: HandlerSettings) -> None:
    await open_question_form(message, state, tr, settings)


@router.callback_query(MenuCb.filter(F.action == MenuAction.QUESTION))
async def on_question_open(query: CallbackQuery, state: FSMContext, tr: Translator, settings: HandlerSettings) -> None:
    await answer_query(query)
    await open_question_form(query, state, tr, settings)


@router.message(QuestionForm.text, F.text.as_("question"), ~F.text.startswith("/"))
async def on_question_text(
    message: Message,
    question: str,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    try:
        await send_question(uow, user, question, clock, settings)
    except InvalidQuestion as error:
        if error.data.get("reason") == "too_long":
            text = _("That is {length} characters — please shorten your question to {limit} and send it again.").format(
                length=error.data["length"], limit=error.data["limit"]
            )
        else:
            text = _("Your message is empty. Please write your question.")
        await message.answer(text, reply_markup=cancel_kb(tr))
        return
    except NoOperators:
        await state.clear()
        await message.answer(unavailable(tr), reply_markup=main_menu_kb(tr))
        return
    await state.clear()
    await message.answer(thanks(tr), reply_markup=main_menu_kb(tr))


@router.callback_query(OfferCb.filter())
async def on_question_offer(
    query: CallbackQuery,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    offer = (await state.get_data()).get(OFFER_KEY)
    if not isinstance(offer, dict) or query.message is None or offer.get("message") != query.message.message_id:
        await answer_query(
            query, _("This offer has expired. Press “Ask a question” and write your question again."), alert=True
        )
        return
    await state.update_data({OFFER_KEY: None})
    try:
        await send_question(uow, user, str(offer.get("text", "")), clock, settings)
    except (InvalidQuestion, NoOperators):
        await answer_query(query)
        await show(query, unavailable(tr), main_menu_kb(tr))
        return
    await answer_query(query)
    await show(query, thanks(tr), main_menu_kb(tr))


@router.message(QuestionForm.text, ~F.text)
async def on_question_other(message: Message, tr: Translator) -> None:
    await message.answer(
        tr.gettext("I can only pass on text. Please write your question in words."), reply_markup=cancel_kb(tr)
    )


@router.message(QuestionForm.text, F.text.startswith("/"))
async def on_question_form_command(message: Message, state: FSMContext) -> None:
    """A command nobody before us took leaves the form; then it goes on to the catch-all."""
    await state.clear()
    raise SkipHandler()
