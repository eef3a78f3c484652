"""organiser settings: the extras an organiser sets in /settings, and the catalog values they changed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00

``organiser_extras`` holds what the catalog file does not carry (the booking cutoff, the organiser's texts, the Book
button); ``organiser_changes`` which of the catalog's values an organiser changed in the chat since the import that
set them, so that the next import keeps them (or reports replacing them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organiser_extras",
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("booking_cutoff_s", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("book_text", sa.JSON(), nullable=False),
        sa.Column("book_style", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["organisers.id"], name=op.f("fk_organiser_extras_organiser_id_organisers")
        ),
        sa.PrimaryKeyConstraint("organiser_id", name=op.f("pk_organiser_extras")),
    )
    op.create_table(
        "organiser_changes",
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("catalog_value", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["organisers.id"], name=op.f("fk_organiser_changes_organiser_id_organisers")
        ),
        sa.PrimaryKeyConstraint("organiser_id", "key", name=op.f("pk_organiser_changes")),
    )


def downgrade() -> None:
    op.drop_table("organiser_changes")
    op.drop_table("organiser_extras")
