"""Tourists' questions to the operator group, and what operators send back (answers, canned replies, messages
to a tourist or an organiser), each rendered at send time in its recipient's language."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import html

from domain.model.catalog import SessionStatus, localized
from domain.model.messages import OutboxKind
from domain.model.orders import format_order_code, order_stage
from domain.model.questions import CannedReply, RelayDirection, RelayMessage, user_topic_key
from domain.model.users import mask_phone
from handlers.notifications import RenderContext, Rendered, renders
from handlers.operator.replies import CANNED, question_kb
from handlers.status_words import operator_stage_words
from handlers.ui import Translator

OPEN_ORDERS_SHOWN = 5


def _answer_head(tr: Translator) -> str:
    return "💬 <b>" + tr.gettext("Our team answers:") + "</b>"


@renders(OutboxKind.TOURIST_QUESTION)
async def tourist_question(rc: RenderContext) -> Rendered:
    """Into the tourist's forum topic when the group is a forum, else with a header saying who asks."""
    tr = rc.i18n.translator(None)
    _ = tr.gettext
    now = rc.now or datetime.now(UTC)
    user_id = int(rc.payload["user_id"])
    orders: list[str] = []
    async with rc.uow:
        user = await rc.uow.users.get(user_id)
        active = [o for o in await rc.uow.orders.all_for_user(user_id) if o.is_active] if user else []
        for order in active[-OPEN_ORDERS_SHOWN:]:
            event = await rc.uow.catalog.event(order.event_id)
            session = await rc.uow.catalog.session(order.session_id)
            title = localized(event.title, tr.language) if event else "?"
            if session is not None:
                cancelled = session.status is SessionStatus.CANCELLED
                word = operator_stage_words(tr, order_stage(order, session.starts_at, cancelled, now))
            else:
                word = "?"
            orders.append(f"• <code>{format_order_code(order.code)}</code> {html.quote(title)} — {word}")
    first_name = (user.first_name if user else None) or str(user_id)
    language = str(rc.payload.get("language") or (user.language if user else ""))
    details = [f'<a href="tg://user?id={user_id}">{html.quote(first_name)}</a>']
    if language:
        details.append(html.quote(tr.language_in_mine(language)))
    if user and user.username:
        details.append("@" + html.quote(user.username))
    if user and user.phone:
        details.append(mask_phone(user.phone))
    lines = ["❓ " + _("Question from a tourist"), " · ".join(details)]
    if orders:
        lines += [_("Open orders:"), *orders]
    lines += ["", html.quote(str(rc.payload.get("text", "")))]
    thread_id = await rc.topic(user_topic_key(user_id), f"{first_name} · {language} · #{user_id}")
    thread = rc.payload.get("thread")

    async def remember(message_id: int) -> None:
        async with rc.uow:
            await rc.uow.questions.add_relay(
                RelayMessage(
                    rc.chat_id,
                    message_id,
                    user_id,
                    RelayDirection.TO_OPERATORS,
                    now,
                    int(thread) if thread is not None else None,
                )
            )
            await rc.uow.commit()

    return Rendered(
        "\n".join(lines),
        question_kb(tr, user_id),
        thread_id=thread_id,
        topic_key=user_topic_key(user_id) if thread_id is not None else None,
        after_send=remember,
    )


@renders(OutboxKind.TEAM_ANSWER)
async def team_answer(rc: RenderContext) -> Rendered | None:
    """ "Our team answers:" and the operator's text, or the header alone before a copy of their message."""
    async with rc.uow:
        user = await rc.uow.users.get(int(rc.payload["user_id"]))
    if user is None:
        return None  # the tourist deleted their data
    tr = rc.i18n.translator(user.language)
    head = _answer_head(tr)
    text = rc.payload.get("text")
    return Rendered(f"{head}\n\n{text}" if text else head)


@renders(OutboxKind.CANNED_REPLY)
async def canned_reply(rc: RenderContext) -> Rendered | None:
    async with rc.uow:
        user = await rc.uow.users.get(int(rc.payload["user_id"]))
    try:
        reply = CannedReply(str(rc.payload.get("reply")))
    except ValueError:
        return None
    if user is None:
        return None
    tr = rc.i18n.translator(user.language)
    return Rendered(f"{_answer_head(tr)}\n\n{html.quote(tr.gettext(CANNED[reply][2]))}")


@renders(OutboxKind.TEAM_MESSAGE)
async def team_message(rc: RenderContext) -> Rendered | None:
    """An operator writes first: to a tourist (their language) or an organiser (the catalog's language)."""
    payload = rc.payload
    order_id = payload.get("order_id")
    async with rc.uow:
        order = await rc.uow.orders.get(int(order_id)) if order_id else None
        if payload.get("to") == "organiser":
            organiser = await rc.uow.catalog.organiser(int(payload["organiser_id"]))
            if organiser is None:
                return None
            language = organiser.language
        else:
            user = await rc.uow.users.get(int(payload["user_id"]))
            if user is None:
                return None
            language = user.language
    tr = rc.i18n.translator(language)
    _ = tr.gettext
    head = "💬 <b>" + _("A message from our team") + "</b>"
    if order is not None:
        head += "\n" + _("About booking {code}").format(code=f"<b>{format_order_code(order.code)}</b>")
    text = payload.get("text")
    return Rendered(f"{head}\n\n{text}" if text else head)


@renders(OutboxKind.TEAM_COPY)
async def team_copy(rc: RenderContext) -> Rendered:
    """The operator's message itself (a photo, a voice note, a long text), after its header."""
    return Rendered("", copy_from=(int(rc.payload["from_chat"]), int(rc.payload["message_id"])))
