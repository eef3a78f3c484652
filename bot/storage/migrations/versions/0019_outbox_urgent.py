"""outbox: urgent rows go ahead of the queue

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:00:00

``outbox.urgent``: a message someone must act on within a window that is already running ("It is your turn!" in a
hot on-sale's waiting room) is claimed before the rest of the queue, with its chat's earlier rows (which keep their
order): bot/storage/outbox.py. The partial index finds the few urgent rows not sent yet without reading the queue.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
    open_urgent = sa.text("urgent AND status IN ('pending', 'sending')")
    op.create_index("ix_outbox_urgent_open", "outbox", ["id"], sqlite_where=open_urgent, postgresql_where=open_urgent)


def downgrade() -> None:
    op.drop_index("ix_outbox_urgent_open", table_name="outbox")
    with op.batch_alter_table("outbox") as table:
        table.drop_column("urgent")
