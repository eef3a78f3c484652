"""Keyboards shared by several tourist modules: pure functions of data and a translator."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.tourist.callbacks import LangCb, MenuAction, MenuCb
from handlers.tourist.place_callbacks import AreaCb, HotelAction, HotelPageCb
from handlers.ui import Translator, button


def main_menu_kb(tr: Translator) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("🗺 " + _("Events"), MenuCb(action=MenuAction.EVENTS))],
            [
                button("🎟 " + _("My orders"), MenuCb(action=MenuAction.ORDERS)),
                button("⭐ " + _("My favourites"), MenuCb(action=MenuAction.FAVOURITES)),
            ],
            [
                button("🏨 " + _("My hotel"), HotelPageCb(action=HotelAction.PAGE)),
                button("🧭 " + _("Area guide"), AreaCb()),
            ],
            [
                button("💬 " + _("Ask a question"), MenuCb(action=MenuAction.QUESTION)),
                button("👤 " + _("Profile"), MenuCb(action=MenuAction.PROFILE)),
            ],
        ]
    )


def home_button(tr: Translator) -> InlineKeyboardButton:
    return button("🏠 " + tr.gettext("Main menu"), MenuCb(action=MenuAction.HOME))


def home_kb(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[home_button(tr)]])


def language_kb(tr: Translator, languages: tuple[str, ...], current: str) -> InlineKeyboardMarkup:
    rows = [
        [button(("✅ " if code == current else "") + tr.language_name(code), LangCb(language=code))]
        for code in languages
    ]
    rows.append([home_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
