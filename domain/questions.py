"""Use case: a tourist asks the operators a question; the answer comes back in the tourist's own chat.

The question travels as an outbox row to the operator group (sent after commit, like every message to someone
other than the acting user); the audit log records that a question was asked, not what it said.
"""

from __future__ import annotations

from datetime import datetime

from domain.booking import TOURIST
from domain.errors import DomainError, NotFound
from domain.messages import AuditEntry, OutboxKind, OutboxMessage
from domain.ports import UnitOfWork

QUESTION_MAX_LENGTH = 2000


class NoOperators(DomainError):
    """No operator chat is configured: nobody could read the question, so it is not accepted."""

    code = "no_operators"


class InvalidQuestion(DomainError):
    """``reason`` is ``empty`` or ``too_long`` (then ``limit`` and ``length`` say by how much)."""

    code = "invalid_question"


def clean_question(raw: str) -> str:
    """The question as the operators will read it: trimmed, line breaks kept; refused if empty or too long."""
    text = raw.strip()
    if not text:
        raise InvalidQuestion(reason="empty")
    if len(text) > QUESTION_MAX_LENGTH:
        raise InvalidQuestion(reason="too_long", limit=QUESTION_MAX_LENGTH, length=len(text))
    return text


async def ask_question(
    uow: UnitOfWork, user_id: int, text: str, now: datetime, *, operator_chat_id: int | None
) -> int:
    """Send the question to the operator chat (one outbox row) and audit it; returns the question's number
    (the millisecond timestamp that, with the user id, makes its dedup key)."""
    question = clean_question(text)
    if operator_chat_id is None:
        raise NoOperators()
    number = int(now.timestamp() * 1000)
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound(user=user_id)
        await uow.outbox.add(
            OutboxMessage(
                kind=OutboxKind.TOURIST_QUESTION,
                chat_id=operator_chat_id,
                payload={"user_id": user_id, "text": question, "language": user.language},
                due_at=now,
                dedup_key=f"question:{user_id}:{number}",
            )
        )
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=TOURIST,
                action="question.asked",
                after={"question": number, "language": user.language, "length": len(question)},
            )
        )
        await uow.commit()
    return number
