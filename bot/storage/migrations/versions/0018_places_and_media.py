"""issue 15: meeting-point coordinates, photos, hotel and area pages

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:20:00

RESERVED: filled in by the work on issue 15; until then it changes nothing.
"""

from collections.abc import Sequence

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
