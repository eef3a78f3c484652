"""The guest's hotel page (issue 15): the partner hotel in their profile — its address, what is free and what is
paid, timetable notes and the sights around, in the guest's language — and "Show on map" (a map pin below)."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import Hotel, Region, localized
from domain.model.places import HotelPage
from domain.model.users import User
from domain.ports import UnitOfWork
from handlers.media import Venue, send_venue
from handlers.tourist.callbacks import ProfileAction, ProfileCb
from handlers.tourist.keyboards import home_button
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.place_callbacks import AreaCb, HotelAction, HotelPageCb
from handlers.ui import Translator, button

router = Router(name=__name__)


def hotel_page_text(hotel: Hotel, page: HotelPage | None, region: Region | None, tr: Translator) -> str:
    _ = tr.gettext
    lines = [f"🏨 <b>{html.quote(hotel.name)}</b>"]
    if region is not None:
        lines.append(html.quote(localized(region.name, tr.language)))
    if page is not None and page.address:
        lines.append("📍 " + html.quote(page.address))
    if hotel.discount_percent:
        lines.append("🎁 " + _("Partner discount on events: {percent}%").format(percent=hotel.discount_percent))
    sections = (
        ("🆓 " + _("Free for guests"), page.free if page else {}),
        ("💶 " + _("Paid extras"), page.paid if page else {}),
        ("🕘 " + _("Opening hours and times"), page.timetable if page else {}),
        ("🏛 " + _("Around the hotel"), page.sights if page else {}),
    )
    shown = [(heading, localized(texts, tr.language)) for heading, texts in sections if texts]
    for heading, words in shown:
        lines += ["", f"<b>{heading}</b>", html.quote(words)]
    if not shown:
        lines += ["", _("The hotel has not told us more yet. Ask at the reception, or ask our team here.")]
    return "\n".join(lines)


def hotel_page_kb(hotel: Hotel, page: HotelPage | None, has_guide: bool, tr: Translator) -> InlineKeyboardMarkup:
    _ = tr.gettext
    rows: list[list[InlineKeyboardButton]] = []
    if page is not None and page.point is not None:
        rows.append([button("🗺 " + _("Show on map"), HotelPageCb(action=HotelAction.MAP))])
    if has_guide:
        rows.append([button("🧭 " + _("Area guide"), AreaCb(region=hotel.region_id))])
    rows.append([button("👤 " + _("Change hotel"), ProfileCb(action=ProfileAction.HOTEL)), home_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def no_hotel_screen(tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = _("You have not told us your hotel yet. Choose it in your profile: partner hotels give discounts.")
    rows = [[button("🏨 " + _("Choose my hotel"), ProfileCb(action=ProfileAction.HOTEL))], [home_button(tr)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _guest_hotel(uow: UnitOfWork, user: User) -> tuple[Hotel, HotelPage | None, Region | None, bool] | None:
    if user.hotel_id is None:
        return None
    async with uow.read():
        hotel = await uow.catalog.hotel(user.hotel_id)
        if hotel is None:
            return None
        page = await uow.places.hotel_page(hotel.id)
        region = await uow.catalog.region(hotel.region_id)
        has_guide = await uow.places.area_guide(hotel.region_id) is not None
    return hotel, page, region, has_guide


@router.callback_query(HotelPageCb.filter(F.action == HotelAction.PAGE))
async def on_hotel_page(query: CallbackQuery, uow: UnitOfWork, tr: Translator, user: User) -> None:
    await answer_query(query)
    found = await _guest_hotel(uow, user)
    if found is None:
        await show(query, *no_hotel_screen(tr))
        return
    hotel, page, region, has_guide = found
    await show(query, hotel_page_text(hotel, page, region, tr), hotel_page_kb(hotel, page, has_guide, tr))


@router.callback_query(HotelPageCb.filter(F.action == HotelAction.MAP))
async def on_hotel_map(query: CallbackQuery, uow: UnitOfWork, tr: Translator, user: User) -> None:
    found = await _guest_hotel(uow, user)
    if found is None:
        await answer_query(query, tr.gettext("You have not told us your hotel yet."), alert=True)
        return
    hotel, page, region, _guide = found
    if page is None or page.point is None:
        await answer_query(query, tr.gettext("We do not have this hotel on the map yet."), alert=True)
        return
    await answer_query(query)
    address = page.address or (localized(region.name, tr.language) if region else hotel.name)
    assert query.bot is not None, "an update fed through the Dispatcher is bound to its bot"
    await send_venue(query.bot, query.from_user.id, Venue(title=hotel.name, address=address, point=page.point))
