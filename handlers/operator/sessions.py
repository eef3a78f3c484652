"""``/session <event code> <date> <time> cancel [reason]``: cancel a whole session (weather, a breakdown).

The command only shows what would happen (how many orders, how many paid: refund due) with "Cancel the session" /
"Keep it"; the press does it, re-checked on the server. The reason waits in the asking operator's conversation data
(buttons carry ids only), so only they can confirm.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)

from domain.errors import (
    ConcurrentChange,
    NotFound,
    SessionAlreadyCancelled,
    SessionAlreadyStarted,
)
from domain.model.catalog import Event, EventSession, Region, localized
from domain.ports import Clock, UnitOfWork
from domain.use_cases.session_cancel import (
    SessionCancelPreview,
    cancel_session,
    clean_reason,
    preview_session_cancel,
)
from handlers.operator.access import Operator
from handlers.operator.bounds import ROW_ID, Bounded, Bounds
from handlers.operator.desk_time import DeskClock
from handlers.operator.queries import DeskQueries
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)

PENDING_KEY = "desk_session_cancel"  # FSM data: {session id: reason} of the operator who asked
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


class SessionCancelAction(enum.StrEnum):
    CONFIRM = "y"
    KEEP = "n"


class SessionCancelCb(Bounded, CallbackData, prefix="ds"):
    BOUNDS: ClassVar[Bounds] = {"session": ROW_ID}

    action: SessionCancelAction
    session: int


# ---- parsing ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionArgs:
    event_code: str
    day: date
    at: time | None  # None: the operator gave only the date
    cancel: bool
    reason: str | None


class BadArgs(ValueError):
    """``str(error)`` is a code: usage, bad_date, bad_time."""


def parse_session_args(text: str | None) -> SessionArgs:
    tokens = (text or "").split()
    if len(tokens) < 2:
        raise BadArgs("usage")
    code, when, rest = tokens[0].lower(), tokens[1], tokens[2:]
    clock_text: str | None = None
    if "T" in when.upper():
        when, _t, clock_text = when.upper().partition("T")
    elif rest and _TIME.fullmatch(rest[0]):
        clock_text, rest = rest[0], rest[1:]
    try:
        day = date.fromisoformat(when)
    except ValueError:
        raise BadArgs("bad_date") from None
    if not 2000 <= day.year < 9000:
        raise BadArgs("bad_date")
    at = None
    if clock_text is not None:
        match = _TIME.fullmatch(clock_text)
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise BadArgs("bad_time")
        at = time(int(match.group(1)), int(match.group(2)))
    cancel = bool(rest) and rest[0].lower() == "cancel"
    reason = clean_reason(" ".join(rest[1:])) if cancel else None
    return SessionArgs(code, day, at, cancel, reason)


# ---- screens ------------------------------------------------------------------------------------------------------


def usage_text(tr: Translator) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("Usage: {usage}").format(usage=html.quote("/session <event code> <YYYY-MM-DD> <HH:MM> cancel [reason]")),
            _("For example: {example}").format(
                example="<code>/session islands-cruise 2026-12-01 10:00 cancel storm warning</code>"
            ),
            _("The time is the region's local time."),
        ]
    )


def session_title(tr: Translator, event: Event, session: EventSession, region: Region) -> str:
    title, place = html.quote(localized(event.title, tr.language)), html.quote(localized(region.name, tr.language))
    # the region's local time, as the command takes it, labelled with its zone
    return f"<b>{title}</b> · {DeskClock(tr, region.timezone).datetime(session.starts_at)}, {place}"


def confirm_screen(
    tr: Translator, preview: SessionCancelPreview, region: Region, reason: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    orders = tr.ngettext("{n} active order", "{n} active orders", preview.orders).format(n=preview.orders)
    paid = tr.ngettext(
        "{n} paid: the refund becomes due", "{n} paid: their refunds become due", preview.refund_due
    ).format(n=preview.refund_due)
    lines = [
        "⚠️ " + _("Cancel this session?"),
        session_title(tr, preview.event, preview.session, region),
        "",
        f"{orders} · {paid}",
        _("Reason: {reason}").format(reason=f"<i>{html.quote(reason)}</i>" if reason else "—"),
        "",
        _(
            "Every order on it will be cancelled; each tourist is told in their language and offered other dates; "
            "the organiser is told. Seats are not sold again."
        ),
    ]
    session_id = preview.session.id
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    "🚫 " + _("Cancel the session"),
                    SessionCancelCb(action=SessionCancelAction.CONFIRM, session=session_id),
                ),
                button("↩️ " + _("Keep it"), SessionCancelCb(action=SessionCancelAction.KEEP, session=session_id)),
            ]
        ]
    )
    return "\n".join(lines), markup


def refusal_text(tr: Translator, error: Exception) -> str:
    _ = tr.gettext
    if isinstance(error, SessionAlreadyCancelled):
        return _("This session is already cancelled.")
    if isinstance(error, SessionAlreadyStarted):
        return _("This session has already started or is over: it cannot be cancelled.")
    if isinstance(error, ConcurrentChange):
        return _("An order on this session changed at the same moment. Nothing was cancelled; please try again.")
    return _("This session no longer exists.")


# ---- handlers -----------------------------------------------------------------------------------------------------


async def _pending(state: FSMContext) -> dict[str, str | None]:
    return dict((await state.get_data()).get(PENDING_KEY) or {})


async def _set_pending(state: FSMContext, pending: dict[str, str | None]) -> None:
    await state.update_data({PENDING_KEY: pending})


@router.message(Command("session"))
async def cmd_session(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    desk_queries: DeskQueries,
    tr: Translator,
    clock: Clock,
) -> None:
    _ = tr.gettext
    try:
        args = parse_session_args(command.args)
    except BadArgs as error:
        problem = {
            "bad_date": _("That is not a date: write it as YYYY-MM-DD."),
            "bad_time": _("That is not a time: write it as HH:MM (24 hours)."),
        }.get(str(error))
        await message.answer("\n\n".join(p for p in (problem, usage_text(tr)) if p))
        return
    async with uow:
        event = await uow.catalog.event_by_code(args.event_code)
        region = await uow.catalog.region(event.region_id) if event else None
    if event is None or region is None:
        await message.answer(
            _("No event with the code {code}.").format(code=f"<code>{html.quote(args.event_code[:64])}</code>")
            + "\n\n"
            + usage_text(tr)
        )
        return
    zone = ZoneInfo(region.timezone)
    async with uow:
        if args.at is None:
            first = datetime.combine(args.day, time(0), tzinfo=zone).astimezone(UTC)
            last = datetime.combine(args.day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            that_day = await desk_queries.sessions_between(event.id, first, last)
            session = None
        else:
            starts_at = datetime.combine(args.day, args.at, tzinfo=zone).astimezone(UTC)
            session = await desk_queries.session_at(event.id, starts_at)
    if args.at is None:
        times = ", ".join(DeskClock(tr, region.timezone).time(s.starts_at) for s in that_day)
        text = _("Which session? Give the time too.")
        if times:
            text += "\n" + _("Sessions that day: {times}").format(times=times)
        else:
            text += "\n" + _("The event has no session that day.")
        await message.answer(text + "\n\n" + usage_text(tr))
        return
    if session is None:
        await message.answer(
            _("{event} has no session at {time} (the region's local time).").format(
                event=f"<b>{html.quote(localized(event.title, tr.language))}</b>",
                time=f"{args.day.isoformat()} {args.at.strftime('%H:%M')}",
            )
        )
        return
    if not args.cancel:
        await message.answer(
            session_title(tr, event, session, region)
            + "\n\n"
            + _("To cancel it, add {word} and the reason.").format(word="<code>cancel</code>")
            + "\n\n"
            + usage_text(tr)
        )
        return
    try:
        preview = await preview_session_cancel(uow, session.id, clock.now())
    except (NotFound, SessionAlreadyCancelled, SessionAlreadyStarted) as error:
        await message.answer(session_title(tr, event, session, region) + "\n" + refusal_text(tr, error))
        return
    pending = await _pending(state)
    pending[str(session.id)] = args.reason
    await _set_pending(state, pending)
    text, markup = confirm_screen(tr, preview, region, args.reason)
    await message.answer(text, reply_markup=markup)


async def _forget(state: FSMContext, session_id: int) -> None:
    pending = await _pending(state)
    if str(session_id) in pending:
        del pending[str(session_id)]
        await _set_pending(state, pending)


@router.callback_query(SessionCancelCb.filter(F.action == SessionCancelAction.KEEP))
async def on_session_keep(
    query: CallbackQuery, callback_data: SessionCancelCb, state: FSMContext, tr: Translator, operator: Operator
) -> None:
    await _forget(state, callback_data.session)
    await answer_query(query, tr.gettext("Nothing changed."))
    await show(
        query, "↩️ " + tr.gettext("{name} kept the session: nothing changed.").format(name=html.quote(operator.name))
    )


@router.callback_query(SessionCancelCb.filter(F.action == SessionCancelAction.CONFIRM))
async def on_session_cancel(
    query: CallbackQuery,
    callback_data: SessionCancelCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
) -> None:
    _ = tr.gettext
    pending = await _pending(state)
    if str(callback_data.session) not in pending:
        await answer_query(
            query, _("Only the operator who asked can confirm this. Send the /session command again."), alert=True
        )
        return
    reason = pending[str(callback_data.session)]
    try:
        done = await cancel_session(uow, callback_data.session, operator.actor, reason, clock.now())
    except ConcurrentChange as error:  # an order changed meanwhile: nothing happened, the button still works
        await answer_query(query, refusal_text(tr, error), alert=True)
        return
    except (NotFound, SessionAlreadyCancelled, SessionAlreadyStarted) as error:
        await _forget(state, callback_data.session)
        await answer_query(query, refusal_text(tr, error), alert=True)
        await show(query, "ℹ️ " + refusal_text(tr, error))
        return
    await _forget(state, callback_data.session)
    async with uow:
        region = await uow.catalog.region(done.event.region_id)
    orders = tr.ngettext("{n} order cancelled", "{n} orders cancelled", len(done.orders)).format(n=len(done.orders))
    refunds = tr.ngettext("{n} refund due", "{n} refunds due", done.refund_due).format(n=done.refund_due)
    lines = [
        "🚫 " + _("Session cancelled by {name}.").format(name=html.quote(operator.name)),
        session_title(tr, done.event, done.session, region) if region else "",
        f"{orders} · {refunds}",
        _("Reason: {reason}").format(reason=f"<i>{html.quote(done.reason)}</i>" if done.reason else "—"),
        _("The tourists and the organiser are being told."),
    ]
    await answer_query(query, _("Session cancelled."))
    await show(query, "\n".join(line for line in lines if line))
