"""The operator desk's storage: cards, and which orders and question threads the desk must look at.

Every ``claim_*`` returns at most one id and locks its row for the rest of the transaction; a second process
running the same job skips it (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.questions import thread_from_row
from bot.storage.tables import DeskCardRow, OrderRow, QuestionThreadRow
from domain.model.desk import Card, CardStatus
from domain.model.questions import QuestionThread, ThreadStatus

_CARD_FIELDS = (
    "subject",
    "kinds",
    "opened_at",
    "updated_at",
    "order_id",
    "user_id",
    "taken_by",
    "taken_by_name",
    "snoozed_until",
    "remind_at",
    "reraised_at",
    "resolved_at",
    "resolved_by",
    "resolved_by_name",
    "resolution",
    "last_action",
    "message_id",
    "thread_id",
    "digest_id",
    "version",
)


def card_from_row(row: DeskCardRow) -> Card:
    return Card(**{name: getattr(row, name) for name in _CARD_FIELDS}, status=CardStatus(row.status), id=row.id)


def _card_values(card: Card) -> dict[str, Any]:
    values = {name: getattr(card, name) for name in _CARD_FIELDS}
    values["kinds"] = list(card.kinds)
    values["status"] = card.status.value
    values["open_subject"] = card.subject if card.is_open else None
    return values


class SqlDeskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    # ---- cards ----------------------------------------------------------------------------------------------------

    async def card(self, card_id: int) -> Card | None:
        row = await self._db.get(DeskCardRow, card_id, populate_existing=True)
        return card_from_row(row) if row else None

    async def open_card(self, subject: str) -> Card | None:
        row = await self._db.scalar(select(DeskCardRow).where(DeskCardRow.open_subject == subject))
        return card_from_row(row) if row else None

    async def latest_card(self, subject: str) -> Card | None:
        row = await self._db.scalar(
            select(DeskCardRow).where(DeskCardRow.subject == subject).order_by(DeskCardRow.id.desc()).limit(1)
        )
        return card_from_row(row) if row else None

    async def add_card(self, card: Card) -> Card:
        row = DeskCardRow(**_card_values(card))
        self._db.add(row)
        await self._db.flush()
        card.id = row.id
        return card

    async def save_card(self, card: Card) -> None:
        await self._db.execute(
            update(DeskCardRow)
            .where(DeskCardRow.id == card.id)
            .values(**_card_values(card))
            .execution_options(synchronize_session=False)
        )

    async def set_card_message(self, card_id: int, message_id: int, thread_id: int | None) -> None:
        await self._db.execute(
            update(DeskCardRow)
            .where(DeskCardRow.id == card_id)
            .values(message_id=message_id, thread_id=thread_id)
            .execution_options(synchronize_session=False)
        )

    async def cards_opened_since(self, since: datetime) -> int:
        """Cards opened since then that were (or are to be) posted on their own, not in a digest."""
        return int(
            await self._db.scalar(
                select(func.count()).where(DeskCardRow.opened_at >= since, DeskCardRow.digest_id.is_(None))
            )
            or 0
        )

    async def digest_cards(self, digest_id: int) -> Sequence[Card]:
        rows = await self._db.scalars(
            select(DeskCardRow).where(DeskCardRow.digest_id == digest_id).order_by(DeskCardRow.id)
        )
        return [card_from_row(r) for r in rows]

    async def open_cards(
        self, kind: str | None, newest_first: bool, offset: int, limit: int
    ) -> tuple[Sequence[Card], int]:
        rows = [
            card_from_row(r)
            for r in await self._db.scalars(select(DeskCardRow).where(DeskCardRow.status == CardStatus.OPEN.value))
        ]
        if kind:
            rows = [c for c in rows if kind in c.kinds]  # JSON membership differs per backend; open cards are few
        rows.sort(key=lambda c: (c.opened_at, c.id), reverse=newest_first)
        return rows[offset : offset + limit], len(rows)

    async def claim_card_to_reraise(self, now: datetime, exclude: Collection[int]) -> int | None:
        query = (
            select(DeskCardRow.id)
            .where(DeskCardRow.status == CardStatus.OPEN.value, DeskCardRow.remind_at <= now)
            .order_by(DeskCardRow.remind_at, DeskCardRow.id)
        )
        return await self._claim(query, DeskCardRow.id, exclude)

    async def _claim(
        self, query: Select[int], column: InstrumentedAttribute[int], exclude: Collection[int]
    ) -> int | None:
        if exclude:
            query = query.where(column.not_in(list(exclude)))
        return await self._db.scalar(query.limit(1).with_for_update(skip_locked=True))

    # ---- orders ---------------------------------------------------------------------------------------------------

    async def claim_order_to_check(self, now: datetime, exclude: Collection[int]) -> int | None:
        """An order changed since the desk saw it (the partial index ``ix_orders_desk_unseen`` holds just those),
        else one whose next check is due (``ix_orders_desk_check_at``): two indexed look-ups, no table scan."""
        if (order_id := await self._claim(_unseen_orders(), OrderRow.id, exclude)) is not None:
            return order_id
        return await self._claim(_due_orders(now), OrderRow.id, exclude)

    async def order_to_check(self, now: datetime) -> int | None:
        """What :meth:`claim_order_to_check` would start from, without a lock, in one statement: the same two
        look-ups as scalar subqueries (each keeps its index: ``ORDER BY ... LIMIT 1``, where an ``EXISTS`` would let
        PostgreSQL's planner, which guesses that most rows have ``version != desk_seen_version``, scan the table)."""
        first = func.coalesce(_unseen_orders().limit(1).scalar_subquery(), _due_orders(now).limit(1).scalar_subquery())
        found: int | None = await self._db.scalar(select(first))
        return found

    async def order_seen_version(self, order_id: int) -> int:
        seen = await self._db.scalar(select(OrderRow.desk_seen_version).where(OrderRow.id == order_id))
        if seen is None:
            raise LookupError(f"order {order_id} does not exist")
        return seen

    async def mark_order_checked(
        self, order_id: int, version: int, acknowledged: list[str], next_check_at: datetime | None
    ) -> None:
        """Seen at ``version`` (the order's own version is not touched: no use case sees a concurrent change)."""
        await self._db.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(desk_seen_version=version, desk_ack=acknowledged, desk_check_at=next_check_at)
            .execution_options(synchronize_session=False)
        )

    async def acknowledge(self, order_id: int, kinds: list[str]) -> None:
        """The kinds stay closed while they apply; an undelivered message is forgotten instead (the next one that
        fails is a new problem)."""
        acked = await self._db.scalar(select(OrderRow.desk_ack).where(OrderRow.id == order_id)) or []
        values: dict[str, Any] = {"desk_ack": sorted({*acked, *kinds} - {"undelivered"})}
        if "undelivered" in kinds:
            values["undelivered"] = None
        await self._db.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    # ---- question threads -----------------------------------------------------------------------------------------

    async def claim_question_to_check(self, now: datetime, exclude: Collection[int]) -> int | None:
        query = (
            select(QuestionThreadRow.id)
            .where(QuestionThreadRow.desk_check_at <= now)
            .order_by(QuestionThreadRow.desk_check_at, QuestionThreadRow.id)
        )
        return await self._claim(query, QuestionThreadRow.id, exclude)

    async def question_thread(self, thread_id: int) -> QuestionThread | None:
        row = await self._db.get(QuestionThreadRow, thread_id, populate_existing=True)
        return thread_from_row(row) if row else None

    async def mark_question_checked(self, thread_id: int) -> None:
        await self._db.execute(
            update(QuestionThreadRow)
            .where(QuestionThreadRow.id == thread_id)
            .values(desk_check_at=None)
            .execution_options(synchronize_session=False)
        )

    async def close_question(self, thread_id: int, actor: str, now: datetime) -> None:
        """An operator resolved the unanswered-question card: the thread counts as answered."""
        await self._db.execute(
            update(QuestionThreadRow)
            .where(QuestionThreadRow.id == thread_id, QuestionThreadRow.status == ThreadStatus.OPEN.value)
            .values(status=ThreadStatus.ANSWERED.value, answered_at=now, answered_by=actor, desk_check_at=None)
            .execution_options(synchronize_session=False)
        )


def _unseen_orders() -> Select[int]:
    return select(OrderRow.id).where(OrderRow.version != OrderRow.desk_seen_version).order_by(OrderRow.id)


def _due_orders(now: datetime) -> Select[int]:
    return select(OrderRow.id).where(OrderRow.desk_check_at <= now).order_by(OrderRow.desk_check_at, OrderRow.id)
