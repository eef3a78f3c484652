"""the catalog's version also moves when an organiser's own settings change (organiser_extras)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:30:00

The organisers' extras (their booking cutoff, own texts, Book button) are read by every booking, event card, order
card and most outbox messages; the catalog cache (bot/storage/catalog_cache.py) now keeps them too, so a change must
move the version as a change of the four catalog tables does (migration 0006's function on PostgreSQL).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "organiser_extras"
BUMP = "UPDATE catalog_version SET version = version + 1 WHERE id = 1"
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_bump_catalog_version AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
        )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER {TABLE}_{event.lower()}_bump_catalog_version AFTER {event} ON {TABLE} BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_bump_catalog_version ON {TABLE}")
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER {TABLE}_{event.lower()}_bump_catalog_version")
