"""A tourist's question thread with the operators, the operator-chat messages relayed about it, and the forum
topics the bot keeps (:mod:`domain.use_cases.questions` is what happens to them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

QUESTION_MAX_LENGTH = 2000
ANSWER_WITHIN = timedelta(minutes=15)  # the default of QUESTION_ANSWER_WITHIN
TEXT_INLINE_LIMIT = 3800  # an operator's text longer than this goes as a copy after a header (4096 per message)


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class RelayDirection(enum.StrEnum):
    TO_OPERATORS = "to_operators"  # a tourist's question as relayed into the operator chat
    TO_TOURIST = "to_tourist"  # an operator's message in the operator chat that went to the tourist


class CannedReply(enum.StrEnum):
    """Templates an operator can send with one press; the texts live with the renderer (translated)."""

    CHECKING = "checking"
    CONFIRMED = "confirmed"
    MEETING_POINT = "meeting"
    SHARE_PHONE = "phone"
    REFUNDED = "refunded"
    OTHER_DATES = "dates"
    WEATHER = "weather"


@dataclass(frozen=True, slots=True)
class QuestionThread:
    id: int
    user_id: int
    status: ThreadStatus
    asked_at: datetime
    answered_at: datetime | None = None
    answered_by: str | None = None
    desk_check_at: datetime | None = None
    last_question: str | None = None  # the text of the latest question (shown on its desk card); None once forgotten

    @property
    def is_open(self) -> bool:
        return self.status is ThreadStatus.OPEN


@dataclass(frozen=True, slots=True)
class RelayMessage:
    """A message of ``chat_id`` (the operator chat) that is about tourist ``user_id``."""

    chat_id: int
    message_id: int
    user_id: int
    direction: RelayDirection
    created_at: datetime
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeskTopic:
    """A forum topic the bot created in the operator chat: ``key`` is ``problems`` or ``user:<id>``."""

    key: str
    chat_id: int
    thread_id: int
    created_at: datetime


def user_topic_key(user_id: int) -> str:
    return f"user:{user_id}"


def topic_user(key: str) -> int | None:
    """The tourist a ``user:<id>`` topic belongs to; None for any other topic."""
    prefix, _sep, rest = key.partition(":")
    return int(rest) if prefix == "user" and rest.lstrip("-").isdigit() else None


@dataclass(frozen=True, slots=True)
class TeamMessage:
    """An operator's message to pass on: where it is in the operator chat, and its text when it is plain text."""

    chat_id: int
    message_id: int
    text: str | None = None


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """Whom an operator's next message goes to: a tourist (``chat_id`` is their user id) or an organiser (their
    chat; ``organiser_id`` or the order's organiser tells their language). ``name`` is only for the prompt."""

    kind: Literal["tourist", "organiser"]
    chat_id: int
    order_id: int | None = None
    organiser_id: int | None = None
    name: str = ""
