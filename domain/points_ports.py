"""What the domain needs from storage for loyalty points (domain/model/points.py), reached as ``uow.points``;
``bot/storage/points.py`` implements it, ``tests/fake_points.py`` fakes it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.model.points import PointsEntry, PointsReason, PointsRule, Referral


class PointsRepository(Protocol):
    async def balance(self, user_id: int, lock: bool = False) -> int:
        """The sum of the guest's ledger; ``lock``: hold the guest's row until the commit, so that two checkouts of
        theirs at once cannot both spend the same points (the second waits and reads the first's redemption)."""

    async def add(self, entry: PointsEntry) -> bool:
        """Record ``entry``; False (nothing written) when that movement is recorded already: one entry per order and
        reason, one referral bonus per guest and friend."""

    async def history(self, user_id: int, limit: int) -> Sequence[PointsEntry]:
        """The guest's latest entries, newest first."""

    async def of_order(self, order_id: int, reason: PointsReason) -> PointsEntry | None:
        """The order's entry of ``reason``, if any."""

    async def rule(self, region_id: int, organiser_id: int) -> PointsRule:
        """The catalog's points rule for an event of ``organiser_id`` in ``region_id`` (no rule: earns nothing)."""

    async def referral(self, user_id: int) -> Referral | None:
        """The guest's referral row (their link's token and who invited them), if they have one."""

    async def add_referral(self, referral: Referral) -> bool:
        """Create the guest's referral row; False (nothing written) when they have one or the token is taken."""

    async def by_token(self, token: str) -> Referral | None:
        """The referral row whose link has ``token``."""

    async def link(self, user_id: int, referred_by: int, now: datetime) -> bool:
        """Record who invited the guest (whose row exists); False when someone is recorded already."""

    async def forget(self, user_id: int) -> None:
        """The guest deleted their data: their ledger and their referral row go (a friend's rows stay)."""
