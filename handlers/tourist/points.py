"""Profile → "My points" (issue 15): the balance (with what it is worth), the latest movements in the guest's time
zone, how points work, and the guest's referral link (with a copy button)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from domain.model.users import User
from domain.ports import UnitOfWork
from domain.use_cases.points import points_overview
from handlers.tourist.callbacks import ProfileAction, ProfileCb
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.points_screens import points_screen, referral_link
from handlers.ui import Translator

router = Router(name=__name__)

DEFAULT_TIMEZONE = "UTC"  # a guest who never picked a region


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.POINTS))
async def on_points_open(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, bot: Bot
) -> None:
    await state.clear()
    overview = await points_overview(uow, user.id)
    me = await bot.me()
    link = referral_link(me.username or "", overview.token)
    await answer_query(query)
    await show(query, *points_screen(tr, overview, link, overview.timezone or DEFAULT_TIMEZONE, overview.currency))
