"""SQLAlchemy implementation of ``domain.points_ports.PointsRepository``: the points ledger, the catalog's points
rules and the guests' referral links (bot/storage/loyalty_tables.py).

Each movement is one INSERT ... ON CONFLICT DO NOTHING on the ledger's unique keys, so a repeated movement (the job
run twice, two transactions at once) writes nothing and the transaction goes on. A checkout that spends points locks
the guest's ``users`` row first (PostgreSQL; SQLite's write transactions take turns anyway), so two checkouts of the
same guest cannot both spend the same balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.loyalty_tables import PointsEntryRow, PointsRuleRow, ReferralRow
from bot.storage.tables import UserRow
from domain.model.points import PointsEntry, PointsReason, PointsRule, Referral


def entry_from_row(row: PointsEntryRow) -> PointsEntry:
    return PointsEntry(
        id=row.id,
        user_id=row.user_id,
        amount=row.amount,
        reason=PointsReason(row.reason),
        at=row.created_at,
        order_id=row.order_id,
        friend_id=row.friend_id,
    )


def _referral(row: ReferralRow) -> Referral:
    return Referral(row.user_id, row.token, row.referred_by, row.linked_at)


class SqlPointsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def balance(self, user_id: int, lock: bool = False) -> int:
        if lock:
            await self._db.execute(select(UserRow.id).where(UserRow.id == user_id).with_for_update())
        total = await self._db.scalar(select(func.sum(PointsEntryRow.amount)).where(PointsEntryRow.user_id == user_id))
        return int(total or 0)

    async def add(self, entry: PointsEntry) -> bool:
        statement = (
            insert_on_conflict(self._db, PointsEntryRow)
            .values(
                user_id=entry.user_id,
                amount=entry.amount,
                reason=entry.reason.value,
                order_id=entry.order_id,
                friend_id=entry.friend_id,
                created_at=entry.at,
            )
            .on_conflict_do_nothing()
            .returning(PointsEntryRow.id)
        )
        return await self._db.scalar(statement) is not None

    async def history(self, user_id: int, limit: int) -> Sequence[PointsEntry]:
        rows = await self._db.scalars(
            select(PointsEntryRow)
            .where(PointsEntryRow.user_id == user_id)
            .order_by(PointsEntryRow.id.desc())
            .limit(limit)
        )
        return [entry_from_row(row) for row in rows]

    async def of_order(self, order_id: int, reason: PointsReason) -> PointsEntry | None:
        row = await self._db.scalar(
            select(PointsEntryRow).where(PointsEntryRow.order_id == order_id, PointsEntryRow.reason == reason.value)
        )
        return entry_from_row(row) if row is not None else None

    async def rule(self, region_id: int, organiser_id: int) -> PointsRule:
        rows = (
            await self._db.scalars(
                select(PointsRuleRow).where(
                    or_(PointsRuleRow.region_id == region_id, PointsRuleRow.organiser_id == organiser_id)
                )
            )
        ).all()
        region = next((r for r in rows if r.region_id == region_id), None)
        organiser = next((r for r in rows if r.organiser_id == organiser_id), None)
        percent = organiser.earn_percent if organiser and organiser.earn_percent is not None else None
        if percent is None:
            percent = region.earn_percent if region and region.earn_percent is not None else 0
        bonus = region.referral_bonus if region and region.referral_bonus is not None else 0
        return PointsRule(earn_percent=percent, referral_bonus=bonus)

    async def referral(self, user_id: int) -> Referral | None:
        row = await self._db.get(ReferralRow, user_id, populate_existing=True)
        return _referral(row) if row is not None else None

    async def add_referral(self, referral: Referral) -> bool:
        statement = (
            insert_on_conflict(self._db, ReferralRow)
            .values(
                user_id=referral.user_id,
                token=referral.token,
                referred_by=referral.referred_by,
                linked_at=referral.linked_at,
            )
            .on_conflict_do_nothing()
            .returning(ReferralRow.user_id)
        )
        return await self._db.scalar(statement) is not None

    async def by_token(self, token: str) -> Referral | None:
        row = await self._db.scalar(select(ReferralRow).where(ReferralRow.token == token))
        return _referral(row) if row is not None else None

    async def link(self, user_id: int, referred_by: int, now: datetime) -> bool:
        statement = (
            update(ReferralRow)
            .where(ReferralRow.user_id == user_id, ReferralRow.referred_by.is_(None))
            .values(referred_by=referred_by, linked_at=now)
        )
        return await changed_rows(self._db, statement) == 1

    async def forget(self, user_id: int) -> None:
        await self._db.execute(delete(PointsEntryRow).where(PointsEntryRow.user_id == user_id))
        await self._db.execute(delete(ReferralRow).where(ReferralRow.user_id == user_id))
