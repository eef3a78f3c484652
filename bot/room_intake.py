"""The Book presses of a stored batch taken into their dates' lines together, instead of one update at a time
(issue 13; the use case is :func:`domain.use_cases.room_intake.take_places`).

A press qualifies when it was answered on receipt (its date has a queue: :class:`~bot.room_answers.RoomAnswers`), it
comes from the tourist's own chat, it is its chat's only update in the batch and its chat's oldest one not handled
(so a chat's updates still take effect in order) and the chat is not in hand here. The presses of a batch are taken
in one transaction per date, one batch after another in the order they arrived; those served (the tourist stands
in line, the press was answered on receipt) are marked done without going through the dispatcher, the rest go to
their handlers as usual. Marking comes after the places' commit: a crash between them leaves the updates open,
and their handlers then find the places taken (a press never takes a second place), so nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from aiogram.types import Update
from sqlalchemy.exc import SQLAlchemyError

from bot.inbox import Inbox, chat_key
from bot.metrics import observe_update
from bot.storage.write_gate import urgent_writes
from domain.errors import DomainError
from domain.ports import Clock, UnitOfWork
from domain.use_cases.room_intake import Press, take_places

log = logging.getLogger(__name__)


@dataclass
class Intake:
    """A batch's qualifying presses by date, and the updates they came in."""

    presses: dict[int, list[Press]] = field(default_factory=dict)
    updates: dict[int, Update] = field(default_factory=dict)  # update id -> update


class RoomIntake:
    def __init__(self, inbox: Inbox, uows: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.inbox, self.uows, self.clock = inbox, uows, clock
        self._turns = asyncio.Lock()  # one batch at a time, in the order they arrived

    def candidates(
        self,
        updates: Iterable[Update],
        queues: Collection[int],
        busy: Collection[int],
        press_of: Callable[[Update], tuple[int, str, str | None] | None],
        answered: Callable[[str], bool],
    ) -> Intake:
        """The presses of ``updates`` that may be taken in (see the module's docstring; the chats' oldest open
        update is checked when they are taken); only presses ``answered`` on receipt: no handler answers the
        others."""
        updates = list(updates)
        per_chat: dict[int, int] = {}
        for update in updates:
            per_chat[chat_key(update)] = per_chat.get(chat_key(update), 0) + 1
        intake = Intake()
        for update in updates:
            press = press_of(update)
            query = update.callback_query
            if press is None or query is None or press[0] not in queues or not answered(query.id):
                continue
            chat = chat_key(update)
            if chat != query.from_user.id or per_chat[chat] != 1 or chat in busy:
                continue
            intake.presses.setdefault(press[0], []).append(Press(query.from_user.id, update.update_id))
            intake.updates[update.update_id] = update
        return intake

    async def take_in(self, intake: Intake) -> set[int]:
        """Take the presses in; returns the update ids served and marked done (empty when the database failed:
        the handlers then do it all)."""
        # ahead of the handlers' writes on SQLite, as the store is (bot/storage/write_gate.py): a press not yet
        # taken in holds back every admission behind it, and behind the admitted tourists' taps the intake fell
        # seconds behind, until the date sold out under the presses it still held (the 300-tourist e2e in CI)
        async with self._turns:
            with urgent_writes():
                return await self._take_in(intake)

    async def _take_in(self, intake: Intake) -> set[int]:
        served: set[int] = set()
        try:
            oldest = await self.inbox.oldest_open({chat_key(u) for u in intake.updates.values()})
            behind = 0  # presses behind an older update of their chat
            for session_id, presses in intake.presses.items():
                first = [p for p in presses if oldest.get(chat_key(intake.updates[p.arrival])) == p.arrival]
                behind += len(presses) - len(first)
                if first:
                    served.update(await take_places(self.uows(), session_id, first, self.clock.now()))
            if served:
                await self.inbox.finish_many(served)
        except (DomainError, SQLAlchemyError, OSError) as error:  # their handlers take them, as before
            log.warning("Book presses could not be taken in together (%s); their handlers take them", error)
            return set()
        for _ in served:
            observe_update("callback_query", "handled", None)
        if left := len(intake.updates) - len(served):
            log.info("%d Book press(es) go to their handlers (%d behind an older update of their chat)", left, behind)
        return served
