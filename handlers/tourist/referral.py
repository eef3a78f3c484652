"""A referral link opened (issue 15): ``/start ref-<token>``. A new guest (joined within a day, no bookings yet) is
linked to the link's owner, once; both get bonus points after the new guest's first attended booking
(domain/use_cases/points.py). One's own link, a second link, or a guest who is not new changes nothing and is told
why; the main menu follows either way."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from domain.model.points import REFERRAL_PREFIX, REFERRAL_UNKNOWN, ReferralRefused, referral_token_of
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.points import join_by_referral
from handlers.tourist.keyboards import main_menu_kb
from handlers.tourist.points_screens import referral_refusal
from handlers.tourist.start import greeting
from handlers.ui import Translator

router = Router(name=__name__)


@router.message(CommandStart(deep_link=True, magic=F.args.startswith(REFERRAL_PREFIX)))
async def cmd_start_referral(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    user: User,
) -> None:
    await state.clear()
    token = referral_token_of(command.args or "")
    try:
        if token is None:
            raise ReferralRefused(reason=REFERRAL_UNKNOWN)
        await join_by_referral(uow, user.id, token, clock.now())
        note = "🤝 " + tr.gettext(
            "Welcome! You joined with a friend's invitation: after your first booking that you attend, you both get "
            "bonus points."
        )
    except ReferralRefused as refused:
        note = referral_refusal(tr, refused.data.get("reason"))
    await message.answer(f"{greeting(tr, user.first_name)}\n\n{note}", reply_markup=main_menu_kb(tr))
