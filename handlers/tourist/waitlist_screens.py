"""The waitlist's screens and buttons: the join question, an entry (waiting or offered), the offer and its expiry as
messages, the sold-out sessions' buttons on the event card and the entries' lines under My orders. Pure functions
of what the caller read, except :func:`waitlist_order_rows`, which reads in the caller's open block."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import EventSession, Region, localized
from domain.model.waitlist import WaitlistEntry, WaitlistStatus
from domain.ports import UnitOfWork
from handlers.read_models import SessionView, read_session
from handlers.tourist.callbacks import Below, BelowCb, EventCb, MenuAction, MenuCb, WaitAction, WaitCb
from handlers.tourist.keyboards import home_button
from handlers.ui import Translator, button

TITLE_IN_BUTTON = 28
SEATS_PER_ROW = 4


def _title(view: SessionView, tr: Translator) -> str:
    return html.quote(localized(view.event.title, tr.language))


def _heading(view: SessionView, tr: Translator) -> str:
    return f"<b>{_title(view, tr)}</b>\n🗓 {tr.zoned(view.session.starts_at, view.region.timezone)}"


def seats_words(n: int, tr: Translator) -> str:
    return tr.ngettext("{n} seat", "{n} seats", n).format(n=n)


def waitlist_session_rows(
    sessions: Sequence[EventSession], region: Region, tr: Translator
) -> list[list[InlineKeyboardButton]]:
    """A button per sold-out session of the event card: join its waitlist."""
    label = tr.gettext("join the waitlist")
    return [
        [button(f"⏳ {tr.datetime(s.starts_at, region.timezone)} · {label}", WaitCb(action=WaitAction.ASK, id=s.id))]
        for s in sessions
        if s.seats_left == 0
    ]


def join_screen(view: SessionView, most: int, window: str, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = "\n".join(
        [
            _heading(view, tr),
            "",
            _("This date is sold out. Join the waitlist and we will message you when seats come free."),
            _(
                "Seats are offered in turn to the people waiting, each to the first whose number fits; you then have "
                "{window} to claim them."
            ).format(window=window),
            "",
            _("How many seats do you need?"),
        ]
    )
    choices = [
        button(
            _("Join the waitlist for {seats}").format(seats=seats_words(n, tr)),
            WaitCb(action=WaitAction.JOIN, id=view.session.id, seats=n),
        )
        for n in range(1, most + 1)
    ]
    rows = [[choice] for choice in choices[:SEATS_PER_ROW]]
    if len(choices) > SEATS_PER_ROW:  # the larger numbers as short buttons, a row of them
        rest = [
            button(str(n), WaitCb(action=WaitAction.JOIN, id=view.session.id, seats=n))
            for n in range(SEATS_PER_ROW + 1, most + 1)
        ]
        rows += [rest[i : i + SEATS_PER_ROW] for i in range(0, len(rest), SEATS_PER_ROW)]
    rows.append([button("⬅️ " + _("Back to the event"), EventCb(event=view.event.id))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def offer_buttons(entry: WaitlistEntry, tr: Translator) -> list[list[InlineKeyboardButton]]:
    _ = tr.gettext
    return [
        [
            button(
                "✅ " + _("Claim {seats}").format(seats=seats_words(entry.seats, tr)),
                WaitCb(action=WaitAction.CLAIM, id=entry.stored_id),
            )
        ],
        [button(_("No thanks"), WaitCb(action=WaitAction.DECLINE, id=entry.stored_id))],
    ]


def offer_lines(entry: WaitlistEntry, view: SessionView, tr: Translator) -> list[str]:
    _ = tr.gettext
    until = tr.zoned(entry.offered_until or entry.joined_at, view.region.timezone)
    return [
        "🎉 " + _("Seats came free for you!"),
        _heading(view, tr),
        "",
        _("Held for you until {time}: {seats}.").format(seats=seats_words(entry.seats, tr), time=until),
        _("Claim them to book; otherwise they pass on to the next person."),
    ]


def entry_screen(
    entry: WaitlistEntry, view: SessionView, now: datetime, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    """An entry as its tourist sees it, with what they can do about it."""
    _ = tr.gettext
    rows: list[list[InlineKeyboardButton]] = []
    if entry.offer_open(now):
        lines = offer_lines(entry, view, tr)
        rows += offer_buttons(entry, tr)
    elif entry.is_open:
        lines = [
            _heading(view, tr),
            "",
            "⏳ " + _("You are on the waitlist for {seats}.").format(seats=seats_words(entry.seats, tr)),
            _("We will message you here when seats come free; you then have {window} to claim them.").format(
                window=tr.duration(view.organiser.waitlist_claim_window)
            ),
        ]
        rows.append([button("🚪 " + _("Leave the waitlist"), WaitCb(action=WaitAction.LEAVE, id=entry.stored_id))])
    else:
        lines = [_heading(view, tr), "", _closed_line(entry, tr)]
    rows.append([button("🎟 " + _("My orders"), MenuCb(action=MenuAction.ORDERS)), home_button(tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _closed_line(entry: WaitlistEntry, tr: Translator) -> str:
    _ = tr.gettext
    if entry.status is WaitlistStatus.CLAIMED:
        return _("You claimed these seats: your booking is under “My orders”.")
    if entry.status is WaitlistStatus.EXPIRED:
        return _("The seats offered to you were not claimed in time and passed on.")
    return _("You are no longer on the waitlist for this date.")


def left_screen(entry: WaitlistEntry, view: SessionView, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    lines = [_heading(view, tr), "", _closed_line(entry, tr)]
    rows = [
        [button("🗺 " + _("Open the event"), EventCb(event=view.event.id))],
        [button("🎟 " + _("My orders"), MenuCb(action=MenuAction.ORDERS)), home_button(tr)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def expired_message(entry: WaitlistEntry, view: SessionView, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = "\n".join(
        [
            "⌛ " + _("The seats offered to you were not claimed in time and passed on to the next person."),
            _heading(view, tr),
            "",
            _("You can still book other dates of this event."),
        ]
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[button("🗺 " + _("Open the event"), BelowCb(to=Below.EVENT, id=view.event.id))]]
    )
    return text, markup


async def waitlist_order_rows(
    uow: UnitOfWork, user_id: int, tr: Translator, now: datetime
) -> list[list[InlineKeyboardButton]]:
    """A button per open waitlist entry of the tourist on a session still ahead, for My orders (inside the caller's
    open block): ``⏳ Waitlist · Islands cruise · Tue, Dec 1 · 2``."""
    rows = []
    for entry in await uow.waitlist.for_user(user_id):
        view = await read_session(uow, entry.session_id)
        if view is None or view.session.starts_at <= now:
            continue
        title = localized(view.event.title, tr.language)
        title = title if len(title) <= TITLE_IN_BUTTON else title[: TITLE_IN_BUTTON - 1] + "…"
        day = tr.date(tr.now_local(view.region.timezone, view.session.starts_at).date())
        mark = "🎉" if entry.offer_open(now) else "⏳"
        waitlist = tr.gettext("Waitlist")
        label = f"{mark} {waitlist} · {title} · {day} · {entry.seats}"
        rows.append([button(label, WaitCb(action=WaitAction.VIEW, id=entry.stored_id))])
    return rows
