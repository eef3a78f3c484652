"""the last question's text on its thread (question_threads.last_question), for the desk's question card

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:00:00

Keeps existing data: threads asked before this revision have no text (their cards show the time only); the text of
a relayed question is not copied back from the outbox.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("question_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_question", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question_threads", schema=None) as batch_op:
        batch_op.drop_column("last_question")
