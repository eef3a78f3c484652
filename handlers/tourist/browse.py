"""Browse: region -> when -> category -> a paginated list -> an event card with its upcoming sessions."""

from __future__ import annotations

from datetime import date, datetime

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from domain.model.catalog import Event, EventSession, Region, localized
from domain.model.organiser_settings import ButtonStyle
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.calendar import Window, browse_window, picker_days
from domain.use_cases.profile import set_region
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    BrowseCb,
    EventCb,
    MenuAction,
    MenuCb,
    When,
)
from handlers.tourist.card_sharing import card_actions_row
from handlers.tourist.keyboards import home_button
from handlers.tourist.labels import category_name, ticket_type_name
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.photos import photo_rows
from handlers.tourist.waitlist_screens import waitlist_session_rows
from handlers.ui import Translator, button

router = Router(name=__name__)

PAGE_SIZE = 5
_LAST_DAY = date.max.toordinal()
CARD_SESSIONS = 8
_WINDOWS = {
    When.TODAY: Window.TODAY,
    When.TOMORROW: Window.TOMORROW,
    When.WEEKEND: Window.WEEKEND,
    When.UPCOMING: Window.UPCOMING,
    When.DAY: Window.DAY,
}


# ---- screens ------------------------------------------------------------------------------------------------------


def regions_screen(regions: list[Region], tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    rows = [[button(localized(r.name, tr.language), BrowseCb(region=r.id, step="when"))] for r in regions]
    rows.append([home_button(tr)])
    return _("Where are you? Choose a region:"), InlineKeyboardMarkup(inline_keyboard=rows)


def when_screen(region: Region, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext

    def when(label: str, value: When) -> InlineKeyboardButton:
        return button(label, BrowseCb(region=region.id, when=value, step="category"))

    rows = [
        [when(_("Today"), When.TODAY), when(_("Tomorrow"), When.TOMORROW)],
        [when(_("This weekend"), When.WEEKEND), when(_("Next 30 days"), When.UPCOMING)],
        [button("📅 " + _("Pick a date"), BrowseCb(region=region.id, when=When.PICK, step="when"))],
        [button("⬅️ " + _("Other region"), MenuCb(action=MenuAction.EVENTS)), home_button(tr)],
    ]
    text = _("<b>{region}</b>: when would you like to go?").format(
        region=html.quote(localized(region.name, tr.language))
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def date_picker_screen(region: Region, tr: Translator, now: datetime) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    days = picker_days(now, region.timezone)
    buttons = [
        button(tr.short_date(day), BrowseCb(region=region.id, when=When.DAY, day=day.toordinal(), step="category"))
        for day in days
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([button("⬅️ " + _("Back"), BrowseCb(region=region.id, step="when")), home_button(tr)])
    return _("Pick a date:"), InlineKeyboardMarkup(inline_keyboard=rows)


def window_label(cb: BrowseCb, tr: Translator) -> str:
    _ = tr.gettext
    if cb.when is When.DAY:
        return tr.date(date.fromordinal(cb.day))
    labels: dict[When | None, str] = {
        When.TODAY: _("Today"),
        When.TOMORROW: _("Tomorrow"),
        When.WEEKEND: _("This weekend"),
        When.UPCOMING: _("Next 30 days"),
    }
    return labels.get(cb.when, "")


def nothing_screen(region: Region, cb: BrowseCb, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = _("No events with free seats in {region} ({when}). Try another date?").format(
        region=html.quote(localized(region.name, tr.language)), when=window_label(cb, tr)
    )
    rows = [[button("📅 " + _("Other dates"), BrowseCb(region=region.id, step="when"))], [home_button(tr)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def categories_screen(
    region: Region, cb: BrowseCb, categories: list[tuple[str, int]], tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    base = {"region": region.id, "when": cb.when, "day": cb.day, "step": "list"}
    total = sum(count for _c, count in categories)
    rows = [[button(_("All categories") + f" ({total})", BrowseCb(**base, category=""))]]
    rows += [
        [button(f"{category_name(code, tr)} ({count})", BrowseCb(**base, category=code))] for code, count in categories
    ]
    rows.append([button("⬅️ " + _("Back"), BrowseCb(region=region.id, step="when")), home_button(tr)])
    text = _("{region}, {when}: choose a category").format(
        region=html.quote(localized(region.name, tr.language)), when=window_label(cb, tr)
    )
    return f"<b>{text}</b>", InlineKeyboardMarkup(inline_keyboard=rows)


async def list_screen(
    uow: UnitOfWork, region: Region, cb: BrowseCb, tr: Translator, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    start, end = _window(cb, region, now)
    page = max(cb.page, 0)
    async with uow.read():
        summaries, total = await uow.catalog.event_summaries(
            region.id, start, end, cb.category or None, page * PAGE_SIZE, PAGE_SIZE
        )
    if not summaries and page > 0:  # a stale page button after the list shrank: show the first page
        return await list_screen(uow, region, cb.model_copy(update={"page": 0}), tr, now)
    if not summaries:
        return nothing_screen(region, cb, tr)
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    heading = " · ".join(
        part
        for part in (
            localized(region.name, tr.language),
            window_label(cb, tr),
            category_name(cb.category, tr) if cb.category else "",
        )
        if part
    )
    lines = [f"<b>{html.quote(heading)}</b>", ""]
    rows = []
    for number, summary in enumerate(summaries, start=page * PAGE_SIZE + 1):
        event = summary.event
        title = localized(event.title, tr.language)
        if summary.seats_left:
            seats = tr.ngettext("{n} seat left", "{n} seats left", summary.seats_left).format(n=summary.seats_left)
        else:
            seats = _("sold out")
        price = _("from {price}").format(price=tr.money(summary.price_from_minor, event.currency))
        when = tr.datetime(summary.next_start, region.timezone)
        line = f"{number}. <b>{html.quote(title)}</b>\n    {when} · {price} · {seats}"
        if (more := summary.sessions_in_window - 1) > 0:
            line += "\n    " + tr.ngettext("+{n} more time", "+{n} more times", more).format(n=more)
        lines.append(line)
        rows.append([button(f"{number}. {title}"[:60], EventCb(event=event.id))])
    nav = []
    if page > 0:
        nav.append(button("◀️", cb.model_copy(update={"page": page - 1})))
    if pages > 1:
        nav.append(button(f"{page + 1}/{pages}", cb))
    if page + 1 < pages:
        nav.append(button("▶️", cb.model_copy(update={"page": page + 1})))
    if nav:
        rows.append(nav)
    if cb.category:
        back = button("⬅️ " + _("Categories"), cb.model_copy(update={"step": "category", "page": 0, "category": ""}))
    else:
        back = button("⬅️ " + _("Other dates"), BrowseCb(region=region.id, step="when"))
    rows.append([back, home_button(tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _window(cb: BrowseCb, region: Region, now: datetime) -> tuple[datetime, datetime]:
    window = _WINDOWS.get(cb.when, Window.UPCOMING) if cb.when is not None else Window.UPCOMING
    day = date.fromordinal(cb.day) if cb.when is When.DAY and cb.day > 0 else None
    if window is Window.DAY and day is None:
        window = Window.UPCOMING
    return browse_window(window, now, region.timezone, day)


def event_card_text(event: Event, region: Region, sessions: list[EventSession], tr: Translator) -> str:
    _ = tr.gettext
    lines = [f"<b>{html.quote(localized(event.title, tr.language))}</b>"]
    if description := localized(event.description, tr.language):
        lines += ["", html.quote(description)]
    lines.append("")
    lines.append("⏱ " + _("Duration: {duration}").format(duration=tr.duration(event.duration)))
    if meeting_point := localized(event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=html.quote(meeting_point)))
    if event.languages:
        names = tr.list([tr.language_in_mine(code) for code in event.languages])
        lines.append("🗣 " + _("Languages: {languages}").format(languages=names))
    lines.append("")
    lines.append("<b>" + _("Prices") + "</b>")
    for ticket in event.ticket_types:
        lines.append(
            f"• {html.quote(ticket_type_name(ticket.code, tr))}: {tr.money(ticket.price_minor, event.currency)}"
        )
    if not event.needs_confirmation:
        lines.append("⚡ " + _("Instant confirmation"))
    lines.append("")
    if sessions:
        lines.append(
            "<b>"
            + _("Upcoming dates")
            + "</b> "
            + _("(time in {region})").format(region=html.quote(localized(region.name, tr.language)))
        )
        for session in sessions:
            when = tr.datetime(session.starts_at, region.timezone)
            if session.seats_left:
                seats = tr.ngettext("{n} seat left", "{n} seats left", session.seats_left).format(n=session.seats_left)
            else:
                seats = _("sold out")
            lines.append(f"• {when} — {seats}")
        lines.append("")
        lines.append(_("Choose a date to book:"))
    else:
        lines.append(_("No upcoming dates are open for booking right now."))
    return "\n".join(lines)


async def event_card(
    uow: UnitOfWork, event_id: int, tr: Translator, now: datetime, user_id: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The event card with its next sessions as booking buttons; a missing event gets a short notice. With the
    reader's ``user_id``: ☆/★ and Share too (card_sharing.py)."""
    _ = tr.gettext
    async with uow.read():
        event = await uow.catalog.event(event_id)
        region = await uow.catalog.region(event.region_id) if event else None
        sessions = list(await uow.catalog.upcoming_sessions(event_id, now, CARD_SESSIONS)) if event else []
        extras = await uow.organiser_settings.extras(event.organiser_id) if event else None
        place = await uow.places.event_place(event_id) if event else None  # photos (photos.py)
    if event is None or region is None or extras is None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[button("🗺 " + _("Events"), MenuCb(action=MenuAction.EVENTS)), home_button(tr)]]
        )
        return _("This event is no longer available."), markup
    # bookable, and not inside the organiser's own cutoff (``/settings``): what Confirm would refuse is not offered
    sessions = [s for s in sessions if s.bookable(now) and s.starts_at - extras.booking_cutoff > now]
    # the organiser's Book button (``/settings``): their label in the reader's language before the date, their colour
    label = extras.book_label(tr.language)
    style = None if extras.book_style is ButtonStyle.DEFAULT else extras.book_style.value
    rows = [
        [
            button(
                f"{label + ' · ' if label else ''}{tr.datetime(s.starts_at, region.timezone)} · {s.seats_left}",
                BookCb(action=BookAction.START, session=s.id),
                style,
            )
        ]
        for s in sessions
        if s.seats_left > 0
    ]
    rows += waitlist_session_rows(sessions, region, tr)
    rows += photo_rows(place, tr)
    if user_id is not None:
        rows.append(await card_actions_row(uow, event, user_id, tr))
    rows.append(
        [
            button("⬅️ " + _("More events"), BrowseCb(region=region.id, step="when")),
            home_button(tr),
        ]
    )
    return event_card_text(event, region, sessions, tr), InlineKeyboardMarkup(inline_keyboard=rows)


# ---- handlers -----------------------------------------------------------------------------------------------------


async def _regions(uow: UnitOfWork) -> list[Region]:
    async with uow.read():
        return list(await uow.catalog.regions())


@router.message(Command("events"))
async def cmd_events(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User) -> None:
    await state.clear()
    text, markup = await entry_screen(uow, tr, user)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MenuCb.filter(F.action == MenuAction.EVENTS))
async def on_menu_events(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, tr: Translator, user: User) -> None:
    await state.clear()
    await answer_query(query)
    await show(query, *await entry_screen(uow, tr, user))


async def entry_screen(uow: UnitOfWork, tr: Translator, user: User) -> tuple[str, InlineKeyboardMarkup]:
    regions = await _regions(uow)
    if not regions:
        return tr.gettext("There are no events in the catalog yet. Please come back later."), InlineKeyboardMarkup(
            inline_keyboard=[[home_button(tr)]]
        )
    if len(regions) == 1:
        return when_screen(regions[0], tr)
    return regions_screen(regions, tr)


@router.callback_query(BrowseCb.filter())
async def on_browse_step(
    query: CallbackQuery, callback_data: BrowseCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    async with uow.read():
        region = await uow.catalog.region(callback_data.region)
    if region is None:
        await answer_query(query, tr.gettext("This region is no longer available."), alert=True)
        await show(query, *await entry_screen(uow, tr, user))
        return
    await answer_query(query)
    now = clock.now()
    if callback_data.when is When.DAY and not 1 <= callback_data.day <= _LAST_DAY:
        callback_data = callback_data.model_copy(update={"when": When.UPCOMING, "day": 0})  # forged or corrupt
    if callback_data.step == "when":
        if user.region_id != region.id:
            await set_region(uow, user.id, region.id)
        if callback_data.when is When.PICK:
            await show(query, *date_picker_screen(region, tr, now))
        else:
            await show(query, *when_screen(region, tr))
        return
    if callback_data.step == "category":
        start, end = _window(callback_data, region, now)
        async with uow.read():
            categories = list(await uow.catalog.categories(region.id, start, end))
        if not categories:
            await show(query, *nothing_screen(region, callback_data, tr))
            return
        if len(categories) > 1:
            await show(query, *categories_screen(region, callback_data, categories, tr))
            return
        callback_data = callback_data.model_copy(update={"step": "list", "category": ""})
    await show(query, *await list_screen(uow, region, callback_data, tr, now))


@router.callback_query(EventCb.filter())
async def on_event_open(
    query: CallbackQuery, callback_data: EventCb, uow: UnitOfWork, tr: Translator, clock: Clock, user: User
) -> None:
    await answer_query(query)
    await show(query, *await event_card(uow, callback_data.event, tr, clock.now(), user.id))
