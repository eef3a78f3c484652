"""The favourites' alerts to a guest (domain/use_cases/favourites.py): new dates of a favourite event, and seats free
again on a sold-out date. Each re-reads what it shows at send time: dates that can no longer be booked are left out,
and a message with nothing left to offer is not sent (the row is closed unsent). The buttons open their screen below
(:class:`~handlers.tourist.callbacks.BelowCb`), so the alert stays."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from handlers.notifications import RenderContext, Rendered, renders
from handlers.tourist.callbacks import Below, BelowCb
from handlers.ui import Translator, button

SHOWN_DATES = 8


def _why(tr: Translator) -> str:
    return tr.gettext("You get this because the event is in your favourites with alerts on (🔔 in My favourites).")


def _open_event(event_id: int, tr: Translator) -> list[InlineKeyboardButton]:
    return [button("🗺 " + tr.gettext("Open the event"), BelowCb(to=Below.EVENT, id=event_id))]


@renders(OutboxKind.FAVOURITE_NEW_DATES)
async def favourite_new_dates(rc: RenderContext) -> Rendered | None:
    now = rc.now or datetime.now(UTC)
    async with rc.uow.read():
        user = await rc.uow.users.get(rc.chat_id)
        event = await rc.uow.catalog.event(int(rc.payload["event_id"]))
        region = await rc.uow.catalog.region(event.region_id) if event else None
        sessions = [s for i in rc.payload.get("sessions", []) if (s := await rc.uow.catalog.session(int(i)))]
    if user is None or event is None or region is None:
        return None
    sessions = [s for s in sessions if s.bookable(now) and s.seats_left > 0][:SHOWN_DATES]
    if not sessions:
        return None
    tr = rc.i18n.translator(user.language)
    _ = tr.gettext
    title = html.quote(localized(event.title, tr.language))
    lines = ["⭐ " + _("New dates for <b>{title}</b>:").format(title=title), ""]
    rows = []
    for session in sessions:
        when = tr.zoned(session.starts_at, region.timezone)
        seats = tr.ngettext("{n} seat left", "{n} seats left", session.seats_left).format(n=session.seats_left)
        lines.append(f"• {when} — {seats}")
        rows.append(
            [button("🎟 " + tr.datetime(session.starts_at, region.timezone), BelowCb(to=Below.BOOK, id=session.id))]
        )
    lines += ["", _why(tr)]
    rows.append(_open_event(event.id, tr))
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


@renders(OutboxKind.FAVOURITE_SEATS)
async def favourite_seats(rc: RenderContext) -> Rendered | None:
    now = rc.now or datetime.now(UTC)
    async with rc.uow.read():
        user = await rc.uow.users.get(rc.chat_id)
        session = await rc.uow.catalog.session(int(rc.payload["session_id"]))
        event = await rc.uow.catalog.event(session.event_id) if session else None
        region = await rc.uow.catalog.region(event.region_id) if event else None
    if user is None or session is None or event is None or region is None:
        return None
    if not session.bookable(now) or session.seats_left <= 0:
        return None  # taken again before the message went out
    tr = rc.i18n.translator(user.language)
    _ = tr.gettext
    seats = tr.ngettext("{n} seat is free", "{n} seats are free", session.seats_left).format(n=session.seats_left)
    text = "\n".join(
        [
            "⭐ "
            + _("Good news: <b>{title}</b> on {when} has seats again.").format(
                title=html.quote(localized(event.title, tr.language)), when=tr.zoned(session.starts_at, region.timezone)
            ),
            seats + ". " + _("Book soon, before they are gone."),
            "",
            _why(tr),
        ]
    )
    rows = [[button("🎟 " + _("Book"), BelowCb(to=Below.BOOK, id=session.id))], _open_event(event.id, tr)]
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows))
