"""inbox claims: each update's chat and who handles it, so several replicas share one inbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:30:00

Any replica may handle any stored update; a chat's updates are handled one at a time, in order (bot/inbox.py). A
row being handled is ``handling``, ``claimed_by`` the replica that took it until ``claimed_until``; a pending row
given back after a transient failure waits until ``claimed_until``. Rows stored before this revision belong to
chat 0: they are handled one after the other, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as table:
        table.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=False, server_default="0"))
        table.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    open_rows = sa.text("status IN ('pending', 'handling')")
    op.create_index(
        "ix_inbox_open_by_chat",
        "inbox",
        ["chat_id", "update_id"],
        sqlite_where=open_rows,
        postgresql_where=open_rows,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_open_by_chat", table_name="inbox")
    with op.batch_alter_table("inbox") as table:
        table.drop_column("claimed_until")
        table.drop_column("claimed_by")
        table.drop_column("chat_id")
