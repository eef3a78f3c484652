"""What the outbox sends: each kind rendered at send time, in its recipient's language.

These are screens drawn for people outside the update being handled. Tourists read their own language; organisers
the one in the catalog; the operator group ``DEFAULT_LOCALE``. Each feature module registers its renderers with
:func:`renders`; a renderer returns None when there is nothing left to say (the order is gone, the reminder is
moot): the row is then closed unsent.

Two things only the application can do reach the renderers as ports (``bot/rendering.py`` passes them): finding or
creating a forum topic of the operator chat (:data:`TopicFor`) and drawing a QR code (:data:`QrImage`).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, LabeledPrice

from domain.ports import UnitOfWork
from handlers.media import Document, Venue
from handlers.ui import Languages

_MODULES = (
    "booking",
    "day",
    "desk",
    "favourites",
    "offers",
    "order_changes",
    "organiser_requests",
    "payments",
    "places",
    "questions",
    "rebooking",
    "reminders",
    "sessions",
    "waiting_room",
)

# (bot, uow, chat id, topic key, topic name, now) -> the topic's message_thread_id; None: post without a topic
TopicFor = Callable[[Bot, UnitOfWork, int, str, str, datetime | None], Awaitable[int | None]]
# text -> a PNG of it as a QR code
QrImage = Callable[[str], bytes]


@dataclass(frozen=True, slots=True)
class Invoice:
    """``sendInvoice``: amounts in minor units of ``currency``."""

    title: str
    description: str
    payload: str
    currency: str
    prices: list[LabeledPrice]


AfterSend = Callable[[int], Awaitable[None]]


class Superseded(Exception):
    """Raised by a renderer whose row a newer row of the same message replaced (a waiting room's position that
    moved again): the row is closed as ``superseded``, not dead-lettered; nothing failed."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message: text (a caption when there is a photo), an invoice, or a copy of another message.

    ``edit_message_id`` edits that message of the chat in place instead of sending a new one (text and keyboard;
    "message is not modified" counts as done; a message that is gone is sent anew). ``thread_id`` posts into a
    forum topic (``topic_key`` names it: if Telegram says it is gone, it is forgotten and the row retried, so the
    renderer creates it anew). ``after_send`` is called with the id of the message sent or edited, once Telegram
    accepted it (to remember which message is a card, or which tourist a relayed message is about).
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
    venue: Venue | None = None  # a map pin (sendVenue); text is unused
    document: Document | None = None  # a file (sendDocument) with text as its caption
    after_send: AfterSend | None = None


@dataclass(slots=True)
class RenderContext:
    uow: UnitOfWork
    i18n: Languages
    chat_id: int
    payload: dict[str, Any]
    topic_for: TopicFor
    qr_image: QrImage
    options: dict[str, Any] = field(default_factory=dict)  # e.g. the payment provider token
    bot: Bot | None = None  # for the few renderers that must ask Telegram first (forum topics)
    now: datetime | None = None

    async def topic(self, key: str, name: str) -> int | None:
        """The forum topic ``key`` of this chat (created as ``name`` the first time); None: not a forum."""
        if self.bot is None:
            return None
        return await self.topic_for(self.bot, self.uow, self.chat_id, key, name, self.now)


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
    """Import every feature module once: importing one registers its renderers."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")


class Renderer:
    """Renders an outbox row of any kind; the ports and ``options`` (e.g. ``payment_provider_token``) are handed
    to every renderer."""

    def __init__(self, i18n: Languages, *, topic_for: TopicFor, qr_image: QrImage, **options: Any) -> None:
        _load()
        self.i18n = i18n
        self.topic_for = topic_for
        self.qr_image = qr_image
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
        context = RenderContext(uow, self.i18n, chat_id, payload, self.topic_for, self.qr_image, self.options, bot, now)
        return await render(context)
