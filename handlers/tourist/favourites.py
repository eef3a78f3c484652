"""My favourites (issue 15): ☆/★ on the event card, the list in the menu with each favourite's next date (or that it
is not on sale now), its alerts switch (🔔/🔕: new dates, seats again; domain/model/favourites.py) and ✖ to drop it.

Every press is checked on the server: an event that does not exist, or a favourite that is not (any more) the
guest's, gets a short answer and changes nothing."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from domain.errors import NotFound
from domain.model.catalog import localized
from domain.model.favourites import MAX_FAVOURITES, FavouritesFull
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.favourites import add_favourite, remove_favourite, set_favourite_alerts
from handlers.tourist.browse import event_card
from handlers.tourist.callbacks import EventCb, FavAction, FavCb, MenuAction, MenuCb
from handlers.tourist.keyboards import home_button
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button, cut

router = Router(name=__name__)

TITLE_LIMIT = 40  # of a favourite's button


async def favourites_screen(
    uow: UnitOfWork, user_id: int, tr: Translator, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    lines = ["⭐ <b>" + _("My favourites") + "</b>", ""]
    rows: list[list[InlineKeyboardButton]] = []
    async with uow.read():
        favourites = list(await uow.favourites.for_user(user_id))
        for number, favourite in enumerate(favourites, start=1):
            event = await uow.catalog.event(favourite.event_id)
            region = await uow.catalog.region(event.region_id) if event else None
            if event is None or region is None:
                continue
            sessions = await uow.catalog.upcoming_sessions(event.id, now, 8)
            next_one = next((s for s in sessions if s.bookable(now) and s.seats_left > 0), None)
            title = localized(event.title, tr.language)
            if next_one is not None:
                when = _("next date: {when}").format(when=tr.zoned(next_one.starts_at, region.timezone))
            elif any(s.bookable(now) for s in sessions):
                when = _("sold out for now")
            else:
                when = _("not on sale right now")
            lines.append(f"{number}. <b>{html.quote(title)}</b> — {when}")
            alerts = FavCb(action=FavAction.ALERTS_OFF if favourite.alerts else FavAction.ALERTS_ON, event=event.id)
            rows.append(
                [
                    button(f"{number}. {cut(title, TITLE_LIMIT)}", EventCb(event=event.id)),
                    button("🔔" if favourite.alerts else "🔕", alerts),
                    button("✖️", FavCb(action=FavAction.DROP, event=event.id)),
                ]
            )
    if not rows:
        text = "\n".join(
            [
                "⭐ <b>" + _("My favourites") + "</b>",
                "",
                _("Nothing here yet. Tap ☆ on an event card to keep the event here."),
            ]
        )
        events = button("🗺 " + _("Events"), MenuCb(action=MenuAction.EVENTS))
        return text, InlineKeyboardMarkup(inline_keyboard=[[events], [home_button(tr)]])
    lines += [
        "",
        _("🔔: I tell you about new dates and when a sold-out date has seats again. Tap it to turn that off."),
    ]
    rows.append([home_button(tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("favourites"))
async def cmd_favourites(
    message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    await state.clear()
    await show(message, *await favourites_screen(uow, user.id, tr, clock.now()))


@router.callback_query(MenuCb.filter(F.action == MenuAction.FAVOURITES))
async def on_menu_favourites(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    await state.clear()
    await answer_query(query)
    await show(query, *await favourites_screen(uow, user.id, tr, clock.now()))


@router.callback_query(FavCb.filter(F.action.in_({FavAction.ADD, FavAction.REMOVE})))
async def on_card_star(
    query: CallbackQuery, callback_data: FavCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    _ = tr.gettext
    now = clock.now()
    if callback_data.action is FavAction.ADD:
        try:
            await add_favourite(uow, user.id, callback_data.event, now)
        except NotFound:
            await answer_query(query, _("This event is no longer available."), alert=True)
            return
        except FavouritesFull:
            limit = _("You can keep up to {n} favourites. Remove one in My favourites first.")
            await answer_query(query, limit.format(n=MAX_FAVOURITES), alert=True)
            return
        await answer_query(query, "⭐ " + _("Added to your favourites."))
    else:
        await remove_favourite(uow, user.id, callback_data.event)
        await answer_query(query, _("Removed from your favourites."))
    await show(query, *await event_card(uow, callback_data.event, tr, now, user.id))


@router.callback_query(FavCb.filter())
async def on_list_change(
    query: CallbackQuery, callback_data: FavCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    _ = tr.gettext
    if callback_data.action is FavAction.DROP:
        if await remove_favourite(uow, user.id, callback_data.event):
            await answer_query(query, _("Removed from your favourites."))
        else:  # a second tap, an old list, a forged id
            await answer_query(query, _("This event is not among your favourites any more."))
    else:
        on = callback_data.action is FavAction.ALERTS_ON
        try:
            await set_favourite_alerts(uow, user.id, callback_data.event, on)
        except NotFound:
            await answer_query(query, _("This event is not among your favourites any more."), alert=True)
        else:
            await answer_query(query, _("Alerts on.") if on else _("Alerts off."))
    await show(query, *await favourites_screen(uow, user.id, tr, clock.now()))
