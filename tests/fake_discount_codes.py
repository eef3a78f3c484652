"""The in-memory :class:`domain.discount_ports.DiscountCodeRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.discount_codes`` / ``FakeState.discount_code_uses``). It keeps the SQL contracts: codes by their
upper-case text, one use per code and guest, never more uses than ``max_uses``, nothing written when a use is
refused."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.errors import DomainError
from domain.model.discount_codes import DiscountCode, normalize_code

if TYPE_CHECKING:
    from tests.fakes import FakeState


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


def _stored(text: str) -> str | None:
    try:
        return normalize_code(text)
    except DomainError:
        return None


class FakeDiscountCodeRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _codes(self) -> dict[str, DiscountCode]:
        return self._uow.require_open().discount_codes

    @property
    def _uses(self) -> dict[tuple[str, int], int | None]:
        """(code, user id) -> order id."""
        return self._uow.require_open().discount_code_uses

    async def get(self, code: str) -> DiscountCode | None:
        stored = _stored(code)
        return self._codes.get(stored) if stored else None

    async def add(self, code: DiscountCode) -> DiscountCode | None:
        if code.code in self._codes:
            return None
        added = dataclasses.replace(code, id=len(self._codes) + 1, used=0)
        self._codes[code.code] = added
        return added

    async def uses_by(self, code: str, user_id: int) -> int:
        stored = _stored(code)
        return 1 if stored and (stored, user_id) in self._uses else 0

    async def record_use(self, code: str, user_id: int, order_id: int | None, now: datetime) -> bool:
        stored = _stored(code)
        found = self._codes.get(stored) if stored else None
        if found is None or (found.code, user_id) in self._uses or found.uses_left == 0:
            return False
        self._uses[found.code, user_id] = order_id
        self._codes[found.code] = dataclasses.replace(found, used=found.used + 1)
        return True

    async def release_use(self, code: str, order_id: int) -> bool:
        stored = _stored(code)
        found = self._codes.get(stored) if stored else None
        key = next((k for k, o in self._uses.items() if found and k[0] == found.code and o == order_id), None)
        if found is None or key is None:
            return False
        del self._uses[key]
        self._codes[found.code] = dataclasses.replace(found, used=max(found.used - 1, 0))
        return True
