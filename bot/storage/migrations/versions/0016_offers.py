"""issue 15: offers, opt-out and discount codes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:20:00

``offers``: what operators sent with ``/offer`` (texts per language, event, segment, until when guests see it);
``offer_deliveries``: which guest got which offer (once each: the key; gone with the guest's data);
``discount_codes`` and ``discount_code_uses`` (once per code and guest); ``users.offers_opt_out``: the guest turned
offers off (default: on, see docs/design.md, "Offers").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table on SQLite)
    op.add_column("users", sa.Column("offers_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_offers_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index("ix_offers_status", "offers", ["status"])
    op.create_table(
        "offer_deliveries",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_offer_deliveries_offer_id_offers")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_offer_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("offer_id", "user_id", name=op.f("pk_offer_deliveries")),
    )
    op.create_index("ix_offer_deliveries_user_id", "offer_deliveries", ["user_id"])
    op.create_table(
        "discount_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_discount_codes_event_id_events")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_discount_codes_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_discount_codes_code")),
    )
    op.create_table(
        "discount_code_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"], ["discount_codes.id"], name=op.f("fk_discount_code_uses_code_id_discount_codes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_code_uses")),
        sa.UniqueConstraint("code_id", "user_id", name="uq_discount_code_uses_code_user"),
    )
    op.create_index(op.f("ix_discount_code_uses_order_id"), "discount_code_uses", ["order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_discount_code_uses_order_id"), table_name="discount_code_uses")
    op.drop_table("discount_code_uses")
    op.drop_table("discount_codes")
    op.drop_index("ix_offer_deliveries_user_id", table_name="offer_deliveries")
    op.drop_table("offer_deliveries")
    op.drop_index("ix_offers_status", table_name="offers")
    op.drop_table("offers")
    op.drop_column("users", "offers_opt_out")
