"""Importing the catalog's loyalty rules (issue 15): each region's and organiser's ``points`` in the file becomes its
row in ``points_rules``; an entry of the file without ``points`` has none (its row goes). Entries the file does not
mention keep theirs. Runs inside the import's transaction (:mod:`bot.catalog.store`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.schema import Catalog
from bot.storage.db import insert_on_conflict
from bot.storage.loyalty_tables import PointsRuleRow


async def _put(s: AsyncSession, owner: str, owner_id: int, values: dict[str, Any] | None) -> None:
    column = getattr(PointsRuleRow, owner)
    if values is None:
        await s.execute(delete(PointsRuleRow).where(column == owner_id))
        return
    statement = insert_on_conflict(s, PointsRuleRow).values({owner: owner_id, **values})
    await s.execute(statement.on_conflict_do_update(index_elements=[column], set_=values))


async def write_points_rules(
    s: AsyncSession, catalog: Catalog, region_ids: Mapping[str, int], organiser_ids: Mapping[str, int]
) -> None:
    for region in catalog.regions:
        points = region.points
        values = (
            None if points is None else {"earn_percent": points.earn_percent, "referral_bonus": points.referral_bonus}
        )
        await _put(s, "region_id", region_ids[region.code], values)
    for organiser in catalog.organisers:
        rule = organiser.points
        await _put(
            s,
            "organiser_id",
            organiser_ids[organiser.code],
            None if rule is None else {"earn_percent": rule.earn_percent},
        )
