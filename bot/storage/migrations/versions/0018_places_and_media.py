"""issue 15: meeting-point coordinates, photos, hotel and area pages

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:20:00

Three tables the catalog import fills (bot/catalog/store_places.py): ``event_places`` (an event's meeting point on
the map and its photos), ``hotel_pages`` (a partner hotel's address, map point, what is free and paid, timetable
notes and sights per language) and ``region_guides`` (a region's area guide per language). One row per entry that
gives any of it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_places",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_event_places_event_id_events")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_places")),
    )
    op.create_table(
        "hotel_pages",
        sa.Column("hotel_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("free", sa.JSON(), nullable=False),
        sa.Column("paid", sa.JSON(), nullable=False),
        sa.Column("timetable", sa.JSON(), nullable=False),
        sa.Column("sights", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["hotel_id"], ["hotels.id"], name=op.f("fk_hotel_pages_hotel_id_hotels")),
        sa.PrimaryKeyConstraint("hotel_id", name=op.f("pk_hotel_pages")),
    )
    op.create_table(
        "region_guides",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("guide", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_region_guides_region_id_regions")),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_region_guides")),
    )


def downgrade() -> None:
    op.drop_table("region_guides")
    op.drop_table("hotel_pages")
    op.drop_table("event_places")
