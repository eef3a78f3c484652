"""Use cases: a tourist asks the operators a question; operators answer (by replying, with a canned reply, or by
writing first), and the answer comes back in the tourist's own chat.

Every message travels as an outbox row (sent after commit, rendered in the recipient's language); the audit log
records who asked or answered whom, not what was said. A tourist has one question thread: open while their last
question waits (its text is kept on the thread for the desk's card until the tourist's data is deleted), answered
when an operator answers; ``desk_check_at`` tells the desk job when to look at it (an open thread past it becomes
a problem card; an answered one closes that card).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.errors import InvalidQuestion, NoOperators, NotFound
from domain.model.messages import TOURIST, AuditEntry, OutboxKind, OutboxMessage, keyed_message
from domain.model.questions import (
    ANSWER_WITHIN,
    QUESTION_MAX_LENGTH,
    TEXT_INLINE_LIMIT,
    CannedReply,
    RelayDirection,
    RelayMessage,
    TeamMessage,
    WriteTarget,
)
from domain.ports import UnitOfWork
from domain.rules.texts import bounded_text
from domain.use_cases.support import get_user


def clean_question(raw: str) -> str:
    """The question as the operators will read it: trimmed, line breaks kept; :class:`InvalidQuestion` if empty or
    too long."""
    return bounded_text(raw, QUESTION_MAX_LENGTH, InvalidQuestion)


async def ask_question(
    uow: UnitOfWork,
    user_id: int,
    text: str,
    now: datetime,
    *,
    operator_chat_id: int | None,
    answer_within: timedelta = ANSWER_WITHIN,
) -> int:
    """Open (or reopen) the tourist's thread, send the question to the operator chat (one outbox row) and audit
    it; returns the question's number (the millisecond timestamp that, with the user id, makes its dedup key)."""
    question = clean_question(text)
    if operator_chat_id is None:
        raise NoOperators()
    number = int(now.timestamp() * 1000)
    async with uow:
        user = await get_user(uow, user_id)
        thread = await uow.questions.open_thread(user_id, now, now + answer_within, question)
        await uow.outbox.add(
            OutboxMessage(
                kind=OutboxKind.TOURIST_QUESTION,
                chat_id=operator_chat_id,
                payload={
                    "user_id": user_id,
                    "text": question,
                    "language": user.language,
                    "thread": thread.id,
                },
                due_at=now,
                dedup_key=f"question:{user_id}:{number}",
            )
        )
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=TOURIST,
                action="question.asked",
                after={
                    "question": number,
                    "thread": thread.id,
                    "language": user.language,
                    "length": len(question),
                },
            )
        )
        await uow.commit()
    return number


def _pass_on(
    kind: OutboxKind, chat_id: int, message: TeamMessage, now: datetime, payload: dict[str, Any]
) -> list[OutboxMessage]:
    """One message when it is short text; else a header and a copy of the operator's message (in this order)."""
    key = (message.chat_id, message.message_id, chat_id)
    if message.text is not None and 0 < len(message.text) <= TEXT_INLINE_LIMIT:
        return [keyed_message(kind, chat_id, {**payload, "text": message.text}, now, *key)]
    copy = {"from_chat": message.chat_id, "message_id": message.message_id}
    return [
        keyed_message(kind, chat_id, payload, now, *key),
        keyed_message(OutboxKind.TEAM_COPY, chat_id, copy, now, *key),
    ]


async def _remember_answer(
    uow: UnitOfWork,
    user_id: int,
    message: TeamMessage,
    thread_id: int | None,
    now: datetime,
) -> None:
    """The operator's message in the operator chat is now about this tourist too: a reply to it reaches them."""
    await uow.questions.add_relay(
        RelayMessage(
            message.chat_id,
            message.message_id,
            user_id,
            RelayDirection.TO_TOURIST,
            now,
            thread_id,
        )
    )


async def _mark_answered(
    uow: UnitOfWork, user_id: int, actor: str, now: datetime, action: str, **after: Any
) -> int | None:
    """The tourist's thread is answered (by ``actor``, with ``action``): marked so and audited; the thread's id (None
    when the tourist never asked)."""
    thread = await uow.questions.mark_answered(user_id, actor, now)
    thread_id = thread.id if thread else None
    await uow.audit.add(
        AuditEntry(at=now, actor=actor, action=action, after={"user": user_id, "thread": thread_id, **after})
    )
    return thread_id


async def answer_question(uow: UnitOfWork, user_id: int, message: TeamMessage, actor: str, now: datetime) -> str:
    """Pass an operator's answer on to the tourist and mark their thread answered; returns the tourist's name."""
    async with uow:
        user = await get_user(uow, user_id)
        for row in _pass_on(OutboxKind.TEAM_ANSWER, user_id, message, now, {"user_id": user_id}):
            await uow.outbox.add(row)
        thread_id = await _mark_answered(uow, user_id, actor, now, "question.answered", message=message.message_id)
        await _remember_answer(uow, user_id, message, thread_id, now)
        await uow.commit()
    return user.display_name


async def send_canned_reply(
    uow: UnitOfWork,
    user_id: int,
    reply: CannedReply,
    actor: str,
    now: datetime,
    *,
    about_message: int,
) -> str:
    """Send a template to the tourist (rendered in their language) and mark their thread answered; once per
    template and relayed question (``about_message``), however often it is pressed. Returns the tourist's name."""
    async with uow:
        user = await get_user(uow, user_id)
        canned = {"user_id": user_id, "reply": reply.value}
        await uow.outbox.add(
            keyed_message(OutboxKind.CANNED_REPLY, user_id, canned, now, user_id, about_message, reply.value)
        )
        await _mark_answered(uow, user_id, actor, now, "question.canned", reply=reply.value)
        await uow.commit()
    return user.display_name


async def close_question(uow: UnitOfWork, user_id: int, actor: str, now: datetime) -> bool:
    """Mark the tourist's thread answered without writing to them (answered by phone, a duplicate); False when
    it was answered already (nothing changes)."""
    async with uow:
        thread = await uow.questions.thread(user_id)
        if thread is None:
            raise NotFound(user=user_id)
        if not thread.is_open:
            return False
        await uow.questions.mark_answered(user_id, actor, now)
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="question.closed",
                before={"status": thread.status.value},
                after={"user": user_id, "thread": thread.id},
            )
        )
        await uow.commit()
    return True


async def write_to(
    uow: UnitOfWork,
    target: WriteTarget,
    message: TeamMessage,
    actor: str,
    now: datetime,
) -> str:
    """Pass an operator's message on to a tourist or an organiser (a header in their language, then the message)
    and audit it as ``operator.wrote``; returns the recipient's name. Writing to a tourist answers their open
    question too."""
    async with uow:
        if target.kind == "tourist":
            user = await get_user(uow, target.chat_id)
            chat_id, name = user.id, user.display_name
            payload = {"to": "tourist", "user_id": user.id, "order_id": target.order_id}
        else:
            organiser_id = target.organiser_id
            if organiser_id is None and target.order_id is not None:
                order = await uow.orders.get(target.order_id)
                event = await uow.catalog.event(order.event_id) if order else None
                organiser_id = event.organiser_id if event else None
            organiser = await uow.catalog.organiser(organiser_id) if organiser_id is not None else None
            if organiser is None:
                raise NotFound(organiser=organiser_id)
            chat_id, name = organiser.chat_id, organiser.name
            payload = {
                "to": "organiser",
                "organiser_id": organiser.id,
                "order_id": target.order_id,
            }
        for row in _pass_on(OutboxKind.TEAM_MESSAGE, chat_id, message, now, payload):
            await uow.outbox.add(row)
        if target.kind == "tourist":
            thread = await uow.questions.thread(chat_id)
            if thread is not None and thread.is_open:
                await uow.questions.mark_answered(chat_id, actor, now)
            await _remember_answer(uow, chat_id, message, thread.id if thread else None, now)
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="operator.wrote",
                order_id=target.order_id,
                after={
                    "to": target.kind,
                    "chat": chat_id,
                    "message": message.message_id,
                },
            )
        )
        await uow.commit()
    return name
