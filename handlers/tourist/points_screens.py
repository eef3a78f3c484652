"""Loyalty points as a guest reads them (issue 15): an amount of points with what it is worth, a ledger entry's
reason, the "My points" screen, and why a redemption, a discount code or a referral link was refused. Pure
functions of data and a translator."""

from __future__ import annotations

from aiogram import html
from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import DomainError
from domain.model.discount_codes import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeNotForEvent,
    CodeNotYetValid,
    CodeUsedUp,
    CodeWrongCurrency,
)
from domain.model.orders import format_order_code
from domain.model.points import (
    MAX_REDEEM_PERCENT,
    REFERRAL_ALREADY,
    REFERRAL_NOT_NEW,
    REFERRAL_SELF,
    NotEnoughPoints,
    PointsEntry,
    PointsOverLimit,
    PointsReason,
)
from domain.use_cases.points import PointsOverview
from handlers.tourist.callbacks import MenuAction, MenuCb
from handlers.tourist.keyboards import home_button
from handlers.ui import Translator, button

POINTS_ICON = "🪙"
REFERRAL_LINK = "https://t.me/{bot}?start=ref-{token}"


def points_text(tr: Translator, points: int, currency: str | None = None) -> str:
    """``1,250 points``, or with a currency ``1,250 points (= €12.50)``: a point is one cent of it."""
    text = tr.ngettext("{n} point", "{n} points", abs(points)).format(n=tr.number(points))
    if currency:
        return tr.gettext("{points} (= {money})").format(points=text, money=tr.money(points, currency))
    return text


def _entry_reason(tr: Translator, entry: PointsEntry, codes: dict[int, str]) -> str:
    _ = tr.gettext
    code = format_order_code(codes.get(entry.order_id or 0, ""))
    match entry.reason:
        case PointsReason.EARNED:
            return _("earned on booking {code}").format(code=code)
        case PointsReason.REVERSED:
            return _("taken back: booking {code} was refunded").format(code=code)
        case PointsReason.REDEEMED:
            return _("spent on booking {code}").format(code=code)
        case PointsReason.RETURNED:
            return _("returned: booking {code} did not go ahead").format(code=code)
    return _("referral bonus")


def referral_link(bot_username: str, token: str) -> str:
    return REFERRAL_LINK.format(bot=bot_username, token=token)


def points_screen(
    tr: Translator, overview: PointsOverview, link: str, timezone: str, currency: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The balance, the latest movements (in the guest's time zone), how points work and the referral link."""
    _ = tr.gettext
    lines = [
        f"{POINTS_ICON} <b>" + _("My points") + "</b>",
        "",
        _("Balance: <b>{points}</b>").format(points=points_text(tr, overview.balance, currency)),
        "",
        _(
            "You earn points on every booking you attend; one point is worth one cent. On the booking summary, "
            "“Use my points” pays up to {percent}% of a booking."
        ).format(percent=MAX_REDEEM_PERCENT),
    ]
    if overview.history:
        lines += ["", "<b>" + _("History") + "</b>"]
        for entry in overview.history:
            sign = "+" if entry.amount >= 0 else "−"
            lines.append(
                f"• {tr.datetime(entry.at, timezone)}: <b>{sign}{tr.number(abs(entry.amount))}</b> "
                + html.quote(_entry_reason(tr, entry, overview.order_codes))
            )
    else:
        lines += ["", _("No points yet: attend a booking to earn your first ones.")]
    lines += [
        "",
        "🤝 " + _("Invite a friend with your link: after their first attended booking you both get bonus points."),
        html.quote(link),
    ]
    rows = [
        [InlineKeyboardButton(text="📋 " + _("Copy my link"), copy_text=CopyTextButton(text=link))],
        [button("👤 " + _("Back to profile"), MenuCb(action=MenuAction.PROFILE))],
        [home_button(tr)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def checkout_refusal(tr: Translator, error: DomainError) -> str:
    """Why a redemption of points or a discount code was refused, in the guest's words."""
    _ = tr.gettext
    balance = error.data.get("balance")
    limit = error.data.get("limit")
    if isinstance(error, NotEnoughPoints) and isinstance(balance, int):
        return _("You do not have that many points: your balance is {points}.").format(points=points_text(tr, balance))
    if isinstance(error, PointsOverLimit) and isinstance(limit, int):
        return _("Points can pay at most {percent}% of a booking: here that is {points}.").format(
            percent=MAX_REDEEM_PERCENT, points=points_text(tr, limit)
        )
    texts: dict[type[DomainError], str] = {
        CodeNotYetValid: _("This code is not valid yet."),
        CodeExpired: _("This code has expired."),
        CodeUsedUp: _("This code has been used up."),
        CodeAlreadyUsed: _("You have already used this code."),
        CodeNotForEvent: _("This code is for another event."),
        CodeWrongCurrency: _("This code is for bookings in another currency."),
    }
    return texts.get(type(error), _("We do not know this code. Please check it and try again."))


def referral_refusal(tr: Translator, reason: object) -> str:
    _ = tr.gettext
    if reason == REFERRAL_SELF:
        return _("That is your own invitation link: share it with friends, and you both get points.")
    if reason == REFERRAL_ALREADY:
        return _("You have already joined with a friend's invitation.")
    if reason == REFERRAL_NOT_NEW:
        return _("Invitation links are for new guests, so this one does not count for you — but welcome back!")
    return _("That invitation link is not valid.")
