"""issue 14: an organiser's 'stop sales' flag on a session

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:20:00

RESERVED: filled in by the work on issue 14; until then it changes nothing.
"""

from collections.abc import Sequence

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
