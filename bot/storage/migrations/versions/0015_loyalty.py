"""issue 15: loyalty points ledger and referrals

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:20:00

RESERVED: filled in by the work on issue 15; until then it changes nothing.
"""

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
