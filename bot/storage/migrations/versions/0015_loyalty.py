"""issue 15: loyalty points ledger and referrals

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:20:00

``points_ledger``: every movement of a guest's points (earned, reversed, redeemed, returned, referral), one per
order and reason and one referral bonus per guest and friend (the unique keys make each movement happen once);
``points_rules``: the catalog's ``points`` of a region or an organiser; ``referrals``: a guest's referral link token
and who invited them. ``orders`` gains what checkout took off its total: ``points_used``, ``discount_code`` and
``code_discount_minor`` (domain/model/points.py, domain/rules/checkout.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table on SQLite: that would drop its triggers)
    op.add_column("orders", sa.Column("points_used", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("orders", sa.Column("discount_code", sa.String(length=32), nullable=True))
    op.add_column("orders", sa.Column("code_discount_minor", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("friend_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_points_ledger_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_ledger")),
        sa.UniqueConstraint("order_id", "reason", name="uq_points_ledger_order_reason"),
        sa.UniqueConstraint("user_id", "reason", "friend_id", name="uq_points_ledger_user_reason_friend"),
    )
    op.create_index("ix_points_ledger_user_id", "points_ledger", ["user_id", "id"])
    op.create_table(
        "points_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("earn_percent", sa.Integer(), nullable=True),
        sa.Column("referral_bonus", sa.Integer(), nullable=True),
        sa.CheckConstraint("(region_id IS NULL) <> (organiser_id IS NULL)", name=op.f("ck_points_rules_one_owner")),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_points_rules_region_id_regions")),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["organisers.id"], name=op.f("fk_points_rules_organiser_id_organisers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rules")),
        sa.UniqueConstraint("region_id", name=op.f("uq_points_rules_region_id")),
        sa.UniqueConstraint("organiser_id", name=op.f("uq_points_rules_organiser_id")),
    )
    op.create_table(
        "referrals",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("referred_by", sa.BigInteger(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("token", name=op.f("uq_referrals_token")),
    )


def downgrade() -> None:
    op.drop_table("referrals")
    op.drop_table("points_rules")
    op.drop_index("ix_points_ledger_user_id", table_name="points_ledger")
    op.drop_table("points_ledger")
    op.drop_column("orders", "code_discount_minor")
    op.drop_column("orders", "discount_code")
    op.drop_column("orders", "points_used")
