"""waiting room: hot sessions (hot, sale_opens_at, admission_window), their rooms and the tourists' places

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:30:00

``event_sessions`` learns whether it is a hot on-sale; ``waiting_rooms`` holds a session's queue (its status, the
recorded seed of the pre-queue's draw, the operators' summary card) and ``room_places`` each tourist's one place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table on SQLite: that would drop its triggers)
    op.add_column("event_sessions", sa.Column("hot", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("event_sessions", sa.Column("sale_opens_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("event_sessions", sa.Column("admission_window_s", sa.Integer(), nullable=True))
    op.create_table(
        "waiting_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admission_window_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("presses", sa.Integer(), nullable=False),
        sa.Column("presses_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_version", sa.Integer(), nullable=False),
        sa.Column("summary_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_message_id", sa.BigInteger(), nullable=True),
        sa.Column("summary_figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["event_sessions.id"], name=op.f("fk_waiting_rooms_session_id_event_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_rooms")),
        sa.UniqueConstraint("session_id", name=op.f("uq_waiting_rooms_session_id")),
    )
    op.create_index("ix_waiting_rooms_status", "waiting_rooms", ["status"])
    op.create_table(
        "room_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.BigInteger(), nullable=True),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("admit_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("shown_status", sa.String(length=16), nullable=True),
        sa.Column("shown_position", sa.Integer(), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["event_sessions.id"], name=op.f("fk_room_places_session_id_event_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_places")),
        sa.UniqueConstraint("session_id", "user_id", name="uq_room_places_session_user"),
    )
    op.create_index("ix_room_places_line", "room_places", ["session_id", "status", "rank"])


def downgrade() -> None:
    op.drop_index("ix_room_places_line", table_name="room_places")
    op.drop_table("room_places")
    op.drop_index("ix_waiting_rooms_status", table_name="waiting_rooms")
    op.drop_table("waiting_rooms")
    op.drop_column("event_sessions", "admission_window_s")
    op.drop_column("event_sessions", "sale_opens_at")
    op.drop_column("event_sessions", "hot")
