"""indexes for the deadline jobs' claims: orders by state and deadline

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:40:00

The jobs that nudge a silent organiser, remind an unpaid tourist and expire an overdue order each claim the next
order whose deadline passed. Without an index for that, every claim read the whole orders table: at 1.2M orders one
pass of a job took 16-20 s (bench/memory.py). Building them on a large table takes a while, once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_booking_confirm_by", "orders", ["booking", "confirm_by"])
    op.create_index("ix_orders_booking_payment_pay_by", "orders", ["booking", "payment", "pay_by"])
    reminded = sa.text("pay_reminded_at IS NOT NULL")  # only reminded orders expire: the unreminded backlog is skipped
    op.create_index(
        "ix_orders_booking_payment_hold_until",
        "orders",
        ["booking", "payment", "hold_until"],
        sqlite_where=reminded,
        postgresql_where=reminded,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_booking_payment_hold_until", table_name="orders")
    op.drop_index("ix_orders_booking_payment_pay_by", table_name="orders")
    op.drop_index("ix_orders_booking_confirm_by", table_name="orders")
