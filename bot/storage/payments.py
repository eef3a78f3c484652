"""SQLAlchemy implementation of ``domain.ports.PaymentRepository``: Telegram payments, recorded once per charge id
(a financial record: kept when personal data is shredded)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.tables import PaymentRow
from domain.model.payments import Payment


def payment_from_row(row: PaymentRow) -> Payment:
    return Payment(
        order_id=row.order_id,
        telegram_charge_id=row.telegram_charge_id,
        provider_charge_id=row.provider_charge_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        paid_at=row.paid_at,
        applied=row.applied,
        payer_id=row.payer_id,
        payer_name=row.payer_name,
    )


class SqlPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, payment: Payment) -> bool:
        # INSERT ... ON CONFLICT DO NOTHING: a concurrent insert of the same charge id makes this statement wait for
        # that transaction and then insert nothing, without aborting ours (a plain INSERT would, on PostgreSQL).
        inserted = await self._db.scalar(
            insert_on_conflict(self._db, PaymentRow)
            .values(
                order_id=payment.order_id,
                telegram_charge_id=payment.telegram_charge_id,
                provider_charge_id=payment.provider_charge_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                paid_at=payment.paid_at,
                applied=payment.applied,
                payer_id=payment.payer_id,
                payer_name=payment.payer_name,
            )
            .on_conflict_do_nothing(index_elements=[PaymentRow.telegram_charge_id])
            .returning(PaymentRow.id)
        )
        return inserted is not None

    async def by_charge_id(self, telegram_charge_id: str) -> Payment | None:
        row = await self._db.scalar(select(PaymentRow).where(PaymentRow.telegram_charge_id == telegram_charge_id))
        return payment_from_row(row) if row else None

    async def for_order(self, order_id: int) -> Sequence[Payment]:
        rows = await self._db.scalars(select(PaymentRow).where(PaymentRow.order_id == order_id).order_by(PaymentRow.id))
        return [payment_from_row(r) for r in rows]

    async def mark_refunded(self, order_id: int, now: datetime) -> int:
        return await changed_rows(
            self._db,
            update(PaymentRow)
            .where(PaymentRow.order_id == order_id, PaymentRow.applied.is_(False), PaymentRow.refunded_at.is_(None))
            .values(refunded_at=now)
            .execution_options(synchronize_session=False),
        )
