"""outbox: a chat's open rows by id, for the claim that keeps each chat's messages in the order they were made

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:10:00

A row given back after a failed attempt waits (its ``due_at`` moves on); a later row of the same chat must not
overtake it. The claim asks whether an earlier open row of the chat is waiting: this index answers that.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    open_rows = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_outbox_open_by_chat", "outbox", ["chat_id", "id"], sqlite_where=open_rows, postgresql_where=open_rows
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_open_by_chat", table_name="outbox")
