"""How an offer looks to a guest (issue 15): the message the outbox sends, the Offers screen, their buttons; the
operators' preview draws the same text. Its text is the operator's own in the guest's language (English when there is
none in theirs), with the discount code and until when it is valid, in the zone of the offer's event (else the guest's
region, else the first region)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.discount_codes import DiscountCode
from domain.model.offers import Offer
from domain.ports import UnitOfWork
from handlers.tourist.callbacks import Below, BelowCb, MenuAction, MenuCb
from handlers.tourist.keyboards import home_button
from handlers.ui import Translator, button, cut

OFFER_ICON = "🎁"
EVENT_IN_BUTTON = 40  # characters of an event's title on a button
TEXT_IN_LIST = 250  # characters of each offer's text on the Offers screen (five fit one message)


class OfferAction(enum.StrEnum):
    LIST = "l"  # the Offers screen
    ON = "on"
    OFF = "off"
    STOP = "s"  # "Stop offers" under an offer message: off, answered below (the offer stays as it is)


class OfferCb(CallbackData, prefix="of"):
    action: OfferAction


@dataclass(frozen=True, slots=True)
class OfferView:
    """An offer with what its text shows: the code's terms, the event's title, the zone its end is shown in."""

    offer: Offer
    code: DiscountCode | None
    event_title: str | None
    zone: str


async def offer_view(uow: UnitOfWork, offer: Offer, language: str, region_id: int | None) -> OfferView:
    """Read inside an open unit of work."""
    code = await uow.discount_codes.get(offer.code) if offer.code else None
    event = await uow.catalog.event(offer.event_id) if offer.event_id is not None else None
    region_of = event.region_id if event else region_id
    region = await uow.catalog.region(region_of) if region_of is not None else None
    if region is None:
        regions = await uow.catalog.regions()
        region = regions[0] if regions else None
    title = localized(event.title, language) if event else None
    return OfferView(offer, code, title, region.timezone if region else "UTC")


def code_terms(tr: Translator, code: DiscountCode) -> str:
    _ = tr.gettext
    if code.percent is not None:
        return _("{percent}% off").format(percent=code.percent)
    return _("{amount} off").format(amount=tr.money(code.amount_minor or 0, code.currency or ""))


def offer_text(tr: Translator, view: OfferView, limit: int | None = None) -> str:
    _ = tr.gettext
    offer = view.offer
    text = offer.text_for(tr.language)
    lines = [f"{OFFER_ICON} <b>" + _("An offer for you") + "</b>", "", html.quote(cut(text, limit) if limit else text)]
    if view.event_title:
        lines += ["", "🎫 " + html.quote(view.event_title)]
    if view.code is not None:
        lines += [
            "",
            "🏷 "
            + _("Your code: {code} — {terms}").format(
                code=f"<code>{html.quote(view.code.code)}</code>", terms=code_terms(tr, view.code)
            ),
            _("Enter it when you book; once per guest."),
        ]
    lines.append("⏳ " + _("Valid until {time}").format(time=tr.zoned(offer.valid_until, view.zone)))
    return "\n".join(lines)


def event_button(tr: Translator, view: OfferView) -> InlineKeyboardButton | None:
    if view.offer.event_id is None or view.event_title is None:
        return None
    label = "🎫 " + cut(view.event_title, EVENT_IN_BUTTON)
    return button(label, BelowCb(to=Below.EVENT, id=view.offer.event_id))


def offer_kb(tr: Translator, view: OfferView) -> InlineKeyboardMarkup:
    """Under an offer message: its event, all current offers, "Stop offers"."""
    _ = tr.gettext
    rows = [[b] for b in (event_button(tr, view),) if b is not None]
    rows.append(
        [
            button(f"{OFFER_ICON} " + _("All offers"), OfferCb(action=OfferAction.LIST)),
            button("🔕 " + _("Stop offers"), OfferCb(action=OfferAction.STOP)),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def offers_screen(tr: Translator, views: Sequence[OfferView], on: bool) -> tuple[str, InlineKeyboardMarkup]:
    """The Offers screen: the current offers the guest received, and the toggle."""
    _ = tr.gettext
    lines = [f"{OFFER_ICON} <b>" + _("Offers") + "</b>", ""]
    if on:
        lines.append("🔔 " + _("Offers: on. We send a few offers from our partners; turn them off at any time."))
    else:
        lines.append("🔕 " + _("Offers: off. We send you no offers."))
    if views:
        for view in views:
            lines += ["", "—" * 8, "", offer_text(tr, view, limit=TEXT_IN_LIST)]
    else:
        lines += ["", _("No current offers.")]
    rows = [[b] for view in views if (b := event_button(tr, view)) is not None]
    toggle = (
        button("🔕 " + _("Turn offers off"), OfferCb(action=OfferAction.OFF))
        if on
        else button("🔔 " + _("Turn offers on"), OfferCb(action=OfferAction.ON))
    )
    rows.append([toggle])
    rows.append([button("👤 " + _("Back to profile"), MenuCb(action=MenuAction.PROFILE)), home_button(tr)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)
