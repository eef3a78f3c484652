"""One update's handling, as the inbox runs it (bot/inbox.py): what its screens read once, and the writes that can
wait for the update's last transaction.

The conversation state (bot/storage/fsm.py) is read once per update and its changes are written together with the
inbox's "done" mark, in one transaction at the end, instead of a read and a write transaction per call. Outside the
inbox (a test feeding the dispatcher directly) there is no scope and every call goes to the database at once.

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
