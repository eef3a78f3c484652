"""Profile → Offers (issue 15): the current offers the guest received, in their language, and the toggle; "Stop
offers" under each offer message. Offers are on until the guest turns them off (docs/design.md, "Offers" says why)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.offers import current_offers, offers_on, set_offers
from handlers.tourist.messaging import answer_query, show, show_below
from handlers.tourist.offer_screens import OfferAction, OfferCb, offer_view, offers_screen
from handlers.ui import Translator

router = Router(name=__name__)


async def _screen(uow: UnitOfWork, user: User, tr: Translator, clock: Clock) -> tuple[str, InlineKeyboardMarkup]:
    offers = await current_offers(uow, user.id, clock.now())
    on = await offers_on(uow, user.id)
    async with uow.read():
        views = [await offer_view(uow, offer, tr.language, user.region_id) for offer in offers]
    return offers_screen(tr, views, on)


@router.callback_query(OfferCb.filter(F.action == OfferAction.LIST))
async def on_offers_open(query: CallbackQuery, uow: UnitOfWork, user: User, tr: Translator, clock: Clock) -> None:
    text, markup = await _screen(uow, user, tr, clock)
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(OfferCb.filter(F.action.in_({OfferAction.ON, OfferAction.OFF})))
async def on_offers_toggle(
    query: CallbackQuery, callback_data: OfferCb, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    on = callback_data.action is OfferAction.ON
    await set_offers(uow, user.id, on)
    text, markup = await _screen(uow, user, tr, clock)
    await answer_query(query, tr.gettext("Offers are on.") if on else tr.gettext("Offers are off."))
    await show(query, text, markup)


@router.callback_query(OfferCb.filter(F.action == OfferAction.STOP))
async def on_offers_stop(query: CallbackQuery, uow: UnitOfWork, user: User, tr: Translator, clock: Clock) -> None:
    await set_offers(uow, user.id, False)
    text, markup = await _screen(uow, user, tr, clock)
    await answer_query(query, tr.gettext("Offers are off. We will not send you any more."))
    await show_below(query, text, markup)
