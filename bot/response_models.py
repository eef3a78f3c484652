"""aiogram reads every reply of Telegram through ``Response[<the method's result type>]``, a pydantic generic model
that pydantic caches only weakly: after a garbage collection it is built again (~4.5 ms each; ~120 times in a few
seconds of traffic, measured in bench/updates.py and bench/outbox.py). :func:`keep_response_models` holds one strong
reference to each (41 result types: ~0.1 s and ~2 MiB, once per process); the dispatcher and the outbox sender call
it."""

from __future__ import annotations

from aiogram.methods import TelegramMethod

_RESPONSE_MODELS: list[type] = []


def keep_response_models() -> None:
    """Build every result type's ``Response`` model once and keep it (see the module's docstring)."""
    if _RESPONSE_MODELS:
        return
    from aiogram import methods
    from aiogram.methods.base import Response

    from bot.inbox_worker import GetRawUpdates

    kinds = {GetRawUpdates.__returning__}
    for name in methods.__all__:
        method = getattr(methods, name)
        if isinstance(method, type) and issubclass(method, TelegramMethod) and method is not TelegramMethod:
            kinds.add(method.__returning__)
    _RESPONSE_MODELS.extend(Response[kind] for kind in kinds)  # type: ignore[valid-type]
