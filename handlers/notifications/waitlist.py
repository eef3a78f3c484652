"""The waitlist's messages to a tourist: seats offered (held until a time in the region's zone, with Claim and No
thanks), and the offer expired (passed on). Each re-reads the entry at send time: an offer already claimed, left
or expired, or an expiry of an entry that is not expired, is not sent (the row is closed unsent)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import InlineKeyboardMarkup

from domain.model.messages import OutboxKind
from domain.model.waitlist import WaitlistEntry, WaitlistStatus
from handlers.notifications import RenderContext, Rendered, renders
from handlers.read_models import SessionView, read_session
from handlers.tourist.waitlist_screens import expired_message, offer_buttons, offer_lines


async def _entry(rc: RenderContext) -> tuple[WaitlistEntry, SessionView, str | None] | None:
    async with rc.uow.read():
        entry = await rc.uow.waitlist.get(int(rc.payload["entry_id"]))
        view = await read_session(rc.uow, entry.session_id) if entry else None
        user = await rc.uow.users.get(entry.user_id) if entry else None
    if entry is None or view is None or user is None:
        return None  # the tourist asked us to forget them, or the session is gone
    return entry, view, user.language


@renders(OutboxKind.WAITLIST_OFFER)
async def waitlist_offer(rc: RenderContext) -> Rendered | None:
    if (found := await _entry(rc)) is None:
        return None
    entry, view, language = found
    if not entry.offer_open(rc.now or datetime.now(UTC)):
        return None  # claimed, declined or expired before it went out
    tr = rc.i18n.translator(language)
    return Rendered(
        "\n".join(offer_lines(entry, view, tr)), InlineKeyboardMarkup(inline_keyboard=offer_buttons(entry, tr))
    )


@renders(OutboxKind.WAITLIST_OFFER_EXPIRED)
async def waitlist_offer_expired(rc: RenderContext) -> Rendered | None:
    if (found := await _entry(rc)) is None:
        return None
    entry, view, language = found
    if entry.status is not WaitlistStatus.EXPIRED:
        return None
    text, markup = expired_message(entry, view, rc.i18n.translator(language))
    return Rendered(text, markup)
