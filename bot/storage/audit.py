"""SQLAlchemy implementation of ``domain.ports.AuditRepository``: the audit log, written in the same transaction
as the change it records and never deleted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import AuditRow
from domain.model.messages import AuditEntry


def audit_entry_from_row(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        actor=row.actor,
        action=row.action,
        order_id=row.order_id,
        before=dict(row.before or {}),
        after=dict(row.after or {}),
    )


_INSERT_ENTRY = insert(AuditRow)  # built once; the values come as parameters


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, entry: AuditEntry) -> None:
        db = await self._db.connection()  # a Core INSERT: nothing reads the row back in this transaction
        await db.execute(
            _INSERT_ENTRY,
            {
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "order_id": entry.order_id,
                "before": entry.before,
                "after": entry.after,
            },
        )

    async def for_order(self, order_id: int, limit: int) -> Sequence[AuditEntry]:
        rows = await self._db.scalars(
            select(AuditRow).where(AuditRow.order_id == order_id).order_by(AuditRow.id.desc()).limit(limit)
        )
        return [audit_entry_from_row(r) for r in rows]
