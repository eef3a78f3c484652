"""The waiting room's one message per tourist (issue 13), pure functions of a :class:`PlaceView` and a translator:
the handler draws it when the tourist presses Book, the outbox redraws it in place as the line moves
(``handlers/notifications/waiting_room.py``), and "🔄 My place" says the same in a callback answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import EventSession, localized
from domain.model.waiting_room import RETENTION, PlaceStatus
from domain.ports import UnitOfWork
from domain.use_cases.waiting_room import Entry
from handlers.read_models import SessionView, read_session
from handlers.tourist.callbacks import Below, BelowCb, RoomAction, RoomCb, WaitAction, WaitCb
from handlers.ui import Translator, button

OTHER_DATES = 4  # other sessions offered when one sells out


@dataclass(frozen=True, slots=True)
class PlaceView:
    """What the message shows: the place's status and position (None in the pre-queue), the estimated wait in
    minutes (None: no measure yet), and the times that matter to it."""

    place_id: int
    status: PlaceStatus
    position: int | None
    wait_minutes: int | None
    opens_at: datetime
    window: timedelta
    admit_until: datetime | None
    left_at: datetime | None
    view: SessionView
    others: tuple[EventSession, ...] = ()

    @property
    def ahead(self) -> int:
        return (self.position or 1) - 1


def place_view(entry: Entry, view: SessionView, others: tuple[EventSession, ...] = ()) -> PlaceView:
    return PlaceView(
        place_id=entry.place.stored_id,
        status=entry.place.status,
        position=entry.position,
        wait_minutes=entry.wait_minutes,
        opens_at=entry.room.opens_at,
        window=entry.room.admission_window,
        admit_until=entry.place.admit_until,
        left_at=entry.place.left_at,
        view=view,
        others=others,
    )


async def other_sessions(uow: UnitOfWork, view: SessionView, now: datetime) -> tuple[EventSession, ...]:
    """The event's other sessions still on sale (inside the caller's open block)."""
    upcoming = await uow.catalog.upcoming_sessions(view.event.id, now, OTHER_DATES * 2)
    return tuple(s for s in upcoming if s.id != view.session.id and s.bookable(now) and s.seats_left > 0)[:OTHER_DATES]


async def load_view(uow: UnitOfWork, session_id: int) -> SessionView | None:
    async with uow.read():
        return await read_session(uow, session_id)


def _heading(view: SessionView, tr: Translator) -> str:
    title = html.quote(localized(view.event.title, tr.language))
    return f"<b>{title}</b>\n🗓 {tr.zoned(view.session.starts_at, view.region.timezone)}"


def status_line(pv: PlaceView, tr: Translator) -> str:
    """The place in one or two sentences (also the "🔄 My place" answer, at most 200 characters)."""
    _ = tr.gettext
    zone = pv.view.region.timezone
    if pv.status is PlaceStatus.WAITING and pv.position is None:
        return _(
            "You are in the queue. The sale opens at {time}: the places of everyone here by then are drawn at random."
        ).format(time=tr.zoned(pv.opens_at, zone, with_day=False))
    if pv.status in (PlaceStatus.WAITING, PlaceStatus.LEFT) and pv.position is not None:
        text = _("Your place: {position}. People ahead of you: {ahead}.").format(
            position=tr.number(pv.position), ahead=tr.number(pv.ahead)
        )
        if pv.wait_minutes is not None:
            text += " " + tr.ngettext(
                "Estimated wait: about {n} minute.", "Estimated wait: about {n} minutes.", pv.wait_minutes
            ).format(n=pv.wait_minutes)
        return text
    if pv.status is PlaceStatus.ADMITTED and pv.admit_until is not None:
        return _("It is your turn! Book before {time}.").format(time=tr.zoned(pv.admit_until, zone, with_day=False))
    if pv.status is PlaceStatus.BOOKED:
        return _("You have booked. Your booking is under “My orders”.")
    if pv.status is PlaceStatus.PASSED:
        return _("Your time to book ended and the turn passed on. Press Book to queue again.")
    if pv.status is PlaceStatus.SOLD_OUT:
        return _("Sorry, this date is sold out.")
    return _("Your place in the queue has lapsed. Press Book to queue again.")


def room_text(pv: PlaceView, tr: Translator) -> str:
    _ = tr.gettext
    zone = pv.view.region.timezone
    lines = [_heading(pv.view, tr), "", "🕒 " + status_line(pv, tr)]
    if pv.status is PlaceStatus.WAITING:
        if pv.position is not None and pv.wait_minutes is None:
            lines.append(_("The estimated wait is shown once the first tourists have been let in."))
        minutes = max(1, int(pv.window.total_seconds() // 60))
        lines += [
            "",
            tr.ngettext(
                "What happens next: when your turn comes, you get a message here and {n} minute to book.",
                "What happens next: when your turn comes, you get a message here and {n} minutes to book.",
                minutes,
            ).format(n=minutes),
            _("Meanwhile you can prepare your booking, so that your turn is one tap, or look at other events."),
        ]
    elif pv.status is PlaceStatus.LEFT and pv.left_at is not None:
        lines.append(
            _("You stepped out of the queue. Your place is kept until {time}.").format(
                time=tr.zoned(pv.left_at + RETENTION, zone, with_day=False)
            )
        )
    elif pv.status is PlaceStatus.ADMITTED:
        lines.append(_("Seats go to those who book first: if they run out before you book, we will tell you."))
    elif pv.status is PlaceStatus.SOLD_OUT:
        lines.append(_("Other dates of this event may suit you:") if pv.others else _("You can join the waitlist."))
    return "\n".join(lines)


def room_kb(pv: PlaceView, tr: Translator) -> InlineKeyboardMarkup:
    _ = tr.gettext
    place = pv.place_id
    rows: list[list[InlineKeyboardButton]] = []
    if pv.status is PlaceStatus.WAITING:
        rows = [
            [button("🔄 " + _("My place"), RoomCb(action=RoomAction.REFRESH, place=place))],
            [button("📝 " + _("Prepare my booking"), RoomCb(action=RoomAction.PREPARE, place=place))],
            [button("🚪 " + _("Leave the queue"), RoomCb(action=RoomAction.LEAVE, place=place))],
        ]
    elif pv.status is PlaceStatus.LEFT:
        rows = [[button("↩️ " + _("Back to my place"), RoomCb(action=RoomAction.BACK, place=place))]]
    elif pv.status is PlaceStatus.ADMITTED:
        rows = [[button("🎟 " + _("Book now"), RoomCb(action=RoomAction.BOOK, place=place))]]
    elif pv.status is PlaceStatus.SOLD_OUT:
        zone = pv.view.region.timezone
        rows = [
            [button(f"🗓 {tr.datetime(s.starts_at, zone)} · {s.seats_left}", BelowCb(to=Below.BOOK, id=s.id))]
            for s in pv.others
        ]
        rows.append([button("📋 " + _("Join the waitlist"), WaitCb(action=WaitAction.ASK, id=pv.view.session.id))])
    if pv.status in (PlaceStatus.PASSED, PlaceStatus.SOLD_OUT, PlaceStatus.GONE, PlaceStatus.BOOKED):
        rows.append([button("🗺 " + _("Open the event"), BelowCb(to=Below.EVENT, id=pv.view.event.id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)
