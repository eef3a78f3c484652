"""Routing tuned once the routers are assembled (bot/app.py): the handlers and their filters stay as they are.

aiogram tries an update on every router in order and, in each, every handler's filters until one matches. Two costs
of that are removed here, without changing which handler an update reaches:

- **Sync filters on the loop.** aiogram 3 runs a filter that is not a coroutine function (a magic filter such as
  ``F.chat.type == ...``, a ``State``, a plain function) in a worker thread (``asyncio.to_thread``): a thread hop per
  filter, about seven per update here. The filters of this project are pure and quick, so each is wrapped in a
  coroutine that calls it directly (:func:`inline_sync_filters`).
- **Callback data by prefix.** Every button of this bot carries a ``CallbackData`` (``<Subject>Cb``, a short prefix).
  A router whose every callback-query handler, its sub-routers' included, requires a ``CallbackData`` gets one more
  root filter, :class:`PrefixGate`: a press whose prefix none of them takes skips the whole router at once, instead
  of failing each handler's unpack in turn (:func:`gate_callbacks_by_prefix`). A router with any handler that could
  take other data (no ``CallbackData`` filter) is not gated, nor are its parents.

Both are idempotent (the module-level routers are shared by every dispatcher a process builds, e.g. in tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from weakref import WeakSet

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery

Prefixes = dict[str, frozenset[str]]  # separator -> the prefixes taken with it

_GATED: WeakSet[Router] = WeakSet()


def tune_routing(root: Router) -> None:
    """Both tunings on ``root`` and every router under it."""
    gate_callbacks_by_prefix(root)
    inline_sync_filters(root)


class PrefixGate(Filter):
    """Passes a callback query whose data starts with one of ``prefixes`` (as ``CallbackData.unpack`` reads it)."""

    def __init__(self, prefixes: Prefixes) -> None:
        self.prefixes = prefixes

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        if not data:
            return False
        return any(data.split(separator, 1)[0] in taken for separator, taken in self.prefixes.items())

    def __str__(self) -> str:
        return f"PrefixGate({sorted(p for taken in self.prefixes.values() for p in taken)})"


def gate_callbacks_by_prefix(root: Router) -> None:
    """A :class:`PrefixGate` on every router under ``root`` (``root`` included) whose callback queries all need a
    ``CallbackData`` (see the module's docstring)."""
    for router in _walk(root):
        if router in _GATED:
            continue
        prefixes = _subtree_prefixes(router)
        if prefixes is not None:  # none at all (a router without buttons): every press skips it
            router.callback_query.filter(PrefixGate(prefixes))
        _GATED.add(router)


def inline_sync_filters(root: Router) -> None:
    """Every sync filter under ``root`` (handlers' and routers' own) called on the loop instead of in a thread."""
    for router in _walk(root):
        for observer in router.observers.values():
            filters: list[FilterObject] = list(observer._handler.filters or ())  # the router's own (root) filters
            for handler in observer.handlers:
                filters.extend(handler.filters or ())
            for found in filters:
                if not found.awaitable:
                    found.callback = _on_the_loop(found.callback)
                    found.awaitable = True


def _on_the_loop(callback: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return call


def _walk(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from _walk(sub)


def _handler_prefixes(handler: HandlerObject) -> Prefixes | None:
    for found in handler.filters or ():
        if isinstance(found.callback, CallbackQueryFilter):
            data = found.callback.callback_data
            return {data.__separator__: frozenset({data.__prefix__})}
    return None


def _subtree_prefixes(router: Router) -> Prefixes | None:
    """The prefixes some callback-query handler under ``router`` takes; None when one could take any data."""
    found: dict[str, set[str]] = {}
    parts = [_handler_prefixes(h) for h in router.callback_query.handlers]
    parts += [_subtree_prefixes(sub) for sub in router.sub_routers]
    for part in parts:
        if part is None:
            return None
        for separator, taken in part.items():
            found.setdefault(separator, set()).update(taken)
    return {separator: frozenset(taken) for separator, taken in found.items()}
