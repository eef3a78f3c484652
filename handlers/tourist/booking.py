"""Booking: a session -> ticket quantities (+/-) -> the organiser's questions -> a summary with the total -> confirm.

The draft lives in FSM state with a random id; every button carries the session it belongs to, so a button from
an older screen is recognised as stale. Confirming is idempotent per draft: a double tap places one order. The
screens themselves are in :mod:`handlers.tourist.booking_screens`.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, Update

from domain.errors import (
    SALES_STOPPED,
    ConcurrentChange,
    DomainError,
    InvalidAnswer,
    InvalidQuantity,
    NotAllowed,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import QuestionKind
from domain.model.orders import format_order_code
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.checkout import CHECKOUT_ERRORS
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases.booking import PlaceOrder, check_answer
from handlers.settings import HandlerSettings
from handlers.tourist.booking_screens import (
    Booking,
    load_booking,
    question_screen,
    summary_screen,
    tickets_screen,
)
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.tourist.checkout_screens import CODE, POINTS, draft_checkout, with_checkout
from handlers.tourist.messaging import Present, answer_query, show
from handlers.tourist.orders import show_booked_card
from handlers.tourist.points_screens import checkout_refusal
from handlers.tourist.room_gate import enter_waiting_room, hold_for_turn
from handlers.tourist.waitlist_claims import draft_limit, place_or_claim, seats_free
from handlers.ui import Translator

router = Router(name=__name__)

Draft = dict[str, Any]  # the FSM data of a booking in progress: draft id, session, quantities, answers, question


class BookingForm(StatesGroup):
    tickets = State()
    answering = State()
    summary = State()
    code = State()  # typing a discount code (handlers/tourist/checkout.py)


# ---- flow helpers -------------------------------------------------------------------------------------------------


async def _draft(state: FSMContext, session_id: int) -> Draft | None:
    """The current draft if the pressed button belongs to it; None for a stale or foreign screen."""
    data = await state.get_data()
    if data.get("draft") and data.get("session") == session_id:
        return data
    return None


async def _show_event(
    query: CallbackQuery, uow: UnitOfWork, tr: Translator, clock: Clock, ctx: Booking, present: Present = show
) -> None:
    """Back to the booking's event card, as it is now."""
    await present(query, *await event_card(uow, ctx.view.event.id, tr, clock.now()))


async def _stale(query: CallbackQuery, uow: UnitOfWork, tr: Translator, clock: Clock, ctx: Booking | None) -> None:
    await answer_query(query, tr.gettext("This booking screen is out of date. Here is the current one."), alert=True)
    if ctx is not None:
        await _show_event(query, uow, tr, clock, ctx)


async def _pressed(
    callback_data: BookCb, step: State, state: FSMContext, uow: UnitOfWork, user: User
) -> tuple[Booking | None, Draft | None]:
    """The booking context of the pressed screen, and its draft only if that screen is the current draft at
    ``step`` (None for a stale, foreign or finished one)."""
    ctx = await load_booking(uow, callback_data.session, user)
    data = await _draft(state, callback_data.session)
    if ctx is None or data is None or await state.get_state() != step.state:
        return ctx, None
    return ctx, data


async def _current(
    query: CallbackQuery,
    callback_data: BookCb,
    step: State,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> tuple[Booking, Draft] | None:
    """The context and draft of the pressed screen if it is the current draft at ``step``; otherwise the tourist
    is told the screen is stale, shown the fresh event card, and None is returned."""
    ctx, data = await _pressed(callback_data, step, state, uow, user)
    if ctx is None or data is None:
        await _stale(query, uow, tr, clock, ctx)
        return None
    return ctx, data


async def _next_step(
    target: Message | CallbackQuery,
    state: FSMContext,
    ctx: Booking,
    data: Draft,
    tr: Translator,
    uow: UnitOfWork,
    user: User,
    clock: Clock,
) -> None:
    """Ask the next unanswered question, or show the summary."""
    index = data.get("q", 0)
    questions = ctx.view.organiser.questions
    if index < len(questions):
        await state.set_state(BookingForm.answering)
        await show(target, *question_screen(ctx.view, questions[index], tr))
        return
    await state.set_state(BookingForm.summary)
    checkout = await draft_checkout(uow, ctx.view.event, ctx.discount, data, user.id, clock.now())
    await state.set_data(with_checkout(data, checkout))
    await show(target, *summary_screen(ctx.view, checkout, data.get("answers", {}), tr))


async def _refused(
    query: CallbackQuery,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    ctx: Booking,
    error: DomainError,
    present: Present = show,
) -> None:
    """Explain why the booking cannot go on and show the event's fresh state."""
    _ = tr.gettext
    if isinstance(error, SoldOut):
        left = error.data.get("left", 0)
        left = left if isinstance(left, int) else 0
        text = (
            tr.ngettext("Sorry, only {n} seat is left.", "Sorry, only {n} seats are left.", left).format(n=left)
            if left
            else _("Sorry, this date is sold out.")
        )
    elif isinstance(error, SessionNotBookable) and error.data.get("reason") == SALES_STOPPED:
        text = _("Sorry, the organiser has stopped sales for this date.")
    elif isinstance(error, SessionNotBookable):
        text = _("Sorry, this date can no longer be booked.")
    else:
        text = _("Something in this booking has changed. Please start again.")
    await answer_query(query, text, alert=True)
    await _show_event(query, uow, tr, clock, ctx, present)


# ---- handlers -----------------------------------------------------------------------------------------------------


@router.callback_query(BookCb.filter(F.action == BookAction.START))
async def on_booking_start(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
    event_update: Update,
) -> None:
    await start_booking(query, callback_data.session, event_update.update_id, state, uow, tr, user, clock)


async def start_booking(
    query: CallbackQuery,
    session_id: int,
    arrival: int,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
    present: Present = show,
) -> None:
    """The first booking screen for the session (``present``: in place of the pressed message, or below it);
    ``arrival`` is the press's update id (on a hot on-sale, its place in the line)."""
    ctx = await load_booking(uow, session_id, user)
    if ctx is None:
        await answer_query(query, tr.gettext("This date is no longer available."), alert=True)
        return
    async with uow.read():  # the organiser's own cutoff (``/settings``), as place_order checks it at Confirm
        cutoff = (await uow.organiser_settings.extras(ctx.view.event.organiser_id)).booking_cutoff
    if ctx.view.session.sales_stopped:
        await _refused(query, uow, tr, clock, ctx, SessionNotBookable(reason=SALES_STOPPED), present)
        return
    if not ctx.view.session.bookable(clock.now()) or ctx.view.session.starts_at - cutoff <= clock.now():
        await _refused(query, uow, tr, clock, ctx, SessionNotBookable(), present)
        return
    if ctx.view.session.seats_left == 0:
        await _refused(query, uow, tr, clock, ctx, SoldOut(left=0), present)
        return
    if await enter_waiting_room(query, session_id, arrival, uow, tr, user, clock):  # a hot on-sale: the queue first
        return
    qty = {t.code: 0 for t in ctx.view.event.ticket_types}
    qty[ctx.view.event.ticket_types[0].code] = 1
    await state.set_state(BookingForm.tickets)
    await state.set_data(
        {"draft": secrets.token_hex(8), "session": ctx.view.session.id, "qty": qty, "answers": {}, "q": 0}
    )
    await answer_query(query)
    await present(query, *tickets_screen(ctx, qty, tr))


@router.callback_query(BookCb.filter(F.action.in_({BookAction.INC, BookAction.DEC})))
async def on_booking_quantity(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    _ = tr.gettext
    if (current := await _current(query, callback_data, BookingForm.tickets, state, uow, tr, user, clock)) is None:
        return
    ctx, data = current
    types = ctx.view.event.ticket_types
    if not 0 <= callback_data.value < len(types):
        await _stale(query, uow, tr, clock, ctx)
        return
    code = types[callback_data.value].code
    qty: dict[str, int] = data["qty"]
    if callback_data.action is BookAction.DEC:
        if qty.get(code, 0) == 0:
            await answer_query(query)
            return
        qty[code] -= 1
    else:
        limit = draft_limit(ctx, data)
        if sum(qty.values()) + 1 > limit:
            if limit < MAX_TICKETS_PER_ORDER:
                text = tr.ngettext("Only {n} seat is left.", "Only {n} seats are left.", limit).format(n=limit)
            else:
                text = _("At most {n} tickets per booking.").format(n=MAX_TICKETS_PER_ORDER)
            await answer_query(query, text, alert=True)
            return
        qty[code] = qty.get(code, 0) + 1
    await state.update_data(qty=qty)
    await answer_query(query)
    await show(query, *tickets_screen(ctx, qty, tr))


@router.callback_query(BookCb.filter(F.action == BookAction.NEXT))
async def on_booking_tickets_done(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    _ = tr.gettext
    if (current := await _current(query, callback_data, BookingForm.tickets, state, uow, tr, user, clock)) is None:
        return
    ctx, data = current
    seats = sum(data["qty"].values())
    if seats == 0:
        await answer_query(query, _("Choose at least one ticket."), alert=True)
        return
    if seats > seats_free(ctx, data):
        await _refused(query, uow, tr, clock, ctx, SoldOut(left=seats_free(ctx, data)))
        return
    await answer_query(query)
    await _next_step(query, state, ctx, data, tr, uow, user, clock)


async def _record_answer(
    target: Message | CallbackQuery, state: FSMContext, ctx: Booking, data: Draft, raw: str, tr: Translator
) -> bool:
    """Validate and store the answer to the current question; False (and a hint) if it is not acceptable."""
    _ = tr.gettext
    question = ctx.view.organiser.questions[data["q"]]
    try:
        answer = check_answer(question, raw)
    except InvalidAnswer as error:
        reason = error.data.get("reason")
        if reason == "too_long":
            text = _("That is too long: please use at most {limit} characters.").format(limit=question.max_length)
        elif reason == "empty":
            text = _("Please type an answer.")
        else:
            text = _("Please choose one of the buttons.")
        if isinstance(target, CallbackQuery):
            await answer_query(target, text, alert=True)
        else:
            await target.answer(text)
        return False
    answers = dict(data.get("answers", {}))
    answers[question.id] = answer
    data.update(answers=answers, q=data["q"] + 1)
    await state.update_data(answers=answers, q=data["q"])
    return True


@router.message(BookingForm.answering, F.text.as_("text"), ~F.text.startswith("/"))
async def on_booking_text_answer(
    message: Message, text: str, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    data = await state.get_data()
    ctx = await load_booking(uow, data.get("session", 0), user)
    if ctx is None or data.get("q", 0) >= len(ctx.view.organiser.questions):
        await state.clear()
        await message.answer(tr.gettext("This booking is no longer open. Please start again from the event."))
        return
    question = ctx.view.organiser.questions[data["q"]]
    if question.kind is QuestionKind.CHOICE:
        await message.answer(tr.gettext("Please choose one of the buttons."))
        return
    if await _record_answer(message, state, ctx, data, text, tr):
        await _next_step(message, state, ctx, data, tr, uow, user, clock)


@router.message(BookingForm.answering, ~F.text)
async def on_booking_non_text_answer(message: Message, tr: Translator) -> None:
    await message.answer(tr.gettext("Please answer with a text message or the buttons."))


@router.callback_query(BookCb.filter(F.action.in_({BookAction.CHOICE, BookAction.SKIP})))
async def on_booking_choice(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    if (current := await _current(query, callback_data, BookingForm.answering, state, uow, tr, user, clock)) is None:
        return
    ctx, data = current
    index = data.get("q", 0)
    if index >= len(ctx.view.organiser.questions):
        await _stale(query, uow, tr, clock, ctx)
        return
    question = ctx.view.organiser.questions[index]
    choices = question.choices
    if callback_data.action is BookAction.SKIP and not question.required:
        raw = ""
    elif (
        callback_data.action is BookAction.CHOICE
        and question.kind is QuestionKind.CHOICE
        and (0 <= callback_data.value < len(choices))
    ):
        raw = choices[callback_data.value].id
    else:  # a button of an earlier question
        await _stale(query, uow, tr, clock, ctx)
        return
    if await _record_answer(query, state, ctx, data, raw, tr):
        await answer_query(query)
        await _next_step(query, state, ctx, data, tr, uow, user, clock)


@router.callback_query(BookCb.filter(F.action == BookAction.CONFIRM))
async def on_booking_confirm(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
    settings: HandlerSettings,
    event_update: Update,
) -> None:
    ctx, data = await _pressed(callback_data, BookingForm.summary, state, uow, user)
    if ctx is None or data is None:
        await answer_query(
            query,
            tr.gettext("This booking screen is out of date. Your bookings are under “My orders”."),
            alert=True,
        )
        return
    arrival = event_update.update_id
    if await hold_for_turn(query, ctx.view.session.id, arrival, data, uow, tr, user, clock):  # a hot on-sale: in turn
        return
    request_key = f"{user.id}:{data['draft']}"
    command = PlaceOrder(
        user_id=user.id,
        session_id=ctx.view.session.id,
        quantities=data["qty"],
        answers=data.get("answers", {}),
        payments_enabled=settings.payments_enabled,
        request_key=request_key,
        user=user,
        points=data.get(POINTS, 0),
        discount_code=data.get(CODE),
    )
    try:
        order = await place_or_claim(uow, command, data, clock.now())
    except ConcurrentChange:
        async with uow:
            placed = await uow.orders.by_request_key(request_key)
        if placed is None:
            raise
        order = placed
    except (SoldOut, SessionNotBookable, InvalidQuantity, InvalidAnswer, NotAllowed) as error:
        await state.clear()
        await _refused(query, uow, tr, clock, ctx, error)
        return
    except CHECKOUT_ERRORS as error:  # the code or the points are no longer allowed (used or spent meanwhile)
        await answer_query(query, checkout_refusal(tr, error), alert=True)
        await _next_step(query, state, ctx, {**data, CODE: None, POINTS: 0}, tr, uow, user, clock)
        return
    await state.clear()
    await answer_query(
        query, tr.gettext("Booking placed! Your order code is {code}.").format(code=format_order_code(order.code))
    )
    await show_booked_card(query, uow, order.stored_id, user.id, tr, clock.now())


@router.callback_query(BookCb.filter(F.action == BookAction.ABORT))
async def on_booking_abort(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    if await _draft(state, callback_data.session) is not None:
        await state.clear()
    ctx = await load_booking(uow, callback_data.session, user)
    await answer_query(query, tr.gettext("Booking cancelled. Nothing was reserved."))
    if ctx is None:
        return
    await _show_event(query, uow, tr, clock, ctx)
