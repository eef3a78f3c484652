"""One update's handling, as the inbox runs it (bot/inbox.py): what its screens read once, and the writes that can
wait for the update's last transaction.

The conversation state (bot/storage/fsm.py) is read once per update and its changes are written together with the
inbox's "done" mark, in one transaction at the end, instead of a read and a write transaction per call. In a private
chat the same statement reads the user (:func:`remember_user`), whom the user middleware's read (bot/storage/users.py,
reads outside a transaction only) then takes from here. Outside the inbox (a test feeding the dispatcher directly)
there is no scope and every call goes to the database at once.

A handler that fails still gets its state written (as when each write committed at once); a process that dies
before the end loses the state change with the "done" mark, and the update is handled again from the old state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

Write = Callable[[AsyncConnection], Awaitable[None]]  # runs in the transaction of the inbox's mark


@dataclass
class UpdateScope:
    read: dict[str, Any] = field(default_factory=dict)  # what was read once, by key
    writes: dict[str, Write] = field(default_factory=dict)  # the last write per key, run at the end
    transient: BaseException | None = None  # the database failed under the handler: handle the update again later


CURRENT: ContextVar[UpdateScope | None] = ContextVar("tripdesk_update_scope", default=None)


def _user_key(user_id: int) -> str:
    return f"user:{user_id}"


def remember_user(user_id: int, row: Any) -> None:
    """The user's row as this update read it (None: no such user yet), for :func:`known_user`."""
    if (scope := CURRENT.get()) is not None:
        scope.read[_user_key(user_id)] = row


def known_user(user_id: int) -> tuple[bool, Any]:
    """(True, the row or None) when this update has read the user already; (False, None) otherwise."""
    scope = CURRENT.get()
    if scope is None or (key := _user_key(user_id)) not in scope.read:
        return False, None
    return True, scope.read[key]


def forget_user(user_id: int) -> None:
    """The user changed (or may have): the next read goes to the database."""
    if (scope := CURRENT.get()) is not None:
        scope.read.pop(_user_key(user_id), None)
