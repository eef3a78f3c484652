"""What the outbox sends: each kind rendered at send time, in its recipient's language.

Tourists read their own language; organisers the one in the catalog; the operator group ``DEFAULT_LOCALE``.
Each feature module registers its renderers with :func:`renders`; a renderer returns None when there is nothing
left to say (the order is gone, the reminder is moot): the row is then closed unsent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, LabeledPrice

from bot.i18n import I18n
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Invoice:
    """``sendInvoice``: amounts in minor units of ``currency``."""

    title: str
    description: str
    payload: str
    currency: str
    prices: list[LabeledPrice]


AfterSend = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message: text (a caption when there is a photo), an invoice, or a copy of another message.

    ``edit_message_id`` edits that message of the chat in place instead of sending a new one (text and keyboard;
    "message is not modified" counts as done; a message that is gone is sent anew). ``thread_id`` posts into a
    forum topic (``topic_key`` names it: if Telegram says it is gone, it is forgotten and the row retried, so the
    renderer creates it anew). ``after_send`` is called with the id of the message sent or edited, once Telegram accepted it
    (to remember which message is a card, or which tourist a relayed message is about).
    """

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None  # PNG
    photo_name: str = "image.png"
    invoice: Invoice | None = None
    edit_message_id: int | None = None
    thread_id: int | None = None
    topic_key: str | None = None  # the desk topic ``thread_id`` is (bot/desk_topics.py): forgotten if it is gone
    reply_to_message_id: int | None = None
    copy_from: tuple[int, int] | None = None  # (chat id, message id) to copy with copyMessage; text is unused
    after_send: AfterSend | None = None


@dataclass(slots=True)
class RenderContext:
    uow: UnitOfWork
    i18n: I18n
    chat_id: int
    payload: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)  # e.g. the payment provider token
    bot: Bot | None = None  # for the few renderers that must ask Telegram first (forum topics)
    now: datetime | None = None


Render = Callable[[RenderContext], Awaitable[Rendered | None]]
_RENDERERS: dict[str, Render] = {}


def renders(*kinds: str) -> Callable[[Render], Render]:
    def register(function: Render) -> Render:
        for kind in kinds:
            if kind in _RENDERERS:
                raise ValueError(f"two renderers for {kind!r}")
            _RENDERERS[kind] = function
        return function

    return register


def _load() -> None:
    from bot.notifications import (
        booking,  # noqa: F401  (registers its renderers)
        desk,  # noqa: F401
        order_changes,  # noqa: F401
        payments,  # noqa: F401
        questions,  # noqa: F401
        reminders,  # noqa: F401
        sessions,  # noqa: F401
    )


class Renderer:
    def __init__(self, i18n: I18n, **options: Any) -> None:
        _load()
        self.i18n = i18n
        self.options = options

    @staticmethod
    def kinds() -> list[str]:
        _load()
        return sorted(_RENDERERS)

    async def render(
        self,
        uow: UnitOfWork,
        kind: str,
        chat_id: int,
        payload: dict[str, Any],
        bot: Bot | None = None,
        now: datetime | None = None,
    ) -> Rendered | None:
        render = _RENDERERS.get(kind)
        if render is None:
            raise ValueError(f"no renderer for outbox kind {kind!r}")
        return await render(RenderContext(uow, self.i18n, chat_id, payload, self.options, bot, now))
