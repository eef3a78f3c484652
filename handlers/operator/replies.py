"""(being written)"""

from __future__ import annotations

from aiogram import Router

from handlers.operator.access import guard

router = guard(Router(name=__name__))
