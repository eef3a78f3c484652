"""Bounds on the numbers the desk's buttons carry.

A press's callback data comes from the client and may be forged: a number outside its bounds does not parse, so
the press matches no handler here and falls through to the fallback, which answers it. No query then sees an id
the database cannot hold, a day that does not exist or a page far past the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

ROW_ID = (0, 2**53)  # a database id; 0 where the field means "none"
DAY = (0, date(9000, 1, 1).toordinal())  # a proleptic ordinal; 0 where the field means "no day"
PAGE = (0, 10_000)

Bounds = Mapping[str, tuple[int, int]]  # an int field's name -> its inclusive (low, high)


class Bounded:
    """Mixed into a ``CallbackData`` before it, with ``BOUNDS: ClassVar[Bounds] = {"user": ROW_ID, …}``."""

    BOUNDS: ClassVar[Bounds] = {}

    def model_post_init(self, context: Any, /) -> None:
        for name, (low, high) in self.BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name}={value} is outside [{low}, {high}]")
