"""issue 13: the admission window starts at delivery

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:20:00

RESERVED: filled in by the work on issue 13; until then it changes nothing.
"""

from collections.abc import Sequence

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
