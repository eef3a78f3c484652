"""Booking: a session -> ticket quantities (+/-) -> the organiser's questions -> a summary with the total -> confirm.

The draft lives in FSM state with a random id; every button carries the session it belongs to, so a button from
an older screen is recognised as stale. Confirming is idempotent per draft: a double tap places one order.
"""

from __future__ import annotations

import secrets
from html import escape

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import (
    ConcurrentChange,
    DomainError,
    InvalidAnswer,
    InvalidQuantity,
    NotAllowed,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import (
    Event,
    EventSession,
    Organiser,
    Question,
    QuestionKind,
    Region,
    localized,
)
from domain.model.orders import format_order_code
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.pricing import MAX_TICKETS_PER_ORDER, Quote, hotel_discount, quote
from domain.use_cases.booking import PlaceOrder, check_answer, place_order
from handlers.settings import HandlerSettings
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import BookAction, BookCb
from handlers.tourist.keyboards import button
from handlers.tourist.labels import ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.orders import order_card
from handlers.ui import Translator

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


class BookingForm(StatesGroup):
    tickets = State()
    answering = State()
    summary = State()


def _e(text: str) -> str:
    return escape(text, quote=False)


class Context:
    """Everything a booking screen shows, read in one transaction."""

    def __init__(
        self, session: EventSession, event: Event, region: Region, organiser: Organiser, discount: int
    ) -> None:
        self.session, self.event, self.region, self.organiser, self.discount = (
            session,
            event,
            region,
            organiser,
            discount,
        )


async def load_context(uow: UnitOfWork, session_id: int, user: User) -> Context | None:
    async with uow:
        session = await uow.catalog.session(session_id)
        event = await uow.catalog.event(session.event_id) if session else None
        if session is None or event is None:
            return None
        region = await uow.catalog.region(event.region_id)
        organiser = await uow.catalog.organiser(event.organiser_id)
        hotel = await uow.catalog.hotel(user.hotel_id) if user.hotel_id else None
    return Context(session, event, region, organiser, hotel_discount(hotel, event))


# ---- screens ------------------------------------------------------------------------------------------------------


def _heading(ctx: Context, tr: Translator) -> str:
    title = _e(localized(ctx.event.title, tr.language))
    return f"<b>{title}</b>\n🗓 {tr.datetime(ctx.session.starts_at, ctx.region.timezone)}"


def _limit(ctx: Context) -> int:
    return min(ctx.session.seats_left, MAX_TICKETS_PER_ORDER)


def tickets_screen(ctx: Context, qty: dict[str, int], tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    sid = ctx.session.id
    total = sum(qty.values())
    seats = tr.ngettext("{n} seat left", "{n} seats left", ctx.session.seats_left).format(n=ctx.session.seats_left)
    lines = [_heading(ctx, tr), f"💺 {seats}", "", _("How many tickets? Use − and +.")]
    rows = []
    for index, ticket in enumerate(ctx.event.ticket_types):
        count = qty.get(ticket.code, 0)
        name = ticket_type_name(ticket.code, tr)
        lines.append(f"• {_e(name)}: {tr.money(ticket.price_minor, ctx.event.currency)} × {count}")
        rows.append(
            [
                button(f"− {name}", BookCb(action=BookAction.DEC, session=sid, value=index)),
                button(f"+ {name} ({count})", BookCb(action=BookAction.INC, session=sid, value=index)),
            ]
        )
    if total:
        priced = quote(ctx.event, qty, ctx.discount)
        lines += ["", _("Total: {total}").format(total=tr.money(priced.total_minor, priced.currency))]
    rows.append([button("➡️ " + _("Continue"), BookCb(action=BookAction.NEXT, session=sid))])
    rows.append([button("✖️ " + _("Cancel"), BookCb(action=BookAction.ABORT, session=sid))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def question_screen(ctx: Context, question: Question, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    sid = ctx.session.id
    lines = [_heading(ctx, tr), "", f"❓ <b>{_e(localized(question.text, tr.language))}</b>"]
    rows = []
    if question.kind is QuestionKind.CHOICE:
        rows += [
            [button(localized(choice.text, tr.language), BookCb(action=BookAction.CHOICE, session=sid, value=i))]
            for i, choice in enumerate(question.choices)
        ]
    else:
        lines.append(_("Type your answer in a message (up to {limit} characters).").format(limit=question.max_length))
    if not question.required:
        rows.append([button(_("Skip"), BookCb(action=BookAction.SKIP, session=sid))])
    rows.append([button("✖️ " + _("Cancel"), BookCb(action=BookAction.ABORT, session=sid))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def summary_screen(
    ctx: Context, priced: Quote, answers: dict[str, str], tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    money = tr.money
    lines = [_heading(ctx, tr)]
    if meeting_point := localized(ctx.event.meeting_point, tr.language):
        lines.append("📍 " + _e(meeting_point))
    lines += ["", "<b>" + _("Your booking") + "</b>"]
    for item in priced.items:
        name = _e(ticket_type_name(item.ticket_type, tr))
        lines.append(f"• {name} × {item.quantity} = {money(item.total_minor, priced.currency)}")
    if priced.discount_percent:
        lines.append(
            _("Partner hotel discount {percent}%: −{amount}").format(
                percent=priced.discount_percent, amount=money(priced.discount_minor, priced.currency)
            )
        )
    lines.append("<b>" + _("Total: {total}").format(total=money(priced.total_minor, priced.currency)) + "</b>")
    for question in ctx.organiser.questions:
        answer = answers.get(question.id, "")
        if question.kind is QuestionKind.CHOICE:
            choice = next((c for c in question.choices if c.id == answer), None)
            answer = localized(choice.text, tr.language) if choice else answer
        if answer:
            lines.append(f"{_e(localized(question.text, tr.language))} <i>{_e(answer)}</i>")
    lines.append("")
    hold = tr.duration(ctx.organiser.hold)
    if ctx.event.needs_confirmation:
        lines.append(
            _(
                "After you confirm, we hold your seats for {hold} and ask the organiser; they usually answer within "
                "{confirm}."
            ).format(hold=hold, confirm=tr.duration(ctx.organiser.confirm_within))
        )
    else:
        lines.append(_("Instant confirmation: your seats are booked as soon as you confirm."))
    sid = ctx.session.id
    rows = [
        [button("✅ " + _("Confirm booking"), BookCb(action=BookAction.CONFIRM, session=sid))],
        [button("✖️ " + _("Cancel"), BookCb(action=BookAction.ABORT, session=sid))],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


# ---- flow helpers -------------------------------------------------------------------------------------------------


async def _draft(state: FSMContext, session_id: int) -> dict | None:
    """The current draft if the pressed button belongs to it; None for a stale or foreign screen."""
    data = await state.get_data()
    if data.get("draft") and data.get("session") == session_id:
        return data
    return None


async def _stale(query: CallbackQuery, uow: UnitOfWork, tr: Translator, clock: Clock, ctx: Context | None) -> None:
    await answer_query(query, tr.gettext("This booking screen is out of date. Here is the current one."), alert=True)
    if ctx is not None:
        await show(query, *await event_card(uow, ctx.event.id, tr, clock.now()))


async def _current(
    query: CallbackQuery,
    callback_data: BookCb,
    step: State,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> tuple[Context, dict] | None:
    """The context and draft of the pressed screen if it is the current draft at ``step``; otherwise the tourist
    is told the screen is stale, shown the fresh event card, and None is returned."""
    ctx = await load_context(uow, callback_data.session, user)
    data = await _draft(state, callback_data.session)
    if ctx is None or data is None or await state.get_state() != step.state:
        await _stale(query, uow, tr, clock, ctx)
        return None
    return ctx, data


async def _next_step(
    target: Message | CallbackQuery, state: FSMContext, ctx: Context, data: dict, tr: Translator
) -> None:
    """Ask the next unanswered question, or show the summary."""
    index = data.get("q", 0)
    questions = ctx.organiser.questions
    if index < len(questions):
        await state.set_state(BookingForm.answering)
        await show(target, *question_screen(ctx, questions[index], tr))
        return
    await state.set_state(BookingForm.summary)
    priced = quote(ctx.event, data["qty"], ctx.discount)
    await show(target, *summary_screen(ctx, priced, data.get("answers", {}), tr))


async def _refused(
    query: CallbackQuery, uow: UnitOfWork, tr: Translator, clock: Clock, ctx: Context, error: DomainError
) -> None:
    """Explain why the booking cannot go on and show the event's fresh state."""
    _ = tr.gettext
    if isinstance(error, SoldOut):
        left = error.data.get("left", 0)
        text = (
            tr.ngettext("Sorry, only {n} seat is left.", "Sorry, only {n} seats are left.", left).format(n=left)
            if left
            else _("Sorry, this date is sold out.")
        )
    elif isinstance(error, SessionNotBookable):
        text = _("Sorry, this date can no longer be booked.")
    else:
        text = _("Something in this booking has changed. Please start again.")
    await answer_query(query, text, alert=True)
    await show(query, *await event_card(uow, ctx.event.id, tr, clock.now()))


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
) -> None:
    ctx = await load_context(uow, callback_data.session, user)
    if ctx is None:
        await answer_query(query, tr.gettext("This date is no longer available."), alert=True)
        return
    if not ctx.session.bookable(clock.now()):
        await _refused(query, uow, tr, clock, ctx, SessionNotBookable())
        return
    if ctx.session.seats_left == 0:
        await _refused(query, uow, tr, clock, ctx, SoldOut(left=0))
        return
    qty = {t.code: 0 for t in ctx.event.ticket_types}
    qty[ctx.event.ticket_types[0].code] = 1
    await state.set_state(BookingForm.tickets)
    await state.set_data({"draft": secrets.token_hex(8), "session": ctx.session.id, "qty": qty, "answers": {}, "q": 0})
    await answer_query(query)
    await show(query, *tickets_screen(ctx, qty, tr))


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
    types = ctx.event.ticket_types
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
        limit = _limit(ctx)
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
    if seats > ctx.session.seats_left:
        await _refused(query, uow, tr, clock, ctx, SoldOut(left=ctx.session.seats_left))
        return
    await answer_query(query)
    await _next_step(query, state, ctx, data, tr)


async def _record_answer(
    target: Message | CallbackQuery, state: FSMContext, ctx: Context, data: dict, raw: str, tr: Translator
) -> bool:
    """Validate and store the answer to the current question; False (and a hint) if it is not acceptable."""
    _ = tr.gettext
    question = ctx.organiser.questions[data["q"]]
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


@router.message(BookingForm.answering, F.text, ~F.text.startswith("/"))
async def on_booking_text_answer(
    message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User
) -> None:
    data = await state.get_data()
    ctx = await load_context(uow, data.get("session", 0), user)
    if ctx is None or data.get("q", 0) >= len(ctx.organiser.questions):
        await state.clear()
        await message.answer(tr.gettext("This booking is no longer open. Please start again from the event."))
        return
    question = ctx.organiser.questions[data["q"]]
    if question.kind is QuestionKind.CHOICE:
        await message.answer(tr.gettext("Please choose one of the buttons."))
        return
    if await _record_answer(message, state, ctx, data, message.text, tr):
        await _next_step(message, state, ctx, data, tr)


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
    if index >= len(ctx.organiser.questions):
        await _stale(query, uow, tr, clock, ctx)
        return
    question = ctx.organiser.questions[index]
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
        await _next_step(query, state, ctx, data, tr)


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
) -> None:
    ctx = await load_context(uow, callback_data.session, user)
    data = await _draft(state, callback_data.session)
    if ctx is None or data is None or await state.get_state() != BookingForm.summary.state:
        await answer_query(
            query,
            tr.gettext("This booking screen is out of date. Your bookings are under “My orders”."),
            alert=True,
        )
        return
    command = PlaceOrder(
        user_id=user.id,
        session_id=ctx.session.id,
        quantities=data["qty"],
        answers=data.get("answers", {}),
        payments_enabled=settings.payments_enabled,
        request_key=f"{user.id}:{data['draft']}",
    )
    try:
        order = await place_order(uow, command, clock.now())
    except ConcurrentChange:
        async with uow:
            order = await uow.orders.by_request_key(command.request_key)
        if order is None:
            raise
    except (SoldOut, SessionNotBookable, InvalidQuantity, InvalidAnswer, NotAllowed) as error:
        await state.clear()
        await _refused(query, uow, tr, clock, ctx, error)
        return
    await state.clear()
    await answer_query(
        query, tr.gettext("Booking placed! Your order code is {code}.").format(code=format_order_code(order.code))
    )
    await show(query, *await order_card(uow, order.id, user.id, tr, clock.now()))


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
    ctx = await load_context(uow, callback_data.session, user)
    await answer_query(query, tr.gettext("Booking cancelled. Nothing was reserved."))
    if ctx is None:
        return
    await show(query, *await event_card(uow, ctx.event.id, tr, clock.now()))
