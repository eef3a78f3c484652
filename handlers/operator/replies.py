"""Operators answer tourists from the operator chat: by replying to a relayed question (or writing inside the
tourist's forum topic), with a canned reply, or by writing first ("Write to the tourist / organiser").

Whatever an operator writes is passed on through the outbox (copied, with a short header in the recipient's
language); the operator gets a short "✅ Sent to …" reply. A reply to a bot message that is not a relayed question
falls through to the other routers.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from aiogram import F, Router, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message

from domain.errors import NotFound
from domain.model.questions import CannedReply, TeamMessage, WriteTarget, topic_user
from domain.ports import Clock, UnitOfWork
from domain.use_cases.questions import (
    answer_question,
    close_question,
    send_canned_reply,
    write_to,
)
from handlers.operator.access import Operator
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query
from handlers.ui import N_, Translator, button

log = logging.getLogger(__name__)

QUESTION_TEXT_LIMIT = 4096  # a relayed question with the "answered by" line must still fit one message

router = Router(name=__name__)

# The canned replies: (button emoji, button label for the operators, the text the tourist gets in their language).
CANNED: dict[CannedReply, tuple[str, str, str]] = {
    CannedReply.CHECKING: ("⏳", N_("Checking"), N_("We are checking and will write back shortly.")),
    CannedReply.CONFIRMED: ("✅", N_("Confirmed"), N_("Your booking is confirmed — you can see it under “My orders”.")),
    CannedReply.MEETING_POINT: (
        "📍",
        N_("Meeting point"),
        N_("The meeting point and time are in your ticket: open “My orders” and then the order."),
    ),
    CannedReply.SHARE_PHONE: (
        "📞",
        N_("Share phone"),
        N_("Please share your phone number via “Profile” so that the organiser can reach you on the day."),
    ),
    CannedReply.REFUNDED: (
        "💸",
        N_("Refunded"),
        N_("We have refunded you; it takes 3–10 days to arrive, depending on your bank."),
    ),
    CannedReply.OTHER_DATES: (
        "🗓",
        N_("Other dates"),
        N_("This date cannot take your booking, but the event has other dates: open it under “Events” to pick one."),
    ),
    CannedReply.WEATHER: (
        "🌦",
        N_("Weather"),
        N_("The trip goes ahead in light rain. If the weather cancels it, we will tell you here and refund you."),
    ),
}

# Content an operator may pass on (service messages such as "topic created" or "X joined" are not).
PASSABLE = frozenset(
    {
        ContentType.TEXT,
        ContentType.PHOTO,
        ContentType.VIDEO,
        ContentType.DOCUMENT,
        ContentType.AUDIO,
        ContentType.VOICE,
        ContentType.VIDEO_NOTE,
        ContentType.STICKER,
        ContentType.ANIMATION,
        ContentType.LOCATION,
        ContentType.VENUE,
        ContentType.CONTACT,
    }
)


class QuestionAction(enum.StrEnum):
    CANNED = "c"  # show the templates
    PICK = "p"  # send one
    BACK = "b"  # back to the question's buttons
    ANSWERED = "a"  # mark answered without writing


class QuestionCb(CallbackData, prefix="dq"):
    action: QuestionAction
    user: int
    reply: CannedReply | None = None


class WriteAction(enum.StrEnum):
    TOURIST = "t"  # id: the tourist's user id
    ORGANISER = "o"  # id: the organiser's id
    CANCEL = "x"


class WriteCb(CallbackData, prefix="dw"):
    """ "Write to the tourist / organiser" for any desk message: ``order`` 0 means no order."""

    action: WriteAction
    id: int = 0
    order: int = 0


class WriteForm(StatesGroup):
    message = State()


def question_kb(tr: Translator, user_id: int) -> InlineKeyboardMarkup:
    """The buttons under a relayed question."""
    _ = tr.gettext
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("📋 " + _("Canned reply"), QuestionCb(action=QuestionAction.CANNED, user=user_id)),
                button("✅ " + _("Answered"), QuestionCb(action=QuestionAction.ANSWERED, user=user_id)),
            ]
        ]
    )


def canned_kb(tr: Translator, user_id: int) -> InlineKeyboardMarkup:
    rows = [
        [button(f"{emoji} {tr.gettext(label)}", QuestionCb(action=QuestionAction.PICK, user=user_id, reply=code))]
        for code, (emoji, label, _text) in CANNED.items()
    ]
    rows.append([button("↩️ " + tr.gettext("Back"), QuestionCb(action=QuestionAction.BACK, user=user_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel_writing_kb(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button("✖️ " + tr.gettext("Cancel"), WriteCb(action=WriteAction.CANCEL))]]
    )


def team_message(message: Message) -> TeamMessage:
    """The operator's message as the domain passes it on: plain text goes as one message (its formatting kept)."""
    text = message.html_text if message.content_type == ContentType.TEXT else None
    return TeamMessage(chat_id=message.chat.id, message_id=message.message_id, text=text)


async def _pass_on(message: Message, tr: Translator, sending: Coroutine[Any, Any, str]) -> bool:
    """Run ``sending`` (a use case passing the operator's message on, naming the recipient) and reply to the
    operator: their ✓ (a reaction may be switched off in the group), or that nobody is there any more. True: sent."""
    try:
        name = await sending
    except NotFound:
        await message.reply(tr.gettext("Not found: they are no longer in our records. Nothing was sent."))
        return False
    await message.reply("✅ " + tr.gettext("Sent to {name}.").format(name=html.quote(name)))
    return True


async def mark_answered(
    question: Message | InaccessibleMessage | None, operator: Operator, clock: DeskClock, now: datetime
) -> None:
    """A relayed question someone answered says so ("answered by Olga at 14:02 (Tallinn)") and its buttons go, so
    nobody answers it twice. Anything else (not a relayed question, too long to add a line to) is left as it is."""
    if not isinstance(question, Message) or question.text is None or _asker_in_buttons(question) is None:
        return
    line = "✅ " + clock.tr.gettext("Answered by {name} at {time}.").format(
        name=html.quote(operator.name), time=clock.time(now)
    )
    text = question.html_text + "\n\n" + line
    try:
        if len(text) > QUESTION_TEXT_LIMIT:
            await question.edit_reply_markup(reply_markup=None)
        else:
            await question.edit_text(text, reply_markup=None)
    except TelegramAPIError as error:  # too old to edit, or already marked: the answer itself went
        log.debug("cannot mark the question answered: %s", error)


async def _edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=markup)
        except TelegramAPIError as error:  # not modified, or too old to edit: the action itself happened
            log.debug("cannot edit the question's buttons: %s", error)


# ---- "write to the tourist / organiser" ---------------------------------------------------------------------------


async def start_writing(
    state: FSMContext, tr: Translator, message_target: Message | CallbackQuery, target: WriteTarget
) -> None:
    """Make the operator's next message in the group go to ``target``: the prompt (with a Cancel button) is
    posted where the operator acted; a Cancel press or any command ends it. Answers the callback query."""
    _ = tr.gettext
    await state.set_state(WriteForm.message)
    await state.update_data(
        write={
            "kind": target.kind,
            "chat_id": target.chat_id,
            "order_id": target.order_id,
            "organiser_id": target.organiser_id,
            "name": target.name,
        }
    )
    name = html.quote(target.name)
    if target.kind == "tourist":
        who = _("the tourist {name}").format(name=name) if name else _("the tourist")
    else:
        who = _("the organiser {name}").format(name=name) if name else _("the organiser")
    text = "✍️ " + _("Your next message here goes to {who}: text, photo, voice, a file — anything.").format(who=who)
    markup = cancel_writing_kb(tr)
    prompt: Message | None = None
    if isinstance(message_target, CallbackQuery):
        await answer_query(message_target)
        message = message_target.message
        if isinstance(message, Message):
            prompt = await message.answer(text, reply_markup=markup)
        elif isinstance(message, InaccessibleMessage) and message_target.bot is not None:
            prompt = await message_target.bot.send_message(message.chat.id, text, reply_markup=markup)
    else:
        prompt = await message_target.answer(text, reply_markup=markup)
    if prompt is not None:
        await state.update_data(prompt=[prompt.chat.id, prompt.message_id])


async def end_writing(state: FSMContext, message: Message) -> dict[str, Any]:
    """Leave writing mode; the prompt loses its Cancel (nothing is left to cancel). Returns what the mode held."""
    data = await state.get_data()
    await state.clear()
    prompt = data.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 2 and message.bot is not None:
        try:
            await message.bot.edit_message_reply_markup(chat_id=prompt[0], message_id=prompt[1], reply_markup=None)
        except TelegramAPIError as error:  # deleted meanwhile, or already without buttons
            log.debug("cannot disarm the writing prompt: %s", error)
    return data


def _write_target(data: dict[str, Any]) -> WriteTarget | None:
    raw = data.get("write")
    if not isinstance(raw, dict) or raw.get("kind") not in ("tourist", "organiser"):
        return None
    return WriteTarget(
        kind=raw["kind"],
        chat_id=int(raw["chat_id"]),
        order_id=raw.get("order_id"),
        organiser_id=raw.get("organiser_id"),
        name=raw.get("name") or "",
    )


@router.callback_query(WriteCb.filter(F.action.in_({WriteAction.TOURIST, WriteAction.ORGANISER})))
async def on_write_start(
    query: CallbackQuery, callback_data: WriteCb, state: FSMContext, uow: UnitOfWork, tr: Translator
) -> None:
    order_id = callback_data.order or None
    target: WriteTarget | None = None
    async with uow:
        if callback_data.action is WriteAction.TOURIST:
            user = await uow.users.get(callback_data.id)
            if user is not None:
                target = WriteTarget("tourist", user.id, order_id, name=user.first_name or str(user.id))
        else:
            organiser = await uow.catalog.organiser(callback_data.id)
            if organiser is not None:
                target = WriteTarget("organiser", organiser.chat_id, order_id, organiser.id, organiser.name)
    if target is None:
        await answer_query(query, tr.gettext("Not found: they are no longer in our records."), alert=True)
        return
    await start_writing(state, tr, query, target)


@router.callback_query(WriteCb.filter(F.action == WriteAction.CANCEL))
async def on_write_cancel(query: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    _ = tr.gettext
    if await state.get_state() != WriteForm.message.state:
        await answer_query(query, _("Nothing to cancel."))
        return
    await state.clear()
    await answer_query(query, _("Cancelled: nothing was sent."))
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text("✖️ " + _("Cancelled: nothing was sent."))
        except TelegramAPIError as error:
            log.debug("cannot edit the writing prompt: %s", error)


@router.message(WriteForm.message, F.text.startswith("/"))
async def on_write_command(message: Message, state: FSMContext) -> None:
    """A command ends the writing; then it goes on to whoever takes it."""
    await end_writing(state, message)
    raise SkipHandler()


@router.message(WriteForm.message, F.content_type.in_(PASSABLE))
async def on_write_message(
    message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, operator: Operator, tr: Translator
) -> None:
    target = _write_target(await end_writing(state, message))
    if target is None:
        raise SkipHandler()
    await _pass_on(message, tr, write_to(uow, target, team_message(message), operator.actor, clock.now()))


# ---- answers by reply ----------------------------------------------------------------------------------------------


def _asker_in_buttons(replied: Message) -> int | None:
    """The tourist of a relayed question, read off its own buttons: a reply can arrive before the sender has
    recorded which message the relay became."""
    for row in replied.reply_markup.inline_keyboard if replied.reply_markup else ():
        for pressed in row:
            if pressed.callback_data and pressed.callback_data.startswith(f"{QuestionCb.__prefix__}:"):
                try:
                    return QuestionCb.unpack(pressed.callback_data).user
                except (TypeError, ValueError):
                    continue
    return None


async def tourist_of(message: Message, uow: UnitOfWork) -> int | None:
    """The tourist a message in the operator chat answers: the one whose relayed question (or whose earlier
    answer) it replies to, else the one whose topic it is written in."""
    replied = message.reply_to_message
    async with uow:
        if replied is not None:
            relay = await uow.questions.relay(message.chat.id, replied.message_id)
            if relay is not None:
                return relay.user_id
            from_bot = (
                replied.from_user is not None and message.bot is not None and replied.from_user.id == message.bot.id
            )
            if from_bot and (user_id := _asker_in_buttons(replied)) is not None:
                return user_id
        if message.is_topic_message and message.message_thread_id is not None:
            topic = await uow.questions.topic_by_thread(message.chat.id, message.message_thread_id)
            if topic is not None:
                return topic_user(topic.key)
    return None


@router.message(~F.text.startswith("/"), F.content_type.in_(PASSABLE))
async def on_question_answer(
    message: Message, uow: UnitOfWork, clock: Clock, operator: Operator, tr: Translator, settings: HandlerSettings
) -> None:
    if message.reply_to_message is None and not message.is_topic_message:
        raise SkipHandler()  # talk among the operators
    user_id = await tourist_of(message, uow)
    if user_id is None:
        raise SkipHandler()  # a reply to something else (a card, a booking request): not ours
    now = clock.now()
    if await _pass_on(message, tr, answer_question(uow, user_id, team_message(message), operator.actor, now)):
        desk_clock = DeskClock(tr, await desk_zone(uow, settings.desk_timezone))
        await mark_answered(message.reply_to_message, operator, desk_clock, now)


# ---- the buttons under a relayed question -------------------------------------------------------------------------


# The buttons a press puts under the question: the canned replies to pick from, or back to the question's own.
QUESTION_BUTTONS = {QuestionAction.CANNED: canned_kb, QuestionAction.BACK: question_kb}


@router.callback_query(QuestionCb.filter(F.action.in_(set(QUESTION_BUTTONS))))
async def on_question_buttons(query: CallbackQuery, callback_data: QuestionCb, tr: Translator) -> None:
    await answer_query(query)
    await _edit_markup(query, QUESTION_BUTTONS[callback_data.action](tr, callback_data.user))


@router.callback_query(QuestionCb.filter(F.action == QuestionAction.PICK))
async def on_question_pick(
    query: CallbackQuery,
    callback_data: QuestionCb,
    uow: UnitOfWork,
    clock: Clock,
    operator: Operator,
    tr: Translator,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    if callback_data.reply is None or query.message is None:
        await answer_query(query, _("This button is no longer valid."), alert=True)
        return
    try:
        now = clock.now()
        name = await send_canned_reply(
            uow,
            callback_data.user,
            callback_data.reply,
            operator.actor,
            now,
            about_message=query.message.message_id,
        )
    except NotFound:
        await answer_query(query, _("Not found: they are no longer in our records. Nothing was sent."), alert=True)
        return
    emoji, label, _text = CANNED[callback_data.reply]
    await answer_query(query, _("Sent to {name}: {reply}").format(name=name, reply=f"{emoji} {_(label)}"))
    await mark_answered(query.message, operator, DeskClock(tr, await desk_zone(uow, settings.desk_timezone)), now)


@router.callback_query(QuestionCb.filter(F.action == QuestionAction.ANSWERED))
async def on_question_answered(
    query: CallbackQuery,
    callback_data: QuestionCb,
    uow: UnitOfWork,
    clock: Clock,
    operator: Operator,
    tr: Translator,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    now = clock.now()
    try:
        changed = await close_question(uow, callback_data.user, operator.actor, now)
    except NotFound:
        await answer_query(query, _("Not found: they are no longer in our records."), alert=True)
        return
    await answer_query(query, _("Marked as answered.") if changed else _("It was answered already."))
    await mark_answered(query.message, operator, DeskClock(tr, await desk_zone(uow, settings.desk_timezone)), now)
