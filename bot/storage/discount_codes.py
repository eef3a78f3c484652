"""SQLAlchemy implementation of ``domain.discount_ports.DiscountCodeRepository``: discount codes and their uses.

A use is taken by two writes in the order's transaction: the guest's use row (unique per code and guest: a second
one, also a concurrent one, adds nothing) and a conditional UPDATE of the code's ``used`` count (``used < max_uses``:
two guests racing for the last use, one wins). When the second write loses, the first is undone, so False means
nothing was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.offer_tables import DiscountCodeRow, DiscountCodeUseRow
from domain.errors import DomainError
from domain.model.discount_codes import DiscountCode, normalize_code

_FIELDS = (
    "code",
    "percent",
    "amount_minor",
    "currency",
    "valid_from",
    "valid_until",
    "max_uses",
    "event_id",
    "offer_id",
    "created_at",
    "created_by",
)


def code_from_row(row: DiscountCodeRow) -> DiscountCode:
    return DiscountCode(id=row.id, used=row.used, **{name: getattr(row, name) for name in _FIELDS})


def _stored(text: str) -> str | None:
    try:
        return normalize_code(text)
    except DomainError:
        return None


class SqlDiscountCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def _code_id(self, code: str) -> int | None:
        stored = _stored(code)
        if stored is None:
            return None
        return await self._db.scalar(select(DiscountCodeRow.id).where(DiscountCodeRow.code == stored))

    async def get(self, code: str) -> DiscountCode | None:
        stored = _stored(code)
        if stored is None:
            return None
        row = await self._db.scalar(
            select(DiscountCodeRow).where(DiscountCodeRow.code == stored).execution_options(populate_existing=True)
        )
        return code_from_row(row) if row is not None else None

    async def add(self, code: DiscountCode) -> DiscountCode | None:
        values: dict[str, Any] = {name: getattr(code, name) for name in _FIELDS}
        statement = (
            insert_on_conflict(self._db, DiscountCodeRow)
            .values(**values, used=0)
            .on_conflict_do_nothing(index_elements=[DiscountCodeRow.code])
            .returning(DiscountCodeRow.id)
        )
        code_id = await self._db.scalar(statement)
        if code_id is None:
            return None
        return DiscountCode(id=code_id, used=0, **values)

    async def uses_by(self, code: str, user_id: int) -> int:
        code_id = await self._code_id(code)
        if code_id is None:
            return 0
        count = await self._db.scalar(
            select(func.count())
            .select_from(DiscountCodeUseRow)
            .where(DiscountCodeUseRow.code_id == code_id, DiscountCodeUseRow.user_id == user_id)
        )
        return int(count or 0)

    async def record_use(self, code: str, user_id: int, order_id: int | None, now: datetime) -> bool:
        code_id = await self._code_id(code)
        if code_id is None:
            return False
        use_id = await self._db.scalar(
            insert_on_conflict(self._db, DiscountCodeUseRow)
            .values(code_id=code_id, user_id=user_id, order_id=order_id, used_at=now)
            .on_conflict_do_nothing(index_elements=[DiscountCodeUseRow.code_id, DiscountCodeUseRow.user_id])
            .returning(DiscountCodeUseRow.id)
        )
        if use_id is None:
            return False  # the guest's use is there already
        counted = await changed_rows(
            self._db,
            update(DiscountCodeRow)
            .where(
                DiscountCodeRow.id == code_id,
                or_(DiscountCodeRow.max_uses.is_(None), DiscountCodeRow.used < DiscountCodeRow.max_uses),
            )
            .values(used=DiscountCodeRow.used + 1)
            .execution_options(synchronize_session=False),
        )
        if counted != 1:
            await self._db.execute(delete(DiscountCodeUseRow).where(DiscountCodeUseRow.id == use_id))
            return False
        return True

    async def release_use(self, code: str, order_id: int) -> bool:
        code_id = await self._code_id(code)
        if code_id is None:
            return False
        released = await changed_rows(
            self._db,
            delete(DiscountCodeUseRow)
            .where(DiscountCodeUseRow.code_id == code_id, DiscountCodeUseRow.order_id == order_id)
            .execution_options(synchronize_session=False),
        )
        if not released:
            return False
        await self._db.execute(
            update(DiscountCodeRow)
            .where(DiscountCodeRow.id == code_id, DiscountCodeRow.used > 0)
            .values(used=DiscountCodeRow.used - released)
            .execution_options(synchronize_session=False)
        )
        return True
