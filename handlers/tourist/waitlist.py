"""The waitlist of a sold-out session, from the tourist's side: join it for a number of seats, see the entry, leave
it, claim seats offered (through the usual booking screens) or say no thanks (the offer passes on).

Every button is re-checked on the server: the entry must exist and be the presser's, the offer still open; a forged
or stale button gets a localized answer and changes nothing. The rules and use cases are in
:mod:`domain.use_cases.waitlist`; the offer and expiry messages in :mod:`handlers.notifications.waitlist`.
"""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

import handlers.notifications.waitlist  # noqa: F401  (registers the waitlist's outbox renderers)
from domain.errors import InvalidQuantity, NotAllowed, NotFound, SessionNotBookable
from domain.model.users import User
from domain.model.waitlist import NotSoldOut, WaitlistEntry
from domain.ports import Clock, UnitOfWork
from domain.use_cases.waitlist import join_waitlist, leave_waitlist, most_seats
from handlers.read_models import SessionView, load_session
from handlers.tourist.booking_screens import load_booking, tickets_screen
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import WaitAction, WaitCb
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.waitlist_claims import claim_draft
from handlers.tourist.waitlist_screens import entry_screen, join_screen, left_screen
from handlers.ui import Translator

router = Router(name=__name__)


async def _own(uow: UnitOfWork, user: User, entry_id: int) -> tuple[WaitlistEntry, SessionView] | None:
    async with uow.read():
        entry = await uow.waitlist.get(entry_id)
    if entry is None or entry.user_id != user.id:
        return None
    view = await load_session(uow, entry.session_id)
    return (entry, view) if view is not None else None


async def _not_yours(query: CallbackQuery, tr: Translator) -> None:
    await answer_query(query, tr.gettext("This waitlist entry is not available."), alert=True)


@router.callback_query(WaitCb.filter(F.action == WaitAction.ASK))
async def on_waitlist_ask(
    query: CallbackQuery, callback_data: WaitCb, uow: UnitOfWork, tr: Translator, clock: Clock
) -> None:
    view = await load_session(uow, callback_data.id)
    if view is None or not view.session.bookable(clock.now()):
        await answer_query(query, tr.gettext("Sorry, this date can no longer be booked."), alert=True)
        return
    await answer_query(query)
    window = tr.duration(view.organiser.waitlist_claim_window)
    await show(query, *join_screen(view, most_seats(view.session), window, tr))


@router.callback_query(WaitCb.filter(F.action == WaitAction.JOIN))
async def on_waitlist_join(
    query: CallbackQuery, callback_data: WaitCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    _ = tr.gettext
    now = clock.now()
    try:
        joined = await join_waitlist(uow, user.id, callback_data.id, callback_data.seats, now)
    except NotSoldOut:
        view = await load_session(uow, callback_data.id)
        await answer_query(query, _("Good news: seats are free right now, you can book them."), alert=True)
        if view is not None:
            await show(query, *await event_card(uow, view.event.id, tr, now, user.id))
        return
    except (NotFound, SessionNotBookable, InvalidQuantity):
        await answer_query(query, _("Sorry, you cannot join the waitlist of this date."), alert=True)
        return
    view = await load_session(uow, joined.entry.session_id)
    if view is None:
        await answer_query(query, _("Sorry, you cannot join the waitlist of this date."), alert=True)
        return
    await answer_query(query, _("You are on the waitlist.") if joined.new else _("You are on this waitlist already."))
    await show(query, *entry_screen(joined.entry, view, now, tr))


@router.callback_query(WaitCb.filter(F.action == WaitAction.VIEW))
async def on_waitlist_view(
    query: CallbackQuery, callback_data: WaitCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    if (own := await _own(uow, user, callback_data.id)) is None:
        await _not_yours(query, tr)
        return
    await answer_query(query)
    await show(query, *entry_screen(*own, clock.now(), tr))


@router.callback_query(WaitCb.filter(F.action.in_({WaitAction.LEAVE, WaitAction.DECLINE})))
async def on_waitlist_leave(
    query: CallbackQuery, callback_data: WaitCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    """Leave the list, or no thanks to an offer (its seats pass on); again, or on a closed entry: nothing changes."""
    _ = tr.gettext
    if (own := await _own(uow, user, callback_data.id)) is None:
        await _not_yours(query, tr)
        return
    try:
        entry = await leave_waitlist(uow, user.id, callback_data.id, clock.now())
    except NotAllowed:
        await _not_yours(query, tr)
        return
    declined = callback_data.action is WaitAction.DECLINE
    await answer_query(query, _("The seats pass on to the next person.") if declined else _("You left the waitlist."))
    await show(query, *left_screen(entry, own[1], tr))


@router.callback_query(WaitCb.filter(F.action == WaitAction.CLAIM))
async def on_waitlist_claim(
    query: CallbackQuery,
    callback_data: WaitCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    """The offer's booking screens: the offered number of the first ticket type, changeable within the offer; the
    order is placed by :func:`~domain.use_cases.waitlist.claim_offer` when the summary is confirmed."""
    from handlers.tourist.booking import BookingForm  # booking imports this package's helpers: no cycle at import

    now = clock.now()
    if (own := await _own(uow, user, callback_data.id)) is None:
        await _not_yours(query, tr)
        return
    entry, view = own
    ctx = await load_booking(uow, entry.session_id, user)
    if not entry.offer_open(now) or ctx is None or not view.session.bookable(now):
        await answer_query(query, tr.gettext("Sorry, this offer is no longer open."), alert=True)
        await show(query, *entry_screen(entry, view, now, tr))
        return
    qty = {t.code: 0 for t in ctx.view.event.ticket_types}
    qty[ctx.view.event.ticket_types[0].code] = entry.seats
    await state.set_state(BookingForm.tickets)
    await state.set_data(
        {
            "draft": secrets.token_hex(8),
            "session": entry.session_id,
            "qty": qty,
            "answers": {},
            "q": 0,
            **claim_draft(entry.stored_id, entry.seats),
        }
    )
    await answer_query(query)
    await show(query, *tickets_screen(ctx, qty, tr))
