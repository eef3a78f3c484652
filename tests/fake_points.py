"""The in-memory :class:`domain.points_ports.PointsRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.points_ledger``, ``points_rules`` and ``referrals``). It keeps the SQL contracts: one ledger entry per
order and reason and one referral bonus per guest and friend (a repeat writes nothing), the organiser's earn
percentage over its region's, one link per guest."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.model.points import PointsEntry, PointsReason, PointsRule, Referral

if TYPE_CHECKING:
    from tests.fakes import FakeState

REGION = "region"
ORGANISER = "organiser"


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


def _key(entry: PointsEntry) -> tuple[object, ...]:
    if entry.order_id is not None:
        return ("order", entry.order_id, entry.reason)
    return ("friend", entry.user_id, entry.reason, entry.friend_id)


class FakePointsRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def balance(self, user_id: int, lock: bool = False) -> int:
        return sum(e.amount for e in self._state.points_ledger if e.user_id == user_id)

    async def add(self, entry: PointsEntry) -> bool:
        ledger = self._state.points_ledger
        keyed = entry.friend_id is not None or entry.order_id is not None  # NULLs are distinct in SQL's keys
        if keyed and any(_key(e) == _key(entry) for e in ledger):
            return False
        ledger.append(dataclasses.replace(entry, id=len(ledger) + 1))
        return True

    async def history(self, user_id: int, limit: int) -> Sequence[PointsEntry]:
        mine = [e for e in self._state.points_ledger if e.user_id == user_id]
        return sorted(mine, key=lambda e: e.id or 0, reverse=True)[:limit]

    async def of_order(self, order_id: int, reason: PointsReason) -> PointsEntry | None:
        return next((e for e in self._state.points_ledger if e.order_id == order_id and e.reason is reason), None)

    async def rule(self, region_id: int, organiser_id: int) -> PointsRule:
        rules = self._state.points_rules
        region = rules.get((REGION, region_id), PointsRule())
        organiser = rules.get((ORGANISER, organiser_id))
        percent = organiser.earn_percent if organiser is not None else region.earn_percent
        return PointsRule(percent, region.referral_bonus)

    async def referral(self, user_id: int) -> Referral | None:
        return self._state.referrals.get(user_id)

    async def add_referral(self, referral: Referral) -> bool:
        referrals = self._state.referrals
        if referral.user_id in referrals or any(r.token == referral.token for r in referrals.values()):
            return False
        referrals[referral.user_id] = referral
        return True

    async def by_token(self, token: str) -> Referral | None:
        return next((r for r in self._state.referrals.values() if r.token == token), None)

    async def link(self, user_id: int, referred_by: int, now: datetime) -> bool:
        mine = self._state.referrals.get(user_id)
        if mine is None or mine.referred_by is not None:
            return False
        self._state.referrals[user_id] = dataclasses.replace(mine, referred_by=referred_by, linked_at=now)
        return True

    async def forget(self, user_id: int) -> None:
        state = self._state
        state.points_ledger = [e for e in state.points_ledger if e.user_id != user_id]
        state.referrals.pop(user_id, None)
