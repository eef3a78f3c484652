"""Forum topics in the operator chat: one per tourist with questions (``user:<id>``), one for problems
(``problems``); any key works.

When the group is a forum (``getChat(...).is_forum``, asked once per process and bot), :func:`topic_for` returns
the topic's ``message_thread_id``, creating the topic (``createForumTopic``) the first time a key is used and
remembering it in ``desk_topics``. When it is not a forum, or the bot may not create topics, it returns None:
post into the chat itself. A message refused because its topic was deleted or closed (:func:`topic_gone` knows
Telegram's words for it) makes the outbox sender :func:`forget_topic` and retry the row: the next
:func:`topic_for` makes the topic anew.
"""

from __future__ import annotations

import logging
import weakref
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from domain.model.questions import DeskTopic
from domain.ports import UnitOfWork

log = logging.getLogger(__name__)

TOPIC_NAME_MAX = 128
# What Telegram says when a topic cannot take messages any more: it is recreated.
TOPIC_GONE = ("message thread not found", "TOPIC_DELETED", "TOPIC_CLOSED", "TOPIC_ID_INVALID")

_forums: dict[int, dict[int, bool]] = {}  # id(bot) -> chat id -> is a forum; dropped with the bot


def _known(bot: Bot) -> dict[int, bool]:
    key = id(bot)
    if key not in _forums:
        _forums[key] = {}
        weakref.finalize(bot, _forums.pop, key, None)
    return _forums[key]


def topic_gone(error: BaseException) -> bool:
    """Whether Telegram refused a message because its forum topic was deleted or closed."""
    message = getattr(error, "message", None) or str(error)
    return isinstance(error, TelegramBadRequest) and any(gone.lower() in message.lower() for gone in TOPIC_GONE)


async def is_forum(bot: Bot, chat_id: int) -> bool:
    """Whether the chat has topics; asked once per process (a failed ``getChat`` says no and is asked again)."""
    known = _known(bot)
    if chat_id in known:
        return known[chat_id]
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramAPIError as error:
        log.warning("getChat(%s) failed, posting without topics: %s", chat_id, error)
        return False
    known[chat_id] = bool(chat.is_forum)
    return known[chat_id]


def forget_forum(bot: Bot, chat_id: int) -> None:
    """Ask ``getChat`` again next time (the group was turned into a forum or back)."""
    _known(bot).pop(chat_id, None)


async def topic_for(
    bot: Bot, uow: UnitOfWork, chat_id: int, key: str, name: str, now: datetime | None = None
) -> int | None:
    """The ``message_thread_id`` of the topic ``key`` in ``chat_id``, created as ``name`` when there is none yet;
    None when the chat is not a forum or the topic cannot be created (then post without a topic)."""
    async with uow:
        topic = await uow.questions.topic(key)
    if topic is not None and topic.chat_id == chat_id:
        return topic.thread_id
    if not await is_forum(bot, chat_id):
        return None
    try:
        created = await bot.create_forum_topic(chat_id, name.strip()[:TOPIC_NAME_MAX] or key)
    except TelegramAPIError as error:  # no right to manage topics, or the chat stopped being a forum
        log.warning("createForumTopic(%s, %r) failed, posting without a topic: %s", chat_id, key, error)
        return None
    async with uow:
        await uow.questions.save_topic(DeskTopic(key, chat_id, created.message_thread_id, now or datetime.now(UTC)))
        await uow.commit()
    return created.message_thread_id


async def forget_topic(uow: UnitOfWork, key: str) -> None:
    """Forget the topic ``key`` (it was deleted): the next :func:`topic_for` creates it anew."""
    async with uow:
        await uow.questions.forget_topic(key)
        await uow.commit()
