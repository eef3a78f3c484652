"""``/sessions``: an organiser's upcoming sessions with seats sold and left, paged; add a session, change its
capacity, stop (and resume) its sales, ask our team to cancel it (issue 14).

Every message and press is checked on the server (:mod:`handlers.organiser.acting`): only the organiser's own chat
or an operator acts; anyone else is told so and nothing changes. Typed values (a new session, a capacity, a reason)
are refused with a hint and asked again; the use cases (domain/use_cases/organiser_sessions.py) audit each change.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import NoOperators, NotAllowed, NotFound, SessionAlreadyCancelled, SessionAlreadyStarted
from domain.model.catalog import Event, EventSession, Organiser, Region, localized
from domain.ports import Clock, UnitOfWork
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_sessions import (
    BadCapacity,
    BadStart,
    BelowHeld,
    CancelReason,
    OrganiserSession,
    SessionTaken,
    add_session,
    change_capacity,
    clean_cancel_text,
    organiser_session,
    request_session_cancel,
    resume_sales,
    stop_sales,
)
from handlers.operator.access import OperatorDirectory
from handlers.organiser.acting import acting_for_button, acting_for_command, not_an_organiser_text, not_yours_text
from handlers.organiser.callbacks import OrgCancelCb, OrgSessionAction, OrgSessionCb
from handlers.organiser.session_screens import (
    PAGE_SIZE,
    cancel_screen,
    capacity_prompt,
    list_screen,
    new_session_prompt,
    refusal_text,
    requested_text,
    session_screen,
    stop_screen,
)
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)

_NEW_SESSION = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]+(\d{1,2}):(\d{2})\s+(\d{1,6})")


class SessionInput(StatesGroup):
    new_session = State()  # data: org, event
    capacity = State()  # data: org, session
    cancel_text = State()  # data: org, session


# ---- reading --------------------------------------------------------------------------------------------------------


async def _page(
    uow: UnitOfWork, organiser: Organiser, now: datetime, page: int
) -> tuple[list[tuple[EventSession, Event, Region]], int, int]:
    """The page's sessions with their events and regions, the total, and the page shown (the last one if ``page`` is
    past the end)."""
    async with uow:
        _found, total = await uow.organiser_catalog.sessions(organiser.id, now, 0, 0)
        page = min(page, max(0, -(-total // PAGE_SIZE) - 1))
        found, total = await uow.organiser_catalog.sessions(organiser.id, now, page * PAGE_SIZE, PAGE_SIZE)
        rows = []
        for session in found:
            event = await uow.catalog.event(session.event_id)
            region = await uow.catalog.region(event.region_id) if event else None
            if event is not None and region is not None:
                rows.append((session, event, region))
    return rows, total, page


async def _found(
    uow: UnitOfWork, organiser_id: int, session_id: int, actor: OrganiserActor
) -> tuple[OrganiserSession, Region]:
    async with uow:
        found = await organiser_session(uow, organiser_id, session_id, actor)
        region = await uow.catalog.region(found.event.region_id)
    if region is None:
        raise NotFound(region=found.event.region_id)
    return found, region


async def _event_and_region(uow: UnitOfWork, organiser: Organiser, event_id: int) -> tuple[Event, Region] | None:
    async with uow:
        event = await uow.catalog.event(event_id)
        region = await uow.catalog.region(event.region_id) if event else None
    if event is None or region is None or event.organiser_id != organiser.id:
        return None
    return event, region


# ---- the command and the buttons -------------------------------------------------------------------------------


@router.message(Command("sessions"))
async def cmd_sessions(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    clock: Clock,
) -> None:
    acting = await acting_for_command(uow, bot, operators, message.chat.id, message.from_user, command.args)
    if acting is None:
        await message.answer(not_an_organiser_text(tr, "/sessions"))
        return
    await state.set_state(None)
    organiser, _actor = acting
    rows, total, page = await _page(uow, organiser, clock.now(), 0)
    await show(message, *list_screen(tr, organiser, rows, page, total))


@router.callback_query(OrgSessionCb.filter())
async def on_session_button(
    query: CallbackQuery,
    callback_data: OrgSessionCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    clock: Clock,
) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    acting = await acting_for_button(uow, bot, operators, chat_id, query.from_user, callback_data.org)
    if acting is None:
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    organiser, actor = acting
    action, now = callback_data.action, clock.now()
    if action is OrgSessionAction.LIST:
        await state.set_state(None)
        rows, total, page = await _page(uow, organiser, now, callback_data.page)
        await answer_query(query)
        await show(query, *list_screen(tr, organiser, rows, page, total))
        return
    if action in (OrgSessionAction.ADD, OrgSessionAction.EVENT):
        await _on_add(query, callback_data, uow, organiser, state, tr, now)
        return
    try:
        found, region = await _found(uow, organiser.id, callback_data.id, actor)
        if action is OrgSessionAction.STOP_YES:
            found = await stop_sales(uow, organiser.id, found.session.id, actor, now)
            await answer_query(query, tr.gettext("Sales stopped."))
            await show(query, *session_screen(tr, found, region, "⛔ " + tr.gettext("Sales stopped.")))
            return
        if action is OrgSessionAction.RESUME:
            found = await resume_sales(uow, organiser.id, found.session.id, actor, now)
            await answer_query(query, tr.gettext("Sales resumed."))
            await show(query, *session_screen(tr, found, region, "▶️ " + tr.gettext("Sales resumed.")))
            return
    except (NotFound, NotAllowed, SessionAlreadyCancelled, SessionAlreadyStarted) as error:
        await answer_query(query, refusal_text(tr, error), alert=True)
        return
    await answer_query(query)
    if action is OrgSessionAction.OPEN:
        await state.set_state(None)
        await show(query, *session_screen(tr, found, region))
    elif action is OrgSessionAction.CAPACITY:
        await state.set_state(SessionInput.capacity)
        await state.update_data(org=organiser.id, session=found.session.id)
        await show(query, capacity_prompt(tr, found))
    elif action is OrgSessionAction.STOP:
        await show(query, *stop_screen(tr, found, region))
    else:  # CANCEL
        await show(query, *cancel_screen(tr, found, region))


async def _on_add(
    query: CallbackQuery,
    callback_data: OrgSessionCb,
    uow: UnitOfWork,
    organiser: Organiser,
    state: FSMContext,
    tr: Translator,
    now: datetime,
) -> None:
    await answer_query(query)
    if callback_data.action is OrgSessionAction.ADD:
        async with uow:
            events = list(await uow.organiser_catalog.events(organiser.id))
        if len(events) != 1:
            rows = [
                [
                    button(
                        localized(e.title, tr.language)[:60],
                        OrgSessionCb(action=OrgSessionAction.EVENT, org=organiser.id, id=e.id),
                    )
                ]
                for e in events
            ]
            text = tr.gettext("Which event is the new session of?") if events else tr.gettext("You have no events yet.")
            await show(query, "➕ " + text, InlineKeyboardMarkup(inline_keyboard=rows))
            return
        event_id = events[0].id
    else:
        event_id = callback_data.id
    found = await _event_and_region(uow, organiser, event_id)
    if found is None:
        await show(query, not_yours_text(tr))
        return
    event, region = found
    await state.set_state(SessionInput.new_session)
    await state.update_data(org=organiser.id, event=event.id)
    await show(query, new_session_prompt(tr, event, region, now))


# ---- typed values ---------------------------------------------------------------------------------------------------

_TYPED = F.text & ~F.text.startswith("/")


async def _typed_acting(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, state: FSMContext
) -> tuple[Organiser, OrganiserActor, dict[str, int]] | None:
    data = await state.get_data()
    acting = await acting_for_button(uow, bot, operators, message.chat.id, message.from_user, int(data.get("org", 0)))
    if acting is None:
        await state.set_state(None)
        return None
    return acting[0], acting[1], {k: int(v) for k, v in data.items() if k in ("org", "event", "session")}


@router.message(SessionInput.new_session, _TYPED)
async def on_new_session_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    clock: Clock,
) -> None:
    _ = tr.gettext
    acting = await _typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    organiser, actor, data = acting
    found = await _event_and_region(uow, organiser, data.get("event", 0))
    if found is None:
        await state.set_state(None)
        await message.answer(not_yours_text(tr))
        return
    event, region = found
    now = clock.now()
    match = _NEW_SESSION.fullmatch((message.text or "").strip())
    starts_at: datetime | None = None
    if match is not None:
        try:
            day = date.fromisoformat(match.group(1))
            at = time(int(match.group(2)), int(match.group(3)))
            starts_at = datetime.combine(day, at, tzinfo=ZoneInfo(region.timezone)).astimezone(UTC)
        except ValueError:
            starts_at = None
    if match is None or starts_at is None:
        await message.answer("⚠️ " + _("I could not read that.") + "\n\n" + new_session_prompt(tr, event, region, now))
        return
    try:
        added = await add_session(uow, organiser.id, event.id, starts_at, int(match.group(4)), actor, now)
    except (BadCapacity, BadStart, SessionTaken) as error:
        await message.answer("⚠️ " + refusal_text(tr, error) + "\n\n" + new_session_prompt(tr, event, region, now))
        return
    except (NotFound, NotAllowed) as error:
        await state.set_state(None)
        await message.answer(refusal_text(tr, error))
        return
    await state.set_state(None)
    await show(message, *session_screen(tr, added, region, "✅ " + _("Session added; its seats are on sale.")))


@router.message(SessionInput.capacity, _TYPED)
async def on_capacity_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    clock: Clock,
) -> None:
    acting = await _typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    organiser, actor, data = acting
    text = (message.text or "").strip()
    try:
        found, region = await _found(uow, organiser.id, data.get("session", 0), actor)
        if not text.isdecimal() or len(text) > 6:
            await message.answer("⚠️ " + refusal_text(tr, BadCapacity()) + "\n\n" + capacity_prompt(tr, found))
            return
        changed = await change_capacity(uow, organiser.id, found.session.id, int(text), actor, clock.now())
    except (BadCapacity, BelowHeld) as error:
        await message.answer("⚠️ " + refusal_text(tr, error))
        return
    except (NotFound, NotAllowed, SessionAlreadyCancelled, SessionAlreadyStarted) as error:
        await state.set_state(None)
        await message.answer(refusal_text(tr, error))
        return
    await state.set_state(None)
    await show(message, *session_screen(tr, changed, region, "✅ " + tr.gettext("Capacity changed.")))


# ---- asking to cancel -----------------------------------------------------------------------------------------------


async def _request_cancel(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    organiser: Organiser,
    actor: OrganiserActor,
    session_id: int,
    reason: CancelReason,
    text: str | None,
    settings: HandlerSettings,
    tr: Translator,
    now: datetime,
) -> None:
    try:
        found, orders = await request_session_cancel(
            uow, organiser.id, session_id, reason, text, actor, settings.operator_chat_id, now
        )
        async with uow:
            region = await uow.catalog.region(found.event.region_id)
    except (NotFound, NotAllowed, SessionAlreadyCancelled, SessionAlreadyStarted, NoOperators) as error:
        if isinstance(target, CallbackQuery):
            await answer_query(target, refusal_text(tr, error), alert=True)
        else:
            await target.answer(refusal_text(tr, error))
        return
    if isinstance(target, CallbackQuery):
        await answer_query(target, tr.gettext("Sent to our team."))
    screen = requested_text(tr, found, region, orders) if region else tr.gettext("Sent to our team.")
    await show(target, screen)


@router.callback_query(OrgCancelCb.filter())
async def on_cancel_reason(
    query: CallbackQuery,
    callback_data: OrgCancelCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    settings: HandlerSettings,
    tr: Translator,
    clock: Clock,
) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    acting = await acting_for_button(uow, bot, operators, chat_id, query.from_user, callback_data.org)
    if acting is None:
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    organiser, actor = acting
    if callback_data.reason is CancelReason.OTHER:
        try:
            found, _region = await _found(uow, organiser.id, callback_data.session, actor)
        except (NotFound, NotAllowed) as error:
            await answer_query(query, refusal_text(tr, error), alert=True)
            return
        await answer_query(query)
        await state.set_state(SessionInput.cancel_text)
        await state.update_data(org=organiser.id, session=found.session.id)
        await show(query, "✏️ " + tr.gettext("Write the reason in one message; our team and the tourists will read it."))
        return
    await _request_cancel(
        query, uow, organiser, actor, callback_data.session, callback_data.reason, None, settings, tr, clock.now()
    )


@router.message(SessionInput.cancel_text, _TYPED)
async def on_cancel_text_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    settings: HandlerSettings,
    tr: Translator,
    clock: Clock,
) -> None:
    acting = await _typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    organiser, actor, data = acting
    if clean_cancel_text(message.text) is None:
        await message.answer(
            "⚠️ " + tr.gettext("Write the reason in one message; our team and the tourists will read it.")
        )
        return
    await state.set_state(None)
    await _request_cancel(
        message,
        uow,
        organiser,
        actor,
        data.get("session", 0),
        CancelReason.OTHER,
        message.text,
        settings,
        tr,
        clock.now(),
    )


@router.message(SessionInput.new_session, F.text.startswith("/"))
@router.message(SessionInput.capacity, F.text.startswith("/"))
@router.message(SessionInput.cancel_text, F.text.startswith("/"))
async def on_other_command(message: Message, state: FSMContext) -> None:
    """Another command ends the wait for a value; its own handler takes it."""
    await state.set_state(None)
    raise SkipHandler


@router.message(SessionInput.new_session)
@router.message(SessionInput.capacity)
@router.message(SessionInput.cancel_text)
async def on_not_text(message: Message, tr: Translator) -> None:
    """A photo, a sticker, a voice message while a value is awaited: say what is awaited."""
    await message.answer(tr.gettext("Please send the value as a text message, or /sessions to start over."))
