"""Buttons under a booking request: the same as replying + or −."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class RequestAction(enum.StrEnum):
    CONFIRM = "y"
    DECLINE = "n"


class RequestCb(CallbackData, prefix="r"):
    action: RequestAction
    order: int
