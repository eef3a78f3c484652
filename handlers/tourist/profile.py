"""/profile: language, phone (shared contact or typed), partner hotel (search in a region) and deleting my data."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    Contact,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from domain.errors import InvalidPhone, NotFound
from domain.model.catalog import Hotel, Region, localized
from domain.model.orders import format_order_code
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.profile import (
    Forgotten,
    delete_personal_data,
    set_hotel,
    set_phone,
    set_region,
)
from handlers.tourist.callbacks import (
    HotelCb,
    HotelRegionCb,
    MenuAction,
    MenuCb,
    ProfileAction,
    ProfileCb,
)
from handlers.tourist.keyboards import home_button, home_kb, language_kb
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.offer_screens import OFFER_ICON, OfferAction, OfferCb
from handlers.tourist.points_screens import POINTS_ICON, points_text
from handlers.ui import Languages, Translator, button, cut

router = Router(name=__name__)

HOTEL_RESULTS = 8
HOTEL_QUERY_MIN = 2
HOTEL_QUERY_MAX = 60
HOTEL_IN_BUTTON = 48  # characters of a hotel's name on a button
PICK_REGION = 0  # HotelRegionCb(region=0): show the region list again (real ids start at 1)


class ProfileForm(StatesGroup):
    phone = State()
    hotel_search = State()


# ---- rendering --------------------------------------------------------------------------------------------------


def render_profile(tr: Translator, user: User, hotel: Hotel | None, points: int = 0) -> str:
    _ = tr.gettext
    not_set = _("not set")
    if hotel is None:
        hotel_text = not_set
    elif hotel.discount_percent:
        hotel_text = _("{hotel} — partner discount {percent}%").format(
            hotel=html.quote(hotel.name), percent=hotel.discount_percent
        )
    else:
        hotel_text = html.quote(hotel.name)
    return "\n".join(
        [
            "👤 " + _("<b>Your profile</b>"),
            "",
            _("Language: {language}").format(language=tr.language_name(user.language)),
            _("Phone: {phone}").format(phone=user.phone or not_set),  # their own: in full
            _("Hotel: {hotel}").format(hotel=hotel_text),
            f"{POINTS_ICON} " + _("Points: {points}").format(points=points_text(tr, points)),
            "",
            _("The organiser can call you if plans change; a partner hotel gives you a discount on events."),
        ]
    )


def profile_kb(tr: Translator, user: User, offers_on: bool = True) -> InlineKeyboardMarkup:
    _ = tr.gettext
    rows = [
        [
            button("🌐 " + _("Language"), ProfileCb(action=ProfileAction.LANGUAGE)),
            button("📱 " + _("Share phone"), ProfileCb(action=ProfileAction.PHONE)),
        ],
        [button("🏨 " + _("Hotel"), ProfileCb(action=ProfileAction.HOTEL))],
    ]
    if user.hotel_id is not None:
        rows[1].append(button("✖️ " + _("Remove hotel"), ProfileCb(action=ProfileAction.HOTEL_CLEAR)))
    rows.append([button(f"{POINTS_ICON} " + _("My points"), ProfileCb(action=ProfileAction.POINTS))])
    offers = _("Offers: on") if offers_on else _("Offers: off")  # the list and the toggle (issue 15)
    rows.append([button(f"{OFFER_ICON} " + offers, OfferCb(action=OfferAction.LIST))])
    rows.append([button("🗑 " + _("Delete my data"), ProfileCb(action=ProfileAction.DELETE))])
    rows.append([home_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def back_to_profile_button(tr: Translator) -> InlineKeyboardButton:
    return button("👤 " + tr.gettext("Back to profile"), MenuCb(action=MenuAction.PROFILE))


def cancel_label(tr: Translator) -> str:
    return "✖️ " + tr.gettext("Cancel")


def phone_kb(tr: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📱 " + tr.gettext("Share my phone number"), request_contact=True)],
            [KeyboardButton(text=cancel_label(tr))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def regions_kb(tr: Translator, regions: list[Region]) -> InlineKeyboardMarkup:
    rows = [[button(localized(r.name, tr.language), HotelRegionCb(region=r.id))] for r in regions]
    rows.append([back_to_profile_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def hotel_search_kb(tr: Translator, hotels: list[Hotel]) -> InlineKeyboardMarkup:
    _ = tr.gettext
    rows = []
    for hotel in hotels:
        name = cut(hotel.name, HOTEL_IN_BUTTON)
        label = name + (f" · −{hotel.discount_percent}%" if hotel.discount_percent else "")
        rows.append([button("🏨 " + label, HotelCb(hotel=hotel.id))])
    rows.append([button("🗺 " + _("Change region"), HotelRegionCb(region=PICK_REGION))])
    rows.append([back_to_profile_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render_deleted(tr: Translator, forgotten: Forgotten) -> str:
    _ = tr.gettext
    lines = ["🗑 " + _("<b>Your personal data has been deleted.</b>")]
    if forgotten.cancelled:
        codes = ", ".join(f"<code>{format_order_code(c)}</code>" for c in forgotten.cancelled)
        lines.append(_("Cancelled unpaid bookings: {codes}.").format(codes=codes))
    if forgotten.kept:
        codes = ", ".join(f"<code>{format_order_code(c)}</code>" for c in forgotten.kept)
        lines.append(
            _("Paid bookings stay valid: {codes}. Keep these codes — show them at the meeting point.").format(
                codes=codes
            )
        )
    lines.append(_("If you write to me again, you start with a fresh, empty profile. Goodbye — and thank you!"))
    return "\n\n".join(lines)


# ---- reads ------------------------------------------------------------------------------------------------------


async def profile_screen(uow: UnitOfWork, user: User, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    async with uow:
        hotel = await uow.catalog.hotel(user.hotel_id) if user.hotel_id else None
        points = await uow.points.balance(user.id)
        offers_on = not await uow.offers.opted_out(user.id)
    return render_profile(tr, user, hotel, points), profile_kb(tr, user, offers_on)


async def regions_screen(uow: UnitOfWork, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    async with uow:
        regions = list(await uow.catalog.regions())
    return tr.gettext("Which region is your hotel in?"), regions_kb(tr, regions)


async def hotel_prompt(uow: UnitOfWork, region_id: int, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    async with uow:
        region = await uow.catalog.region(region_id)
    name = localized(region.name, tr.language) if region else ""
    text = tr.gettext("Region: <b>{region}</b>. Type part of your hotel's name, for example “Park”.").format(
        region=html.quote(name)
    )
    return text, hotel_search_kb(tr, [])


# ---- profile ----------------------------------------------------------------------------------------------------


@router.message(Command("profile"))
async def cmd_profile(message: Message, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator) -> None:
    if await state.get_state() == ProfileForm.phone.state:
        await message.answer(tr.gettext("Phone number not changed."), reply_markup=ReplyKeyboardRemove())
    await state.clear()
    text, markup = await profile_screen(uow, user, tr)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MenuCb.filter(F.action == MenuAction.PROFILE))
async def on_profile_open(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator) -> None:
    await state.clear()
    text, markup = await profile_screen(uow, user, tr)
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.LANGUAGE))
async def on_profile_language(query: CallbackQuery, tr: Translator, i18n: Languages, user: User) -> None:
    await answer_query(query)
    await show(query, tr.gettext("Choose your language:"), language_kb(tr, i18n.languages, user.language))


# ---- phone ------------------------------------------------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.PHONE))
async def on_profile_phone(query: CallbackQuery, bot: Bot, state: FSMContext, tr: Translator) -> None:
    await state.set_state(ProfileForm.phone)
    await answer_query(query)
    await bot.send_message(
        query.from_user.id,
        tr.gettext(
            "Press the button below to share your phone number, or type it with the country code, "
            "for example +372 5123 4567."
        ),
        reply_markup=phone_kb(tr),
    )


@router.message(StateFilter(ProfileForm.phone, None), F.contact.as_("contact"))
async def on_phone_contact(
    message: Message, contact: Contact, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator
) -> None:
    """A shared contact is accepted whenever it arrives (the share button may outlive the form), if it is the
    sender's own."""
    if contact.user_id != user.id:
        await message.answer(
            tr.gettext(
                "That is someone else's contact. Please share your own number with the button below — or type it."
            ),
            reply_markup=phone_kb(tr),
        )
        await state.set_state(ProfileForm.phone)
        return
    await _save_phone(message, state, uow, user, tr, contact.phone_number)


@router.message(ProfileForm.phone, F.text.as_("text"), ~F.text.startswith("/"))
async def on_phone_text(
    message: Message, text: str, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator
) -> None:
    if text == cancel_label(tr):
        await state.clear()
        await message.answer(tr.gettext("Phone number not changed."), reply_markup=ReplyKeyboardRemove())
        screen, markup = await profile_screen(uow, user, tr)
        await message.answer(screen, reply_markup=markup)
        return
    await _save_phone(message, state, uow, user, tr, text)


@router.message(ProfileForm.phone, ~F.text)
async def on_phone_other(message: Message, tr: Translator) -> None:
    await message.answer(
        tr.gettext("Please share your phone number with the button below, or type it with the country code."),
        reply_markup=phone_kb(tr),
    )


async def _save_phone(
    message: Message, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, raw: str
) -> None:
    try:
        user = await set_phone(uow, user.id, raw)
    except InvalidPhone:
        await message.answer(
            tr.gettext(
                "That does not look like a phone number. Please type it with the country code, "
                "for example +372 5123 4567, or use the button below."
            ),
            reply_markup=phone_kb(tr),
        )
        return
    await state.clear()
    await message.answer(
        tr.gettext("Phone saved: {phone}").format(phone=user.phone), reply_markup=ReplyKeyboardRemove()
    )
    text, markup = await profile_screen(uow, user, tr)
    await message.answer(text, reply_markup=markup)


# ---- hotel ------------------------------------------------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.HOTEL))
async def on_profile_hotel(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator
) -> None:
    if user.region_id is None:
        await state.clear()
        text, markup = await regions_screen(uow, tr)
    else:
        await state.set_state(ProfileForm.hotel_search)
        text, markup = await hotel_prompt(uow, user.region_id, tr)
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(HotelRegionCb.filter())
async def on_hotel_region_pick(
    query: CallbackQuery,
    callback_data: HotelRegionCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
) -> None:
    if callback_data.region == PICK_REGION:
        text, markup = await regions_screen(uow, tr)
        await answer_query(query)
        await show(query, text, markup)
        return
    async with uow:
        region = await uow.catalog.region(callback_data.region)
    if region is None:
        await answer_query(query, tr.gettext("This region is not available."), alert=True)
        return
    await set_region(uow, user.id, region.id)
    await state.set_state(ProfileForm.hotel_search)
    text, markup = await hotel_prompt(uow, region.id, tr)
    await answer_query(query)
    await show(query, text, markup)


@router.message(ProfileForm.hotel_search, F.text.as_("typed"), ~F.text.startswith("/"))
async def on_hotel_search(message: Message, typed: str, uow: UnitOfWork, user: User, tr: Translator) -> None:
    _ = tr.gettext
    needle = " ".join(typed.split())
    if user.region_id is None:
        text, markup = await regions_screen(uow, tr)
        await message.answer(text, reply_markup=markup)
        return
    if not HOTEL_QUERY_MIN <= len(needle) <= HOTEL_QUERY_MAX:
        await message.answer(
            _("Please type {min} to {max} characters of your hotel's name.").format(
                min=HOTEL_QUERY_MIN, max=HOTEL_QUERY_MAX
            ),
            reply_markup=hotel_search_kb(tr, []),
        )
        return
    async with uow:
        hotels = list(await uow.catalog.search_hotels(user.region_id, needle, HOTEL_RESULTS))
    if hotels:
        text = _("Pick your hotel — or type another part of its name:")
    else:
        text = _("Nothing found for “{text}”. Try another spelling, or change the region.").format(
            text=html.quote(needle)
        )
    await message.answer(text, reply_markup=hotel_search_kb(tr, hotels))


@router.message(ProfileForm.hotel_search, ~F.text)
async def on_hotel_search_other(message: Message, tr: Translator) -> None:
    await message.answer(tr.gettext("Please type part of your hotel's name."), reply_markup=hotel_search_kb(tr, []))


@router.callback_query(HotelCb.filter())
async def on_hotel_pick(
    query: CallbackQuery, callback_data: HotelCb, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator
) -> None:
    try:
        user = await set_hotel(uow, user.id, callback_data.hotel)
    except NotFound:
        await answer_query(query, tr.gettext("This hotel is not available."), alert=True)
        return
    await state.clear()
    text, markup = await profile_screen(uow, user, tr)
    await answer_query(query, tr.gettext("Hotel saved."))
    await show(query, text, markup)


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.HOTEL_CLEAR))
async def on_hotel_clear(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator) -> None:
    user = await set_hotel(uow, user.id, None)
    await state.clear()
    text, markup = await profile_screen(uow, user, tr)
    await answer_query(query, tr.gettext("Hotel removed."))
    await show(query, text, markup)


# ---- delete my data ---------------------------------------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.DELETE))
async def on_profile_delete(query: CallbackQuery, tr: Translator) -> None:
    _ = tr.gettext
    text = "\n\n".join(
        [
            "🗑 " + _("<b>Delete my data?</b>"),
            _(
                "Your personal data is removed: your name, username, phone, hotel and your answers to the "
                "organisers' questions."
            ),
            _("Your orders stay in our books without your name, for accounting."),
            _("Unpaid upcoming bookings are cancelled and their seats go back on sale."),
            _("Paid upcoming bookings stay valid: keep their codes and show them at the meeting point."),
            _("This cannot be undone."),
        ]
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [button("🗑 " + _("Yes, delete my data"), ProfileCb(action=ProfileAction.DELETE_CONFIRM))],
            [button("↩️ " + _("No, keep it"), MenuCb(action=MenuAction.PROFILE))],
        ]
    )
    await answer_query(query)
    await show(query, text, markup)


@router.callback_query(ProfileCb.filter(F.action == ProfileAction.DELETE_CONFIRM))
async def on_profile_delete_confirm(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, user: User, tr: Translator, clock: Clock
) -> None:
    forgotten = await delete_personal_data(uow, user.id, clock.now())
    await state.clear()
    await answer_query(query, tr.gettext("Your data has been deleted."))
    await show(query, render_deleted(tr, forgotten), home_kb(tr))


# ---- leaving a form ---------------------------------------------------------------------------------------------


@router.message(ProfileForm.phone, F.text.startswith("/"))
@router.message(ProfileForm.hotel_search, F.text.startswith("/"))
async def on_profile_form_command(message: Message, state: FSMContext, tr: Translator) -> None:
    """A command nobody before us took leaves the form; then the command goes on to its own handler."""
    if await state.get_state() == ProfileForm.phone.state:
        await message.answer(tr.gettext("Phone number not changed."), reply_markup=ReplyKeyboardRemove())
    await state.clear()
    raise SkipHandler()
