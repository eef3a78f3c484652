"""Small use cases of the operators' tools: what a ``/find`` query is, revealing a tourist's contacts (logged), and
sending a session to a tourist (an event card with a Book button, in their language)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from domain.errors import (
    BadFindQuery,
    InvalidPhone,
    NotFound,
    SessionNotBookable,
    SoldOut,
    TouristUnreachable,
)
from domain.model.catalog import EventSession
from domain.model.messages import AuditEntry, OutboxKind, keyed_message
from domain.model.orders import normalize_order_code
from domain.model.payments import TICKET_PREFIX, normalize_ticket_code
from domain.model.users import User, normalize_phone
from domain.ports import UnitOfWork
from domain.use_cases.support import get_user

USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")  # Telegram's rule for usernames
_PHONE_CHARS = re.compile(r"[\s\-().]")
MIN_PHONE_DIGITS = 7


class FindKind(enum.StrEnum):
    PHONE = "phone"
    USERNAME = "username"
    TICKET = "ticket"
    ORDER = "order"


@dataclass(frozen=True, slots=True)
class FindQuery:
    kind: FindKind
    value: str  # normalized: E.164 phone, username without @, stored ticket code, order code without dash


def classify_find_query(text: str) -> FindQuery:
    """What an operator typed after ``/find``, normalized for an exact match; :class:`BadFindQuery` otherwise.

    Never a pattern: a query that is only part of a phone, username or code is refused, not searched for."""
    query = text.strip()
    if not query:
        raise BadFindQuery(reason="empty")
    if query.startswith("@"):
        name = query[1:]
        if USERNAME.fullmatch(name):
            return FindQuery(FindKind.USERNAME, name)
        raise BadFindQuery(reason="too_short" if len(name) < 5 else "unrecognised")
    if ticket := normalize_ticket_code(query):
        return FindQuery(FindKind.TICKET, ticket)
    if query.upper().startswith(TICKET_PREFIX):  # part of a ticket code (never an order code that looks alike)
        raise BadFindQuery(reason="unrecognised")
    if code := normalize_order_code(query):
        return FindQuery(FindKind.ORDER, code)
    digits = _PHONE_CHARS.sub("", query)
    if re.fullmatch(r"\+?\d+", digits):
        if len(digits.lstrip("+")) < MIN_PHONE_DIGITS:
            raise BadFindQuery(reason="too_short")
        try:
            return FindQuery(FindKind.PHONE, normalize_phone(digits))
        except InvalidPhone:
            raise BadFindQuery(reason="invalid_phone") from None
    raise BadFindQuery(reason="too_short" if len(query) < 5 else "unrecognised")


async def reveal_contacts(uow: UnitOfWork, user_id: int, actor: str, now: datetime) -> User:
    """The tourist with their full contacts, for the operator who asked; the look is logged (who, whose, when)."""
    async with uow:
        user = await get_user(uow, user_id)
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="contact.revealed",
                after={
                    "user_id": user_id,
                    "phone": user.phone is not None,
                    "username": user.username is not None,
                },
            )
        )
        await uow.commit()
    return user


async def suggest_session(
    uow: UnitOfWork, user_id: int, session_id: int, actor: str, now: datetime
) -> tuple[User, EventSession]:
    """Send the session's event card to the tourist (rendered in their language, with a Book button). A second
    press within the same minute sends nothing more."""
    async with uow:
        user = await get_user(uow, user_id)
        if user.blocked_bot:
            raise TouristUnreachable(user=user_id)
        session = await uow.catalog.session(session_id)
        if session is None:
            raise NotFound(session=session_id)
        if not session.bookable(now):
            raise SessionNotBookable(session=session_id)
        if session.seats_left <= 0:
            raise SoldOut(left=0, wanted=1)
        minute = int(now.timestamp()) // 60
        suggestion = {"session_id": session_id, "event_id": session.event_id}
        await uow.outbox.add(
            keyed_message(OutboxKind.EVENT_SUGGESTION, user_id, suggestion, now, user_id, session_id, minute)
        )
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="session.suggested",
                after={
                    "user_id": user_id,
                    "session_id": session_id,
                    "event_id": session.event_id,
                },
            )
        )
        await uow.commit()
    return user, session
