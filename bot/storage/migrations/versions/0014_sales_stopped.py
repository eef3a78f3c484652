"""issue 14: an organiser's 'stop sales' flag on a session; what the bot set on Telegram about itself

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:20:00

``event_sessions.sales_stopped``: the organiser stopped the session's sales (``/sessions``). The seat-taking UPDATE
refuses such a session, so a seat a cancellation frees later is not sold (before, stopping set the capacity to the
seats held, and a freed seat went back on sale). Sessions stopped the old way keep their lowered capacity.

``bot_profile``: what the bot last set on Telegram about itself (its descriptions per language, each organiser chat's
command menu), so a start asks Telegram again only for what changed (bot/bot_profile.py, bot/organiser_menus.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table on SQLite: that would drop its triggers)
    op.add_column("event_sessions", sa.Column("sales_stopped", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "bot_profile",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_profile")),
    )


def downgrade() -> None:
    op.drop_table("bot_profile")
    op.drop_column("event_sessions", "sales_stopped")
