"""check-in and the day itself: order_days (checked in, running late) and session_days (at the meeting point)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:30:00

``order_days`` holds what the day adds to an order (when it was checked in and by whom, when the tourist said they
are running late), ``session_days`` what it adds to a session (when the organiser said they are at the meeting
point). Both rows are made by their first mark. No index for the attendance job: it walks ``event_sessions`` by
``starts_at`` (``ix_event_sessions_starts_at``) over the last week only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_days",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.String(length=64), nullable=True),
        sa.Column("running_late_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_days_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_days")),
    )
    op.create_table(
        "session_days",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at_meeting_point_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["event_sessions.id"], name=op.f("fk_session_days_session_id_event_sessions")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_days")),
    )


def downgrade() -> None:
    op.drop_table("session_days")
    op.drop_table("order_days")
