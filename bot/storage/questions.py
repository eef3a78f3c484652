"""SQLAlchemy implementation of the question repository (``domain.ports.QuestionRepository``): question threads,
the relay map between operator-chat messages and tourists, and the bot's forum topics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import insert_on_conflict
from bot.storage.tables import DeskTopicRow, QuestionThreadRow, RelayMessageRow
from domain.model.questions import (
    DeskTopic,
    QuestionThread,
    RelayDirection,
    RelayMessage,
    ThreadStatus,
)


def thread_from_row(row: QuestionThreadRow) -> QuestionThread:
    return QuestionThread(
        id=row.id,
        user_id=row.user_id,
        status=ThreadStatus(row.status),
        asked_at=row.asked_at,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        desk_check_at=row.desk_check_at,
        last_question=row.last_question,
    )


def relay_from_row(row: RelayMessageRow) -> RelayMessage:
    return RelayMessage(
        chat_id=row.chat_id,
        message_id=row.message_id,
        user_id=row.user_id,
        direction=RelayDirection(row.direction),
        created_at=row.created_at,
        thread_id=row.thread_id,
    )


def topic_from_row(row: DeskTopicRow) -> DeskTopic:
    return DeskTopic(key=row.key, chat_id=row.chat_id, thread_id=row.thread_id, created_at=row.created_at)


class SqlQuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def open_thread(
        self, user_id: int, now: datetime, check_at: datetime, question: str | None = None
    ) -> QuestionThread:
        # An upsert: two questions of the same tourist at once both end in the one row (user_id is unique).
        statement = insert_on_conflict(self._db, QuestionThreadRow).values(
            user_id=user_id,
            status=ThreadStatus.OPEN.value,
            asked_at=now,
            desk_check_at=check_at,
            last_question=question,
            created_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[QuestionThreadRow.user_id],
            set_={
                "status": ThreadStatus.OPEN.value,
                "asked_at": now,
                "answered_at": None,
                "answered_by": None,
                "desk_check_at": check_at,
                "last_question": question,
            },
        )
        await self._db.execute(statement)
        row = await self._thread_row(user_id)
        if row is None:  # the upsert above wrote it in this transaction
            raise RuntimeError(f"the question thread of user {user_id} is missing after its upsert")
        return thread_from_row(row)

    async def thread(self, user_id: int) -> QuestionThread | None:
        row = await self._thread_row(user_id)
        return thread_from_row(row) if row else None

    async def mark_answered(self, user_id: int, by: str, now: datetime) -> QuestionThread | None:
        row = await self._thread_row(user_id)
        if row is None:
            return None
        row.status = ThreadStatus.ANSWERED.value
        row.answered_at = now
        row.answered_by = by
        row.desk_check_at = now  # the desk looks now: it closes the thread's card, if any
        await self._db.flush()
        return thread_from_row(row)

    async def _thread_row(self, user_id: int) -> QuestionThreadRow | None:
        """The tourist's thread row as the database has it now (not as this session last loaded it)."""
        return await self._db.scalar(
            select(QuestionThreadRow)
            .where(QuestionThreadRow.user_id == user_id)
            .execution_options(populate_existing=True)
        )

    async def due_threads(self, now: datetime, limit: int) -> Sequence[QuestionThread]:
        rows = await self._db.scalars(
            select(QuestionThreadRow)
            .where(QuestionThreadRow.desk_check_at.is_not(None), QuestionThreadRow.desk_check_at <= now)
            .order_by(QuestionThreadRow.desk_check_at, QuestionThreadRow.id)
            .limit(limit)
        )
        return [thread_from_row(r) for r in rows]

    async def forget_question(self, user_id: int) -> None:
        await self._db.execute(
            update(QuestionThreadRow)
            .where(QuestionThreadRow.user_id == user_id)
            .values(last_question=None)
            .execution_options(synchronize_session=False)
        )

    async def add_relay(self, relay: RelayMessage) -> None:
        await self._db.execute(
            insert_on_conflict(self._db, RelayMessageRow)
            .values(
                chat_id=relay.chat_id,
                message_id=relay.message_id,
                user_id=relay.user_id,
                thread_id=relay.thread_id,
                direction=relay.direction.value,
                created_at=relay.created_at,
            )
            .on_conflict_do_nothing(index_elements=[RelayMessageRow.chat_id, RelayMessageRow.message_id])
        )

    async def relay(self, chat_id: int, message_id: int) -> RelayMessage | None:
        row = await self._db.scalar(
            select(RelayMessageRow).where(RelayMessageRow.chat_id == chat_id, RelayMessageRow.message_id == message_id)
        )
        return relay_from_row(row) if row else None

    async def topic(self, key: str) -> DeskTopic | None:
        row = await self._db.get(DeskTopicRow, key, populate_existing=True)
        return topic_from_row(row) if row else None

    async def topic_by_thread(self, chat_id: int, thread_id: int) -> DeskTopic | None:
        row = await self._db.scalar(
            select(DeskTopicRow)
            .where(DeskTopicRow.chat_id == chat_id, DeskTopicRow.thread_id == thread_id)
            .order_by(DeskTopicRow.created_at.desc())
            .limit(1)
        )
        return topic_from_row(row) if row else None

    async def save_topic(self, topic: DeskTopic) -> None:
        await self._db.execute(
            insert_on_conflict(self._db, DeskTopicRow)
            .values(key=topic.key, chat_id=topic.chat_id, thread_id=topic.thread_id, created_at=topic.created_at)
            .on_conflict_do_update(
                index_elements=[DeskTopicRow.key],
                set_={"chat_id": topic.chat_id, "thread_id": topic.thread_id, "created_at": topic.created_at},
            )
        )

    async def forget_topic(self, key: str) -> None:
        await self._db.execute(delete(DeskTopicRow).where(DeskTopicRow.key == key))
