"""What the domain needs from storage for discount codes (domain/model/discount_codes.py), reached as
``uow.discount_codes``; ``bot/storage/discount_codes.py`` implements it, ``tests/fake_discount_codes.py`` fakes it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.model.discount_codes import DiscountCode


class DiscountCodeRepository(Protocol):
    async def get(self, code: str) -> DiscountCode | None:
        """The code, whatever the case it is given in (None: no such code, or text that cannot be one)."""

    async def add(self, code: DiscountCode) -> DiscountCode | None:
        """Store a new code (its ``used`` count starts at 0); None (nothing written) if the text is taken."""

    async def uses_by(self, code: str, user_id: int) -> int:
        """How many uses of the code the guest has recorded (0 or 1: once per guest)."""

    async def record_use(self, code: str, user_id: int, order_id: int | None, now: datetime) -> bool:
        """Take one use of the code for the guest (and their order), atomically: False and nothing written if the
        guest has used it already or no use is left (also when a concurrent transaction took the last one or the
        guest's use: the storage decides, not an earlier read). Does not check validity: :func:`check_code` first."""

    async def release_use(self, code: str, order_id: int) -> bool:
        """Give the use the order took back (the order was cancelled or refunded before it counted); False if the
        order had none."""
