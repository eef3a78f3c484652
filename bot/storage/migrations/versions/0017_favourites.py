"""issue 15: favourites and their alerts

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:20:00

A ``favourites`` row per guest and event they starred (with its alerts switch and the highest session id the guest
was told about), gone with the guest's data; ``favourite_sold_out``: the sold-out sessions of favourite events,
remembered until they have seats again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alerts", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("seen_session_id", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_favourites_event_id_events")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_favourites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "event_id", name=op.f("pk_favourites")),
    )
    op.create_index("ix_favourites_event_id", "favourites", ["event_id"])
    op.create_table(
        "favourite_sold_out",
        sa.Column("session_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["event_sessions.id"], name=op.f("fk_favourite_sold_out_session_id_event_sessions")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_favourite_sold_out")),
    )


def downgrade() -> None:
    op.drop_table("favourite_sold_out")
    op.drop_index("ix_favourites_event_id", table_name="favourites")
    op.drop_table("favourites")
