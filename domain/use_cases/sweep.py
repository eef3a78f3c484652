"""How a job works through due items: one transaction per item, claimed under lock, handled, committed; what one
pass did is counted in a :class:`Swept`. The deadline jobs (:mod:`domain.use_cases.deadlines`) and the desk's
(:mod:`domain.use_cases.desk`) are sweeps."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from domain.ports import UnitOfWork

log = logging.getLogger(__name__)


DEFAULT_BATCH = 50
Item = TypeVar("Item")


class Outcome(enum.StrEnum):
    DONE = "done"  # sent or changed
    SKIPPED = "skipped"  # closed without effect: no longer makes sense (recorded with the reason)
    LEFT = "left"  # not this job's any more (another job takes it): untouched


@dataclass(slots=True)
class Swept:
    """What one pass of a job did, by item id (reminder, notice or order)."""

    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.done) + len(self.skipped) + len(self.left) + len(self.failed)


@overload
async def sweep(
    uow: UnitOfWork,
    limit: int,
    claim: Callable[[set[int]], Awaitable[int | None]],
    handle: Callable[[int], Awaitable[Outcome]],
) -> Swept: ...


@overload
async def sweep(
    uow: UnitOfWork,
    limit: int,
    claim: Callable[[set[int]], Awaitable[Item | None]],
    handle: Callable[[Item], Awaitable[Outcome]],
    item_id: Callable[[Item], int],
) -> Swept: ...


async def sweep(
    uow: UnitOfWork,
    limit: int,
    claim: Callable[[set[int]], Awaitable[Any]],
    handle: Callable[[Any], Awaitable[Outcome]],
    item_id: Callable[[Any], int] | None = None,
) -> Swept:
    """Up to ``limit`` items, one transaction each: claim (locked), handle, commit. An item is an id, or a row
    (a reminder, a notice) that ``item_id`` gives the id of.

    An item that fails is rolled back and left for the next pass (logged); items already seen in this pass are not
    claimed again, so a broken one cannot starve the rest.
    """
    swept = Swept()
    seen: set[int] = set()
    for _ in range(limit):
        current: int | None = None
        try:
            async with uow:
                item = await claim(seen)
                if item is None:
                    break
                current = item if item_id is None else item_id(item)
                seen.add(current)
                outcome = await handle(item)
                await uow.commit()
        except Exception:
            if current is None:
                raise  # the claim itself failed: nothing to go on with
            log.exception("job: item %s failed; it stays due for the next pass", current)
            swept.failed.append(current)
            continue
        getattr(swept, outcome.value).append(current)
    return swept
