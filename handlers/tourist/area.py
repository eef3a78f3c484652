"""The area guide of a region (issue 15): a short text per language from the catalog, from the main menu (the guest's
own region first) or the hotel page; with a way on to the region's events."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import Region, Translations, localized
from domain.model.users import User
from domain.ports import UnitOfWork
from handlers.tourist.callbacks import BrowseCb
from handlers.tourist.keyboards import home_button
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.place_callbacks import AreaCb
from handlers.ui import Translator, button

router = Router(name=__name__)


def guide_screen(region: Region, guide: Translations, others: bool, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    name = html.quote(localized(region.name, tr.language))
    text = "\n".join([f"🧭 <b>{name}</b>", "", html.quote(localized(guide, tr.language))])
    rows: list[list[InlineKeyboardButton]] = [
        [button("🗺 " + _("Events here"), BrowseCb(region=region.id, step="when"))]
    ]
    if others:
        rows.append([button("⬅️ " + _("Other regions"), AreaCb(pick=True))])
    rows.append([home_button(tr)])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def pick_screen(regions: list[Region], tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    if not regions:
        return _("There is no area guide yet. Please come back later."), InlineKeyboardMarkup(
            inline_keyboard=[[home_button(tr)]]
        )
    rows = [[button("🧭 " + localized(r.name, tr.language), AreaCb(region=r.id))] for r in regions]
    rows.append([home_button(tr)])
    return _("Which area would you like to read about?"), InlineKeyboardMarkup(inline_keyboard=rows)


async def _own_region(uow: UnitOfWork, user: User) -> int | None:
    """The guest's region: their hotel's, else the one they browse."""
    hotel = await uow.catalog.hotel(user.hotel_id) if user.hotel_id is not None else None
    return hotel.region_id if hotel is not None else user.region_id


@router.callback_query(AreaCb.filter())
async def on_area(query: CallbackQuery, callback_data: AreaCb, uow: UnitOfWork, tr: Translator, user: User) -> None:
    async with uow.read():
        guided = [r for r in [await uow.catalog.region(i) for i in await uow.places.guided_regions()] if r]
        wanted = callback_data.region or (await _own_region(uow, user) if len(guided) > 1 else None)
        if not callback_data.region and len(guided) == 1:
            wanted = guided[0].id
        if callback_data.pick:
            wanted = None
        guide = await uow.places.area_guide(wanted) if wanted else None
        region = await uow.catalog.region(wanted) if wanted else None
    if callback_data.region and (guide is None or region is None):  # a forged or stale button
        await answer_query(query, tr.gettext("There is no area guide for this region."), alert=True)
        await show(query, *pick_screen(guided, tr))
        return
    await answer_query(query)
    if guide is None or region is None:  # the guest's own region has none: the regions that do
        await show(query, *pick_screen(guided, tr))
        return
    await show(query, *guide_screen(region, guide, len(guided) > 1, tr))
