"""``/events <region> [date] [category]``: sessions with free seats, to suggest to a tourist.

Sent as a reply to a message about a tourist (a relayed question, or inside their forum topic), every session gets
a "📤 Send" button: the tourist receives the event card in their own language with a Book button (through the
outbox), and the send is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from aiogram import Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from domain.errors import NotFound, SessionNotBookable, SoldOut, TouristUnreachable
from domain.model.catalog import Event, Region, localized
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.rules.calendar import UPCOMING_DAYS, local_today
from domain.use_cases.desk_tools import suggest_session
from handlers.operator.access import Operator
from handlers.operator.bounds import DAY, PAGE, ROW_ID, Bounded, Bounds
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.operator.queries import DeskQueries
from handlers.operator.replies import tourist_of
from handlers.settings import HandlerSettings
from handlers.tourist.labels import category_name
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)

PAGE_SIZE = 8


class EventsPageCb(Bounded, CallbackData, prefix="de"):
    """A page of ``/events``: ``day`` is a proleptic ordinal (0: the next 30 days), ``user`` the tourist (0: none)."""

    BOUNDS: ClassVar[Bounds] = {"region": ROW_ID, "day": DAY, "page": PAGE, "user": ROW_ID}

    region: int
    day: int = 0
    category: str = ""
    page: int = 0
    user: int = 0


class SendSessionCb(Bounded, CallbackData, prefix="des"):
    BOUNDS: ClassVar[Bounds] = {"session": ROW_ID, "user": ROW_ID}

    session: int
    user: int


# ---- parsing ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventsArgs:
    region: Region
    day: date | None  # None: the next 30 days
    category: str | None


class EventsArgsError(ValueError):
    def __init__(self, code: str, detail: str = "", region: Region | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.region = region


def _region_matches(region: Region, text: str) -> bool:
    wanted = text.casefold()
    return region.code.casefold() == wanted or any(name.casefold() == wanted for name in region.name.values())


def parse_events_args(
    text: str | None, regions: list[Region], now: datetime, categories_of: dict[int, list[str]], tr: Translator
) -> EventsArgs:
    tokens = (text or "").split()
    if not tokens:
        raise EventsArgsError("usage")
    region = None
    for length in range(min(len(tokens), 4), 0, -1):  # a region's name may be several words
        candidate = " ".join(tokens[:length])
        region = next((r for r in regions if _region_matches(r, candidate)), None)
        if region is not None:
            tokens = tokens[length:]
            break
    if region is None:
        raise EventsArgsError("region", tokens[0])
    day = None
    if tokens:
        word = tokens[0].casefold()
        today = local_today(now, region.timezone)
        if word in ("today", tr.gettext("today").casefold()):
            day, tokens = today, tokens[1:]
        elif word in ("tomorrow", tr.gettext("tomorrow").casefold()):
            day, tokens = today + timedelta(days=1), tokens[1:]
        elif word[:1].isdigit():
            try:
                day = date.fromisoformat(tokens[0])
            except ValueError:
                raise EventsArgsError("date", tokens[0]) from None
            if day.year >= 9000:
                raise EventsArgsError("date", tokens[0])
            tokens = tokens[1:]
    category = None
    if tokens:
        wanted = " ".join(tokens).casefold()
        known = categories_of.get(region.id, [])
        category = next((c for c in known if c.casefold() == wanted or category_name(c, tr).casefold() == wanted), None)
        if category is None:
            raise EventsArgsError("category", " ".join(tokens), region)
    return EventsArgs(region, day, category)


def window(region: Region, day: date | None, now: datetime) -> tuple[datetime, datetime]:
    zone = ZoneInfo(region.timezone)
    first = day or local_today(now, region.timezone)
    days = 1 if day else UPCOMING_DAYS
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone).astimezone(UTC)
    return max(start, now), end


# ---- screens ------------------------------------------------------------------------------------------------------


def usage_text(tr: Translator, regions: list[Region]) -> str:
    _ = tr.gettext
    lines = [
        _("Usage: {usage}").format(usage=html.quote("/events <region> [YYYY-MM-DD | today | tomorrow] [category]")),
        _("For example: {example}").format(example="<code>/events tallinn tomorrow sea</code>"),
    ]
    if regions:
        names = ", ".join(f"<code>{html.quote(r.code)}</code>" for r in regions)
        lines.append(_("Regions: {regions}").format(regions=names))
    lines.append(_("Reply with it to a tourist's message to get a “Send” button per session."))
    return "\n".join(lines)


def _price(tr: Translator, event: Event) -> str:
    prices = sorted(t.price_minor for t in event.ticket_types)
    if not prices:
        return ""
    amount = tr.money(prices[0], event.currency)
    return amount if len(prices) == 1 else tr.gettext("from {price}").format(price=amount)


async def events_screen(
    uow: UnitOfWork, queries: DeskQueries, tr: Translator, cb: EventsPageCb, now: datetime, zone: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of sessions with free seats; times in the desk's zone (``zone``, else the first region's)."""
    _ = tr.gettext
    clock = DeskClock(tr, await desk_zone(uow, zone))
    async with uow:
        region = await uow.catalog.region(cb.region)
        tourist: User | None = await uow.users.get(cb.user) if cb.user else None
        if region is None:
            return _("This region is no longer in the catalog."), None
        day = date.fromordinal(cb.day) if cb.day > 0 else None
        start, end = window(region, day, now)
        found, total = await queries.open_sessions(
            region.id, start, end, cb.category or None, now, cb.page * PAGE_SIZE, PAGE_SIZE
        )
        if not found and cb.page > 0:  # a stale page after the list shrank: the first page
            cb = cb.model_copy(update={"page": 0})
            found, total = await queries.open_sessions(region.id, start, end, cb.category or None, now, 0, PAGE_SIZE)
    when = tr.date(day) if day else _("next {n} days").format(n=UPCOMING_DAYS)
    heading = " · ".join(
        p
        for p in (localized(region.name, tr.language), when, category_name(cb.category, tr) if cb.category else "")
        if p
    )
    lines = [f"🗓 <b>{html.quote(heading)}</b>"]
    if tourist is not None:
        lines.append(
            "👤 "
            + _("For {name} ({language}): press “Send” to send an event to them.").format(
                name=html.quote(tourist.first_name or str(tourist.id)), language=tr.language_in_mine(tourist.language)
            )
        )
    elif cb.user:
        lines.append(_("That tourist is no longer known (their data was deleted)."))
    lines.append("")
    if not found:
        lines.append(_("No sessions with free seats."))
    rows: list[list[InlineKeyboardButton]] = []
    for number, item in enumerate(found, start=cb.page * PAGE_SIZE + 1):
        title = localized(item.event.title, tr.language)
        seats = tr.ngettext("{n} seat left", "{n} seats left", item.session.seats_left).format(
            n=item.session.seats_left
        )
        lines.append(
            f"{number}. {clock.datetime(item.session.starts_at)} · <b>{html.quote(title)}</b>\n"
            f"    {seats} · {_price(tr, item.event)} · <code>{html.quote(item.event.code)}</code>"
        )
        if tourist is not None:
            send = clock.button(item.session.starts_at, before=f"📤 {number}. " + _("Send") + " · ")
            rows.append([button(send, SendSessionCb(session=item.session.id, user=tourist.id))])
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    nav = []
    if cb.page > 0:
        nav.append(button("◀️", cb.model_copy(update={"page": cb.page - 1})))
    if pages > 1:
        nav.append(button(f"{cb.page + 1}/{pages}", cb))
    if cb.page + 1 < pages:
        nav.append(button("▶️", cb.model_copy(update={"page": cb.page + 1})))
    if nav:
        rows.append(nav)
    if tourist is None and not cb.user:
        lines += [
            "",
            "ℹ️ " + _("To send one to a tourist, reply with /events to their message (or use it in their topic)."),
        ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


# ---- handlers -----------------------------------------------------------------------------------------------------


@router.message(Command("events"))
async def cmd_events(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    desk_queries: DeskQueries,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    now = clock.now()
    async with uow:
        regions = list(await uow.catalog.regions())
        categories = {r.id: await desk_queries.categories(r.id) for r in regions}
    user_id = await tourist_of(message, uow)
    try:
        args = parse_events_args(command.args, regions, now, categories, tr)
    except EventsArgsError as error:
        problem = {
            "region": _("No region {name}.").format(name=f"<code>{html.quote(error.detail[:64])}</code>"),
            "date": _("That is not a date: write it as YYYY-MM-DD, today or tomorrow."),
            "category": _("No category {name} there.").format(name=f"<code>{html.quote(error.detail[:64])}</code>"),
        }.get(error.code)
        text = usage_text(tr, regions)
        if error.code == "category" and error.region is not None:
            known = categories.get(error.region.id, [])
            text = _("Categories: {names}").format(
                names=", ".join(f"<code>{html.quote(c)}</code>" for c in known) or "—"
            )
        await message.answer("\n\n".join(p for p in (problem, text) if p))
        return
    if args.day is not None and args.day < local_today(now, args.region.timezone):
        await message.answer(_("That day is over. Pick today or a later date."))
        return
    cb = EventsPageCb(
        region=args.region.id,
        day=args.day.toordinal() if args.day else 0,
        category=args.category or "",
        user=user_id or 0,
    )
    text, markup = await events_screen(uow, desk_queries, tr, cb, now, settings.desk_timezone)
    await message.answer(text, reply_markup=markup)


@router.callback_query(EventsPageCb.filter())
async def on_events_page(
    query: CallbackQuery,
    callback_data: EventsPageCb,
    uow: UnitOfWork,
    desk_queries: DeskQueries,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    await answer_query(query)
    screen = await events_screen(uow, desk_queries, tr, callback_data, clock.now(), settings.desk_timezone)
    await show(query, *screen)


@router.callback_query(SendSessionCb.filter())
async def on_session_send(
    query: CallbackQuery,
    callback_data: SendSessionCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
) -> None:
    _ = tr.gettext
    try:
        user, _session = await suggest_session(
            uow, callback_data.user, callback_data.session, operator.actor, clock.now()
        )
    except NotFound:
        await answer_query(query, _("That tourist or session no longer exists."), alert=True)
        return
    except TouristUnreachable:
        await answer_query(query, _("This tourist blocked the bot: nothing can be sent to them."), alert=True)
        return
    except SessionNotBookable:
        await answer_query(query, _("This session can no longer be booked."), alert=True)
        return
    except SoldOut:
        await answer_query(query, _("This session is sold out now."), alert=True)
        return
    await answer_query(query, "📤 " + _("Sent to {name}.").format(name=user.first_name or user.id))
