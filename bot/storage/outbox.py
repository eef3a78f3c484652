"""The outbox: :class:`SqlOutboxRepository` (``domain.ports.OutboxRepository``) adds messages inside a use case's
transaction, so a message exists only if its change was committed; :class:`OutboxQueue` is the same table as a
queue for the sender: claim due rows under a lease, then mark them sent (many in one statement), give them back
(many in one statement, each with its own due time) or close them.

Claiming sets ``status='sending'`` and moves ``due_at`` to the end of the lease; a sender that dies mid-batch leaves
its rows to be claimed again when the lease runs out (at least once). On PostgreSQL the claim skips rows another
sender holds (``FOR UPDATE SKIP LOCKED``), so two processes never take the same row; SQLite serialises writers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.db import changed_rows, dialect_insert
from bot.storage.tables import OrderRow, OutboxRow, UserRow
from domain.model.messages import OutboxMessage

LEASE = timedelta(seconds=60)
_OUTBOX = cast(Table, OutboxRow.__table__)  # Core statements run with many parameter sets (executemany)
# the partial index ix_outbox_urgent_open's condition, word for word: SQLite uses such an index only for a query that
# repeats its terms (``urgent = 1`` or a bound list of statuses would not match)
_OPEN_URGENT = and_(literal_column("outbox.urgent", Boolean), text("outbox.status IN ('pending', 'sending')"))


@cache
def _insert_message(dialect: str) -> Insert:
    """A message's INSERT, built once per dialect (its values come as parameters); a taken dedup key adds nothing."""
    return dialect_insert(dialect, OutboxRow).on_conflict_do_nothing(index_elements=[OutboxRow.dedup_key])


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, message: OutboxMessage) -> None:
        # ON CONFLICT DO NOTHING on the unique dedup key: the same change asked twice is one message, without a
        # look-up first (and a concurrent insert of the same key waits for that transaction instead of failing).
        db = await self._db.connection()
        await db.execute(
            _insert_message(db.dialect.name),
            {
                "kind": message.kind.value,
                "chat_id": message.chat_id,
                "payload": message.payload,
                "dedup_key": message.dedup_key,
                "status": "pending",
                "attempts": 0,
                "due_at": message.due_at,
                "created_at": message.due_at,
                "urgent": message.urgent,
            },
        )

    async def order_for_message(self, kind: str, chat_id: int, message_id: int) -> int | None:
        payload = await self._db.scalar(
            select(OutboxRow.payload).where(
                OutboxRow.chat_id == chat_id, OutboxRow.sent_message_id == message_id, OutboxRow.kind == kind
            )
        )
        return int(payload["order_id"]) if payload and "order_id" in payload else None

    async def sent_messages(self, key: str) -> Sequence[tuple[int, int]]:
        rows = await self._db.execute(
            select(OutboxRow.chat_id, OutboxRow.sent_message_id)
            .where(
                or_(OutboxRow.dedup_key == key, OutboxRow.dedup_key.startswith(f"{key}:", autoescape=True)),
                OutboxRow.status == "sent",
                OutboxRow.sent_message_id.is_not(None),
            )
            .order_by(OutboxRow.id)
        )
        return [(int(chat_id), int(message_id)) for chat_id, message_id in rows if message_id is not None]

    async def record_shown(self, message: OutboxMessage, message_id: int) -> None:
        db = await self._db.connection()
        await db.execute(
            _insert_message(db.dialect.name),
            {
                "kind": message.kind.value,
                "chat_id": message.chat_id,
                "payload": message.payload,
                "dedup_key": message.dedup_key,
                "status": "sent",  # shown already: never claimed, found by sent_messages
                "attempts": 0,
                "due_at": message.due_at,
                "created_at": message.due_at,
                "sent_at": message.due_at,
                "sent_message_id": message_id,
            },
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    attempts: int  # including this one


class OutboxQueue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def claim(
        self, now: datetime, kinds: list[str], limit: int, held_chats: Collection[int] = ()
    ) -> list[Claimed]:
        """Due rows, leased to this sender: urgent ones first (``OutboxMessage.urgent``), each with its chat's
        earlier due rows, then the oldest. A chat's rows go in the order they were made: a row waits while an earlier
        one of its chat was given back to wait out a retry's pause (an attempt was made: a row scheduled for later
        holds up no one), or is leased and its lease still runs, unless its chat is in ``held_chats`` (this sender
        has it in hand and sends its rows one after the other). A leased row outside the hand was left by a run
        that failed, or by a sender that died: its chat waits for the lease to end rather than go on without it.
        Rows of a chat claimed together are sent one after the other by the sender, in this order."""
        earlier = OutboxRow.__table__.alias("earlier")
        leased_elsewhere = earlier.c.status == "sending"
        if held_chats:
            leased_elsewhere = and_(leased_elsewhere, OutboxRow.chat_id.not_in(list(held_chats)))
        due = (
            select(OutboxRow.id)
            .where(
                or_(OutboxRow.status == "pending", OutboxRow.status == "sending"),
                OutboxRow.due_at <= now,
                OutboxRow.kind.in_(kinds),
                ~exists().where(
                    earlier.c.chat_id == OutboxRow.chat_id,
                    earlier.c.id < OutboxRow.id,
                    # ix_outbox_open_by_chat's condition, word for word, so that SQLite reads the chat's open rows
                    # through it rather than every row due later
                    text("earlier.status IN ('pending', 'sending')"),
                    earlier.c.due_at > now,
                    earlier.c.attempts > 0,
                    or_(earlier.c.status == "pending", leased_elsewhere),
                ),
            )
            .order_by(OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.sessions() as db, db.begin():
            ids = await self._urgent_first(db, due)
            if len(ids) < limit:
                fill = due.limit(limit - len(ids))
                ids += await db.scalars(fill.where(OutboxRow.id.not_in(ids)) if ids else fill)
            if not ids:
                return []
            rows = await db.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(status="sending", due_at=now + LEASE, attempts=OutboxRow.attempts + 1)
                .returning(OutboxRow.id, OutboxRow.kind, OutboxRow.chat_id, OutboxRow.payload, OutboxRow.attempts)
                .execution_options(synchronize_session=False)
            )
            claimed = [Claimed(*row) for row in rows]
        order = {row_id: index for index, row_id in enumerate(ids)}
        return sorted(claimed, key=lambda c: order[c.id])

    @staticmethod
    async def _urgent_first(db: AsyncSession, due: Select[int]) -> list[int]:
        """The due urgent rows, each with its chat's earlier due rows, oldest first (a chat's rows keep their
        order, also when the limit cuts the list). Nearly always none: a read of the partial index."""
        urgent = (await db.execute(due.add_columns(OutboxRow.chat_id).where(_OPEN_URGENT))).all()
        if not urgent:
            return []
        last: dict[int, int] = {}  # chat -> its newest urgent row due
        for row_id, chat_id in urgent:
            last[chat_id] = max(row_id, last.get(chat_id, 0))
        chats = or_(*(and_(OutboxRow.chat_id == chat, OutboxRow.id <= newest) for chat, newest in last.items()))
        return list(await db.scalars(due.where(chats)))

    async def _set(self, row_id: int, **values: Any) -> None:
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id, OutboxRow.status == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def sent(self, row_id: int, now: datetime, message_id: int | None) -> None:
        await self._set(row_id, status="sent", sent_at=now, sent_message_id=message_id, last_error=None)

    async def retry(self, row_id: int, at: datetime, error: str, count_attempt: bool = True) -> None:
        values: dict[str, Any] = {"status": "pending", "due_at": at, "last_error": error[:500]}
        if not count_attempt:  # flood control is Telegram's pace, not a failure of this row
            values["attempts"] = OutboxRow.attempts - 1
        await self._set(row_id, **values)

    async def sent_many(self, marks: Sequence[tuple[int, int | None]], now: datetime) -> None:
        """Mark rows sent, each with the id of the message Telegram made of it, in one statement (executemany)."""
        table = _OUTBOX
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"), table.c.status == "sending")
                .values(status="sent", sent_at=now, sent_message_id=bindparam("message_id"), last_error=None),
                [{"row_id": row_id, "message_id": message_id} for row_id, message_id in marks],
            )

    async def release(self, rows: Sequence[tuple[int, datetime]], error: str, count_attempt: bool = False) -> None:
        """Give claimed rows back to the queue, each due again at its own time, in one statement (executemany);
        unless ``count_attempt``, the claim does not count as an attempt (waiting for a limit is not failing)."""
        table = _OUTBOX
        values: dict[str, Any] = {"status": "pending", "due_at": bindparam("due"), "last_error": error[:500]}
        if not count_attempt:
            values["attempts"] = table.c.attempts - 1
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(table).where(table.c.id == bindparam("row_id"), table.c.status == "sending").values(**values),
                [{"row_id": row_id, "due": due} for row_id, due in rows],
            )

    async def superseded(self, row_id: int, now: datetime) -> None:
        """Closed unsent because a newer row of the same message replaced it: not a failure (not ``dead``)."""
        await self._set(row_id, status="superseded", sent_at=now, last_error=None)

    async def dead(self, row_id: int, now: datetime, error: str) -> None:
        await self._set(row_id, status="dead", sent_at=now, last_error=error[:500])

    async def undelivered(self, order_id: int, kind: str, now: datetime) -> None:
        """A message about this order could not be delivered: the operator desk looks at the order now (its version
        is left alone, so no use case sees a concurrent change)."""
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(OrderRow)
                .where(OrderRow.id == order_id)
                .values(undelivered=kind[:64], desk_check_at=now)
                .execution_options(synchronize_session=False)
            )

    async def blocked_users(self, chat_ids: list[int]) -> set[int]:
        """Those of ``chat_ids`` that are private chats of users who blocked the bot."""
        private = [c for c in chat_ids if c > 0]
        if not private:
            return set()
        async with self.sessions() as db:
            return set(await db.scalars(select(UserRow.id).where(UserRow.id.in_(private), UserRow.blocked_bot)))

    async def mark_blocked(self, user_id: int, now: datetime, language: str) -> None:
        """Remember that this private chat refuses the bot, even for someone who has no profile with us (an
        organiser who never wrote to the bot); writing to the bot again clears it."""
        async with self.sessions() as db, db.begin():
            if not await changed_rows(db, update(UserRow).where(UserRow.id == user_id).values(blocked_bot=True)):
                db.add(UserRow(id=user_id, language=language, created_at=now, blocked_bot=True))
