"""What the outbox sends: each kind rendered at send time, in its recipient's language.

Tourists read their own language; organisers the one in the catalog; the operator group ``DEFAULT_LOCALE``.
Each feature module registers its renderers with :func:`renders`; a renderer returns None when there is nothing
left to say (the order is gone, the reminder is moot): the row is then closed unsent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message: text (a caption when there is a photo), or an invoice."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None  # PNG
    photo_name: str = "image.png"
    invoice: Invoice | None = None


@dataclass(slots=True)
class RenderContext:
    uow: UnitOfWork
    i18n: I18n
    chat_id: int
    payload: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)  # e.g. the payment provider token


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
    from bot.notifications import booking  # noqa: F401  (registers its renderers)
    from bot.notifications import payments  # noqa: F401
    from bot.notifications import reminders  # noqa: F401


class Renderer:
    def __init__(self, i18n: I18n, **options: Any) -> None:
        _load()
        self.i18n = i18n
        self.options = options

    @staticmethod
    def kinds() -> list[str]:
        _load()
        return sorted(_RENDERERS)

    async def render(self, uow: UnitOfWork, kind: str, chat_id: int, payload: dict[str, Any]) -> Rendered | None:
        render = _RENDERERS.get(kind)
        if render is None:
            raise ValueError(f"no renderer for outbox kind {kind!r}")
        return await render(RenderContext(uow, self.i18n, chat_id, payload, self.options))
