"""The booking summary's checkout (issue 15): "Use my points" and "Have a code?".

A points press carries the number of points the summary offered; it is checked on the server against the guest's
balance now and the booking's limit (a forged or stale number is refused with the reason, and the summary drawn
again). A code is typed in a message, checked (validity, uses left, once per guest, its event) and applied before
the points. Confirm checks both once more inside the order's transaction (:mod:`handlers.tourist.booking`).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.checkout import CHECKOUT_ERRORS
from domain.rules.pricing import quote
from domain.use_cases.points import price_booking
from handlers.tourist.booking import BookingForm
from handlers.tourist.booking_screens import Booking, load_booking, summary_screen
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.tourist.checkout_screens import CODE, POINTS, code_prompt_screen, draft_checkout, with_checkout
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.points_screens import checkout_refusal
from handlers.ui import Translator

router = Router(name=__name__)

Draft = dict[str, Any]


async def _pressed(
    query: CallbackQuery,
    callback_data: BookCb,
    steps: tuple[str | None, ...],
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> tuple[Booking, Draft] | None:
    """The booking and its draft when the pressed summary is the current draft at one of ``steps``; otherwise the
    guest is told the screen is out of date and shown the event, and None is returned."""
    ctx = await load_booking(uow, callback_data.session, user)
    data = await state.get_data()
    current = ctx is not None and data.get("draft") and data.get("session") == callback_data.session
    if current and ctx is not None and await state.get_state() in steps:
        return ctx, data
    await answer_query(query, tr.gettext("This booking screen is out of date. Here is the current one."), alert=True)
    if ctx is not None:
        await show(query, *await event_card(uow, ctx.view.event.id, tr, clock.now()))
    return None


async def _summary(
    target: Message | CallbackQuery,
    state: FSMContext,
    ctx: Booking,
    data: Draft,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    checkout = await draft_checkout(uow, ctx.view.event, ctx.discount, data, user.id, clock.now())
    await state.set_state(BookingForm.summary)
    await state.set_data(with_checkout(data, checkout))
    await show(target, *summary_screen(ctx.view, checkout, data.get("answers", {}), tr))


@router.callback_query(BookCb.filter(F.action == BookAction.POINTS))
async def on_booking_points(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    steps = (BookingForm.summary.state,)
    if (pressed := await _pressed(query, callback_data, steps, state, uow, tr, user, clock)) is None:
        return
    ctx, data = pressed
    priced = quote(ctx.view.event, data["qty"], ctx.discount)
    try:
        await price_booking(uow, user.id, ctx.view.event, priced, data.get(CODE), callback_data.value, clock.now())
    except CHECKOUT_ERRORS as error:
        await answer_query(query, checkout_refusal(tr, error), alert=True)
        await _summary(query, state, ctx, data, uow, tr, user, clock)
        return
    await answer_query(query)
    await _summary(query, state, ctx, {**data, POINTS: callback_data.value}, uow, tr, user, clock)


@router.callback_query(BookCb.filter(F.action == BookAction.CODE))
async def on_booking_code(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    steps = (BookingForm.summary.state,)
    if await _pressed(query, callback_data, steps, state, uow, tr, user, clock) is None:
        return
    await state.set_state(BookingForm.code)
    await answer_query(query)
    await show(query, *code_prompt_screen(callback_data.session, tr))


@router.callback_query(BookCb.filter(F.action == BookAction.NO_CODE))
async def on_booking_no_code(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    steps = (BookingForm.summary.state, BookingForm.code.state)
    if (pressed := await _pressed(query, callback_data, steps, state, uow, tr, user, clock)) is None:
        return
    ctx, data = pressed
    await answer_query(query)
    await _summary(query, state, ctx, {**data, CODE: None}, uow, tr, user, clock)


@router.message(BookingForm.code, F.text.as_("text"), ~F.text.startswith("/"))
async def on_booking_code_text(
    message: Message, text: str, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    data = await state.get_data()
    ctx = await load_booking(uow, data.get("session", 0), user)
    if ctx is None or not data.get("draft"):
        await state.clear()
        await message.answer(tr.gettext("This booking is no longer open. Please start again from the event."))
        return
    priced = quote(ctx.view.event, data["qty"], ctx.discount)
    try:
        checkout = await price_booking(uow, user.id, ctx.view.event, priced, text, 0, clock.now())
    except CHECKOUT_ERRORS as error:
        prompt, markup = code_prompt_screen(ctx.view.session.id, tr, checkout_refusal(tr, error))
        await message.answer(prompt, reply_markup=markup)
        return
    # the points stay as far as the lower total still allows them
    points = min(data.get(POINTS, 0), checkout.usable)
    await _summary(message, state, ctx, {**data, CODE: checkout.code, POINTS: points}, uow, tr, user, clock)


@router.message(BookingForm.code, ~F.text)
async def on_booking_code_other(message: Message, state: FSMContext, tr: Translator) -> None:
    data = await state.get_data()
    prompt, markup = code_prompt_screen(int(data.get("session", 0)), tr)
    await message.answer(prompt, reply_markup=markup)
