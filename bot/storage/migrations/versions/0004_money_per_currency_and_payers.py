"""money per currency and payers: orders.stray_other, payments.payer_id/payer_name, payments without an order,
longer desk card subjects (a payment's charge id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:15:00

Keeps existing data, and repairs it: money in another currency than its order's that an older version added to
``stray_minor`` as if it were the order's currency (not applied, not refunded) moves to ``stray_other`` in its own
currency.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stray_other", sa.JSON(), nullable=True))

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payer_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("payer_name", sa.String(length=128), nullable=True))
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=True)

    with op.batch_alter_table("desk_cards", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=64), type_=sa.String(length=300))
        batch_op.alter_column("open_subject", existing_type=sa.String(length=64), type_=sa.String(length=300))

    _move_foreign_stray_money()


def _move_foreign_stray_money() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT o.id, o.stray_minor, upper(p.currency), sum(p.amount_minor) FROM orders o "
            "JOIN payments p ON p.order_id = o.id "
            "WHERE p.applied = :no AND p.refunded_at IS NULL AND upper(p.currency) <> upper(o.currency) "
            "GROUP BY o.id, o.stray_minor, upper(p.currency) ORDER BY o.id"
        ),
        {"no": False},
    ).all()
    moved: dict[int, tuple[int, dict[str, int]]] = {}
    for order_id, stray_minor, currency, amount in rows:
        stray, other = moved.get(order_id, (stray_minor, {}))
        moved[order_id] = (max(stray - amount, 0), {**other, currency: int(amount)})
    for order_id, (stray, other) in moved.items():
        bind.execute(
            sa.text("UPDATE orders SET stray_minor = :stray, stray_other = :other WHERE id = :id"),
            {"stray": stray, "other": json.dumps(other), "id": order_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("desk_cards", schema=None) as batch_op:
        batch_op.alter_column("open_subject", existing_type=sa.String(length=300), type_=sa.String(length=64))
        batch_op.alter_column("subject", existing_type=sa.String(length=300), type_=sa.String(length=64))

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("payer_name")
        batch_op.drop_column("payer_id")

    # Not in a batch: SQLite (3.35+) drops a column in place, where a batch would rebuild ``orders``, which other
    # tables' foreign keys point at.
    op.drop_column("orders", "stray_other")
