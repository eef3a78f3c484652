"""``/questions``: the questions every booking of the organiser's events asks (issue 14): add (free text, or with
choices), edit each text per language, required or not, the longest answer, reorder, remove.

Every message and press is checked on the server (:mod:`handlers.organiser.acting`): only the organiser's own chat
or an operator acts; anyone else is told so and nothing changes. A refused value (empty, too long, a bad number of
choices) is explained and asked again. The use cases (domain/use_cases/organiser_questions.py) audit each change.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from domain.errors import NotAllowed, NotFound
from domain.model.catalog import Organiser, Question
from domain.ports import Clock, UnitOfWork
from domain.use_cases.organiser_questions import (
    QuestionRefused,
    add_question,
    find_question,
    move_question,
    organiser_questions,
    remove_question,
    set_answer_limit,
    set_choice_texts,
    set_question_text,
    set_required,
)
from handlers.operator.access import OperatorDirectory
from handlers.organiser.acting import acting_for_button, acting_for_command, not_an_organiser_text, not_yours_text
from handlers.organiser.callbacks import OrgQuestionAction, OrgQuestionCb
from handlers.organiser.question_screens import (
    choice_question_prompt,
    choices_prompt,
    limit_prompt,
    list_screen,
    question_screen,
    refusal_text,
    remove_screen,
    wording_prompt,
)
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Languages, Translator

router = Router(name=__name__)

REMOVE_LANGUAGE = "-"


class QuestionInput(StatesGroup):
    new_text = State()  # data: org, lang
    new_choice = State()  # data: org, lang
    wording = State()  # data: org, q, lang
    choices = State()  # data: org, q, lang
    limit = State()  # data: org, q


@router.message(Command("questions"))
async def cmd_questions(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
) -> None:
    acting = await acting_for_command(uow, bot, operators, message.chat.id, message.from_user, command.args)
    if acting is None:
        await message.answer(not_an_organiser_text(tr, "/questions"))
        return
    await state.set_state(None)
    organiser = await organiser_questions(uow, acting[0].id, acting[1])
    await show(message, *list_screen(tr, organiser))


@router.callback_query(OrgQuestionCb.filter())
async def on_question_button(
    query: CallbackQuery,
    callback_data: OrgQuestionCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    i18n: Languages,
    tr: Translator,
    clock: Clock,
) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    acting = await acting_for_button(uow, bot, operators, chat_id, query.from_user, callback_data.org)
    if acting is None or (callback_data.lang and callback_data.lang not in i18n.languages):
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    organiser, actor = acting
    action, key, now = callback_data.action, callback_data.q, clock.now()
    try:
        organiser = await organiser_questions(uow, organiser.id, actor)
        if action in (OrgQuestionAction.LIST, OrgQuestionAction.ADD_TEXT, OrgQuestionAction.ADD_CHOICE):
            await _on_list_or_add(query, action, organiser, state, tr)
            return
        question = find_question(organiser.questions, key)
        if question is None:
            raise NotFound(question=key)
        if action is OrgQuestionAction.REQUIRED:
            organiser = await set_required(uow, organiser.id, key, not question.required, actor, now)
        elif action in (OrgQuestionAction.UP, OrgQuestionAction.DOWN):
            organiser = await move_question(uow, organiser.id, key, action is OrgQuestionAction.UP, actor, now)
            await answer_query(query)
            await show(query, *list_screen(tr, organiser))
            return
        elif action is OrgQuestionAction.REMOVE_YES:
            organiser = await remove_question(uow, organiser.id, key, actor, now)
            await answer_query(query, tr.gettext("Question removed."))
            await show(query, *list_screen(tr, organiser))
            return
    except (NotFound, NotAllowed, QuestionRefused) as error:
        await answer_query(query, refusal_text(tr, error), alert=True)
        return
    await answer_query(query)
    await _on_question(query, callback_data, organiser, state, i18n, tr)


async def _on_list_or_add(
    query: CallbackQuery, action: OrgQuestionAction, organiser: Organiser, state: FSMContext, tr: Translator
) -> None:
    await answer_query(query)
    if action is OrgQuestionAction.LIST:
        await state.set_state(None)
        await show(query, *list_screen(tr, organiser))
        return
    new_text = action is OrgQuestionAction.ADD_TEXT
    await state.set_state(QuestionInput.new_text if new_text else QuestionInput.new_choice)
    await state.update_data(org=organiser.id, lang=tr.language)
    await show(query, wording_prompt(tr, tr.language, True) if new_text else choice_question_prompt(tr, tr.language))


async def _on_question(
    query: CallbackQuery,
    callback_data: OrgQuestionCb,
    organiser: Organiser,
    state: FSMContext,
    i18n: Languages,
    tr: Translator,
) -> None:
    """The screens of one question, and the prompts that wait for a typed value."""
    action, key, lang = callback_data.action, callback_data.q, callback_data.lang
    question = find_question(organiser.questions, key)
    if question is None:  # removed a moment ago by someone else
        await show(query, *list_screen(tr, organiser))
        return
    if action is OrgQuestionAction.REMOVE:
        await show(query, *remove_screen(tr, organiser, question))
        return
    language = lang or tr.language
    if action is OrgQuestionAction.WORDING:
        wanted, prompt = QuestionInput.wording, wording_prompt(tr, language, False)
    elif action is OrgQuestionAction.CHOICES:
        wanted, prompt = QuestionInput.choices, choices_prompt(tr, question, language)
    elif action is OrgQuestionAction.LIMIT:
        wanted, prompt = QuestionInput.limit, limit_prompt(tr, question)
    else:
        await state.set_state(None)
        await show(query, *question_screen(tr, organiser, question, i18n.languages))
        return
    await state.set_state(wanted)
    await state.update_data(org=organiser.id, q=key, lang=language)
    await show(query, prompt)


# ---- typed values ---------------------------------------------------------------------------------------------------

_TYPED = F.text & ~F.text.startswith("/")


@router.message(QuestionInput.new_text, _TYPED)
@router.message(QuestionInput.new_choice, _TYPED)
@router.message(QuestionInput.wording, _TYPED)
@router.message(QuestionInput.choices, _TYPED)
@router.message(QuestionInput.limit, _TYPED)
async def on_question_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    i18n: Languages,
    tr: Translator,
    clock: Clock,
) -> None:
    data = await state.get_data()
    acting = await acting_for_button(uow, bot, operators, message.chat.id, message.from_user, int(data.get("org", 0)))
    if acting is None:
        await state.set_state(None)
        await message.answer(not_yours_text(tr))
        return
    organiser, actor = acting
    current = await state.get_state()
    text, key, lang, now = message.text or "", str(data.get("q", "")), str(data.get("lang", tr.language)), clock.now()
    try:
        if current == QuestionInput.new_text.state:
            organiser = await add_question(uow, organiser.id, lang, text, None, actor, now)
            question: Question | None = organiser.questions[-1]
        elif current == QuestionInput.new_choice.state:
            first, _newline, rest = text.strip().partition("\n")
            organiser = await add_question(uow, organiser.id, lang, first, rest, actor, now)
            question = organiser.questions[-1]
        elif current == QuestionInput.wording.state:
            wording = None if text.strip() == REMOVE_LANGUAGE else text
            organiser = await set_question_text(uow, organiser.id, key, lang, wording, actor, now)
            question = find_question(organiser.questions, key)
        elif current == QuestionInput.choices.state:
            organiser = await set_choice_texts(uow, organiser.id, key, lang, text, actor, now)
            question = find_question(organiser.questions, key)
        else:
            organiser = await set_answer_limit(uow, organiser.id, key, text, actor, now)
            question = find_question(organiser.questions, key)
    except QuestionRefused as error:
        await message.answer("⚠️ " + refusal_text(tr, error) + "\n" + tr.gettext("Please send it again."))
        return
    except (NotFound, NotAllowed) as error:
        await state.set_state(None)
        await message.answer(refusal_text(tr, error))
        return
    await state.set_state(None)
    if question is None:
        await show(message, *list_screen(tr, organiser))
        return
    note = "✅ " + tr.gettext("Saved. The next booking asks it this way.")
    await show(message, *question_screen(tr, organiser, question, i18n.languages, note))


@router.message(QuestionInput.new_text, F.text.startswith("/"))
@router.message(QuestionInput.new_choice, F.text.startswith("/"))
@router.message(QuestionInput.wording, F.text.startswith("/"))
@router.message(QuestionInput.choices, F.text.startswith("/"))
@router.message(QuestionInput.limit, F.text.startswith("/"))
async def on_other_command(message: Message, state: FSMContext) -> None:
    """Another command ends the wait for a value; its own handler takes it."""
    await state.set_state(None)
    raise SkipHandler


@router.message(QuestionInput.new_text)
@router.message(QuestionInput.new_choice)
@router.message(QuestionInput.wording)
@router.message(QuestionInput.choices)
@router.message(QuestionInput.limit)
async def on_not_text(message: Message, tr: Translator) -> None:
    """A photo, a sticker, a voice message while a value is awaited: say what is awaited."""
    await message.answer(tr.gettext("Please send the value as a text message, or /questions to start over."))
