"""The screens of ``/sessions`` (handlers/organiser/sessions.py): the list, one session, the prompts for typed
values, stopping (and resuming) sales and asking to cancel; pure functions of what they show."""

from __future__ import annotations

from datetime import date, datetime

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import NoOperators, NotAllowed, SessionAlreadyCancelled, SessionAlreadyStarted
from domain.model.catalog import Event, EventSession, Organiser, Region, localized
from domain.use_cases.organiser_sessions import (
    CAPACITY_RANGE,
    BadCapacity,
    BadStart,
    BelowHeld,
    CancelReason,
    OrganiserSession,
    SessionTaken,
)
from handlers.organiser.acting import not_yours_text
from handlers.organiser.callbacks import OrgCancelCb, OrgSessionAction, OrgSessionCb
from handlers.ui import CANCEL_STYLE, CONFIRM_STYLE, Translator, button

PAGE_SIZE = 6


def seats_line(tr: Translator, session: EventSession) -> str:
    held = session.capacity - session.seats_left
    return "🎟 " + tr.gettext("Sold or held: {held} · left: {left} · capacity: {capacity}").format(
        held=held, left=session.seats_left, capacity=session.capacity
    )


def session_head(tr: Translator, event: Event, session: EventSession, region: Region) -> str:
    title = html.quote(localized(event.title, tr.language))
    return f"<b>{title}</b>\n🗓 {tr.zoned(session.starts_at, region.timezone)}"


def list_screen(
    tr: Translator,
    organiser: Organiser,
    sessions: list[tuple[EventSession, Event, Region]],
    page: int,
    total: int,
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    pages = max(1, -(-total // PAGE_SIZE))
    lines = ["🗓 <b>" + _("Upcoming sessions of {name}").format(name=html.quote(organiser.name)) + "</b>"]
    rows: list[list[InlineKeyboardButton]] = []
    if not sessions:
        lines.append(_("No upcoming sessions. Add one with the button below."))
    for session, event, region in sessions:
        title = html.quote(localized(event.title, tr.language))
        held = session.capacity - session.seats_left
        sold = _("sold {held}, left {left}").format(held=held, left=session.seats_left)
        if session.sales_stopped:
            sold = _("sold {held}, sales stopped").format(held=held)
        lines.append(f"• {tr.zoned(session.starts_at, region.timezone)} · {title} · {sold}")
        label = f"{tr.datetime(session.starts_at, region.timezone)} · {held}/{session.capacity}"
        if session.sales_stopped:
            label = "⛔ " + label
        rows.append([button(label, OrgSessionCb(action=OrgSessionAction.OPEN, org=organiser.id, id=session.id))])
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
        nav = []
        if page > 0:
            nav.append(button("◀️", OrgSessionCb(action=OrgSessionAction.LIST, org=organiser.id, page=page - 1)))
        if page + 1 < pages:
            nav.append(button("▶️", OrgSessionCb(action=OrgSessionAction.LIST, org=organiser.id, page=page + 1)))
        rows.append(nav)
    rows.append([button("➕ " + _("Add a session"), OrgSessionCb(action=OrgSessionAction.ADD, org=organiser.id))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def session_screen(
    tr: Translator, found: OrganiserSession, region: Region, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org, session_id = found.organiser.id, found.session.id
    lines = [session_head(tr, found.event, found.session, region), seats_line(tr, found.session)]
    if found.session.sales_stopped:
        lines.append("⛔ " + _("Sales stopped: no seat is sold, not even one a cancellation frees."))
    elif found.session.seats_left == 0:
        lines.append(_("No seat is on sale."))
    if note:
        lines += ["", note]

    def cb(action: OrgSessionAction) -> OrgSessionCb:
        return OrgSessionCb(action=action, org=org, id=session_id)

    rows = [[button("✏️ " + _("Change capacity"), cb(OrgSessionAction.CAPACITY))]]
    if found.session.sales_stopped:
        rows.append([button("▶️ " + _("Resume sales"), cb(OrgSessionAction.RESUME), style=CONFIRM_STYLE)])
    else:
        rows.append([button("⛔ " + _("Stop sales"), cb(OrgSessionAction.STOP))])
    rows.append([button("🚫 " + _("Ask to cancel the session"), cb(OrgSessionAction.CANCEL), style=CANCEL_STYLE)])
    rows.append([button("⬅️ " + _("All sessions"), OrgSessionCb(action=OrgSessionAction.LIST, org=org))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def refusal_text(tr: Translator, error: Exception) -> str:
    _ = tr.gettext
    if isinstance(error, SessionAlreadyCancelled):
        return _("This session is cancelled: nothing can be changed on it.")
    if isinstance(error, SessionAlreadyStarted):
        return _("This session has already started: nothing can be changed on it.")
    if isinstance(error, BelowHeld):
        held = int(str(error.data.get("held", 0)))
        return tr.ngettext(
            "Orders hold {n} seat: the capacity cannot go below that. To sell no more, stop the sales.",
            "Orders hold {n} seats: the capacity cannot go below that. To sell no more, stop the sales.",
            held,
        ).format(n=held)
    if isinstance(error, BadCapacity):
        return _("The capacity is a whole number from {low} to {high}.").format(
            low=CAPACITY_RANGE[0], high=CAPACITY_RANGE[1]
        )
    if isinstance(error, BadStart):
        if error.data.get("reason") == "too_far":
            return _("That is too far ahead: a session starts within {days} days.").format(days=error.data.get("days"))
        return _("That is too soon or in the past: a session starts at least {minutes} minutes from now.").format(
            minutes=error.data.get("soonest")
        )
    if isinstance(error, SessionTaken):
        return _("The event already has a session at that time.")
    if isinstance(error, NoOperators):
        return _("Our team cannot be reached from the bot right now. Please write to us directly.")
    if isinstance(error, NotAllowed):
        return not_yours_text(tr)
    return _("This session no longer exists.")


def new_session_prompt(tr: Translator, event: Event, region: Region, now: datetime) -> str:
    _ = tr.gettext
    example = tr.now_local(region.timezone, now).date().replace(day=1)
    example_day = date(example.year + (example.month == 12), example.month % 12 + 1, 1)
    return "\n".join(
        [
            "➕ "
            + _("A new session of {event}.").format(event=f"<b>{html.quote(localized(event.title, tr.language))}</b>"),
            _("Send its date, start time and capacity in one message, for example: {example}").format(
                example=f"<code>{example_day.isoformat()} 10:00 20</code>"
            ),
            _("The time is the local time there: it is now {now}.").format(now=tr.zoned(now, region.timezone)),
        ]
    )


def capacity_prompt(tr: Translator, found: OrganiserSession) -> str:
    _ = tr.gettext
    low = max(found.held, CAPACITY_RANGE[0])
    return "\n".join(
        [
            "✏️ "
            + _("Send the new capacity: a whole number from {low} to {high}.").format(low=low, high=CAPACITY_RANGE[1]),
            _("Seats held by orders now: {held}. The seats left change by as much as the capacity does.").format(
                held=found.held
            ),
        ]
    )


def stop_screen(tr: Translator, found: OrganiserSession, region: Region) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org, session_id = found.organiser.id, found.session.id
    text = "\n".join(
        [
            "⛔ " + _("Stop the sales of this session?"),
            session_head(tr, found.event, found.session, region),
            "",
            _(
                "No seat is sold from now on, not even one a cancellation frees (the {left} left now included), and "
                "the waitlist is offered none; the orders on it stay as they are. You can resume sales at any time."
            ).format(left=found.session.seats_left),
        ]
    )
    rows = [
        [
            button(
                "⛔ " + _("Stop sales"),
                OrgSessionCb(action=OrgSessionAction.STOP_YES, org=org, id=session_id),
                style=CANCEL_STYLE,
            ),
            button("↩️ " + _("Back"), OrgSessionCb(action=OrgSessionAction.OPEN, org=org, id=session_id)),
        ]
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


REASON_LABELS = {
    CancelReason.WEATHER: "🌧 ",
    CancelReason.BREAKDOWN: "🔧 ",
    CancelReason.OTHER: "✏️ ",
}


def reason_label(tr: Translator, reason: CancelReason) -> str:
    _ = tr.gettext
    words = {
        CancelReason.WEATHER: _("Bad weather"),
        CancelReason.BREAKDOWN: _("A breakdown"),
        CancelReason.OTHER: _("Another reason"),
    }
    return REASON_LABELS[reason] + words[reason]


def cancel_screen(tr: Translator, found: OrganiserSession, region: Region) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org, session_id = found.organiser.id, found.session.id
    text = "\n".join(
        [
            "🚫 " + _("Ask our team to cancel this session?"),
            session_head(tr, found.event, found.session, region),
            "",
            _(
                "Our team cancels it: the tourists are told in their language and offered other dates, and paid "
                "orders are refunded. Choose the reason:"
            ),
        ]
    )
    rows = [[button(reason_label(tr, r), OrgCancelCb(org=org, session=session_id, reason=r))] for r in CancelReason]
    rows.append([button("↩️ " + _("Back"), OrgSessionCb(action=OrgSessionAction.OPEN, org=org, id=session_id))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def requested_text(tr: Translator, found: OrganiserSession, region: Region, orders: int) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            "📨 " + _("Sent to our team: they will cancel the session and tell you when it is done."),
            session_head(tr, found.event, found.session, region),
            tr.ngettext("{n} active order on it.", "{n} active orders on it.", orders).format(n=orders),
            _("Until then the session stays as it is; stop its sales if no one should book it meanwhile."),
        ]
    )
