"""waitlist: tourists waiting for seats of sold-out sessions; the organiser's claim window

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00

A ``waitlist`` row per tourist and session they wait for (at most one open: waiting or offered); an organiser's
``waitlist_claim_window_s`` (15 minutes unless the catalog says otherwise).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('waiting', 'offered')"


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table on SQLite: that would drop its catalog-version triggers)
    op.add_column(
        "organisers", sa.Column("waitlist_claim_window_s", sa.Integer(), nullable=False, server_default="900")
    )
    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("seats > 0", name=op.f("ck_waitlist_seats_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["event_sessions.id"], name=op.f("fk_waitlist_session_id_event_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist")),
    )
    op.create_index(op.f("ix_waitlist_user_id"), "waitlist", ["user_id"])
    op.create_index(
        "uq_waitlist_open_user_session",
        "waitlist",
        ["session_id", "user_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    op.create_index("ix_waitlist_status_session_id", "waitlist", ["status", "session_id", "id"])
    op.create_index("ix_waitlist_status_offered_until", "waitlist", ["status", "offered_until"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_status_offered_until", table_name="waitlist")
    op.drop_index("ix_waitlist_status_session_id", table_name="waitlist")
    op.drop_index("uq_waitlist_open_user_session", table_name="waitlist")
    op.drop_index(op.f("ix_waitlist_user_id"), table_name="waitlist")
    op.drop_table("waitlist")
    op.drop_column("organisers", "waitlist_claim_window_s")
