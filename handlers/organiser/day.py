"""The day itself, both sides: the organiser's participant list as it stands now (who has checked in) and "We're at
the meeting point" (buttons under the list), and the tourist's "I'm running late" (a button under the reminder).

The organiser's buttons are checked on the server like check-in's (the organiser's own chat or an operator); the
tourist's only ever act on the presser's own order.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from domain.errors import InvalidTransition, NotAllowed, NotFound
from domain.model.orders import BookingStatus
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.checkin import announce_at_meeting_point, check_session_access, report_running_late
from handlers.operator.access import OperatorDirectory
from handlers.organiser.callbacks import LateCb, ManifestAction, ManifestCb
from handlers.organiser.checkin import operator_actor
from handlers.organiser.manifest import load_participants, manifest_kb, participants_text
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)


async def _acting(
    query: CallbackQuery, session_id: int, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory
) -> tuple[bool, str | None]:
    """Whether the presser may act for the session's organiser, and the operator actor if they act as one."""
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    try:
        await check_session_access(uow, session_id, chat_id, None)
        return True, None
    except NotAllowed:
        actor = await operator_actor(bot, operators, query.from_user.id, query.from_user.full_name)
        return actor is not None, actor


def _at_point_confirm_kb(session_id: int, tr: Translator) -> InlineKeyboardMarkup:
    _ = tr.gettext
    send = button("📍 " + _("Yes, tell them"), ManifestCb(action=ManifestAction.AT_POINT_SEND, session=session_id))
    back = button("← " + _("Back"), ManifestCb(action=ManifestAction.REFRESH, session=session_id))
    return InlineKeyboardMarkup(inline_keyboard=[[send], [back]])


@router.callback_query(ManifestCb.filter())
async def on_manifest_button(
    query: CallbackQuery,
    callback_data: ManifestCb,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operators: OperatorDirectory,
) -> None:
    _ = tr.gettext
    session_id = callback_data.session
    try:
        allowed, actor = await _acting(query, session_id, bot, uow, operators)
    except NotFound:
        await answer_query(query, _("This session no longer exists."), alert=True)
        return
    if not allowed:
        await answer_query(query, _("Only the organiser of this session can do this."), alert=True)
        return
    if callback_data.action is ManifestAction.AT_POINT_SEND:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        try:
            sent = await announce_at_meeting_point(uow, session_id, chat_id, actor, clock.now())
        except InvalidTransition as error:
            if error.data.get("reason") == "cancelled":
                await answer_query(query, _("This session was cancelled."), alert=True)
            else:
                await answer_query(
                    query,
                    _("You can send this from 2 hours before the start until the session ends."),
                    alert=True,
                )
            return
        if sent.new:
            told = tr.ngettext("Sent to {n} tourist.", "Sent to {n} tourists.", sent.told).format(n=sent.told)
            await answer_query(query, "📍 " + told)
        else:
            await answer_query(
                query, _("The tourists were already told that you are at the meeting point."), alert=True
            )
    found = await load_participants(uow, session_id)
    if found is None or not found.orders:
        await answer_query(query, _("Nobody is booked on this session now."), alert=True)
        return
    if callback_data.action is ManifestAction.AT_POINT:
        await answer_query(query)
        confirmed = sum(1 for o in found.orders if o.user_id is not None and o.booking is BookingStatus.CONFIRMED)
        question = tr.ngettext(
            "Tell the {n} tourist of this session that you are at the meeting point?",
            "Tell the {n} tourists of this session that you are at the meeting point?",
            confirmed,
        ).format(n=confirmed)
        await show(
            query,
            participants_text(found, tr, updated=True) + "\n\n📍 " + question,
            _at_point_confirm_kb(session_id, tr),
        )
        return
    if callback_data.action is ManifestAction.REFRESH:
        await answer_query(query, _("The list as it stands now."))
    await show(query, participants_text(found, tr, updated=True), manifest_kb(session_id, tr))


@router.callback_query(LateCb.filter())
async def on_running_late(
    query: CallbackQuery, callback_data: LateCb, uow: UnitOfWork, tr: Translator, clock: Clock, user: User
) -> None:
    _ = tr.gettext
    try:
        late = await report_running_late(uow, user.id, callback_data.order, clock.now())
    except (NotAllowed, NotFound):
        await answer_query(query, _("This is not your booking."), alert=True)
        return
    except InvalidTransition as error:
        if error.data.get("reason") == "not_today":
            text = _("You can tell the organiser you are running late on the day of your session, until it ends.")
        else:
            text = _("This booking is not active any more.")
        await answer_query(query, text, alert=True)
        return
    if late.new:
        await answer_query(query, "🏃 " + _("We have told the organiser that you are running late."), alert=True)
    else:
        await answer_query(query, _("The organiser already knows that you are running late."), alert=True)
