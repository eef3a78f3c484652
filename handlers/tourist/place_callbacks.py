"""The buttons of places and media (issue 15): the hotel's page, the area guide, an event's photos, an order's
calendar file. Ids and enums only; each handler re-checks on the server what the button claims."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class HotelAction(enum.StrEnum):
    PAGE = "p"  # the guest's hotel's page
    MAP = "m"  # its location as a map pin, below the page


class HotelPageCb(CallbackData, prefix="hp"):
    """About the guest's own hotel (the one in their profile): no hotel id to forge."""

    action: HotelAction


class AreaCb(CallbackData, prefix="ar"):
    """A region's area guide; ``region`` 0: the guest's own region (their hotel's, else the one they browse);
    ``pick``: the list of regions that have one."""

    region: int = 0
    pick: bool = False


class PhotosCb(CallbackData, prefix="ph"):
    event: int


class CalendarCb(CallbackData, prefix="ic"):
    order: int
