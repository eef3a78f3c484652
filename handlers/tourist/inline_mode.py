"""Inline mode (issue 15): ``@bot kihnu`` in any chat lists the events whose title or region matches, in the asking
user's language, each an article with a short description, the next date and a button that opens the event's card
in the bot (the ``ev-<event code>`` deep link of :mod:`handlers.tourist.start`). An empty or odd query lists the next
few events. Share on the event card (card_sharing.py) starts such a query in the chat the guest picks.

The search is a port (:class:`EventSearch`): ``bot/event_search.py`` implements it over the catalog, the Dispatcher
injects it as ``event_search``. Inline mode must be switched on for the bot in @BotFather (``/setinline``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiogram import Bot, Router, html
from aiogram.enums import ParseMode
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InlineQueryResultUnion,
    InputTextMessageContent,
)
from aiogram.utils.deep_linking import create_start_link

from domain.model.catalog import Event, Region, localized
from domain.ports import Clock
from handlers.tourist.start import EVENT_LINK_PREFIX
from handlers.ui import Translator, cut

router = Router(name=__name__)

RESULTS = 10  # matches shown (Telegram takes up to 50)
UPCOMING = 5  # events listed for an empty or odd query
QUERY_LIMIT = 64  # characters of the query looked at (Telegram sends up to 256)
MAX_WORDS = 5
CACHE_TIME_S = 30  # short: seats and dates change
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class FoundEvent:
    event: Event
    region: Region
    next_start: datetime  # its next session open for booking


class EventSearch(Protocol):
    async def search(self, language: str, words: Sequence[str], now: datetime, limit: int) -> Sequence[FoundEvent]:
        """Up to ``limit`` events with a session open for booking, whose title or region in ``language`` contains
        every one of ``words`` (casefolded; none: any event), the soonest first."""


def query_words(query: str) -> list[str]:
    """The words of an inline query: letters and digits only, casefolded, at most :data:`MAX_WORDS`."""
    return [w.casefold() for w in _WORD.findall(query[:QUERY_LIMIT])][:MAX_WORDS]


def article(found: FoundEvent, link: str, tr: Translator) -> InlineQueryResultArticle:
    _ = tr.gettext
    event, region = found.event, found.region
    title = localized(event.title, tr.language)
    region_name = localized(region.name, tr.language)
    description = localized(event.description, tr.language)
    when = tr.zoned(found.next_start, region.timezone)
    lines = [f"<b>{html.quote(title)}</b>"]
    if description:
        lines.append(html.quote(cut(description, 300)))
    lines += ["", "📍 " + html.quote(region_name), "📅 " + _("Next date: {when}").format(when=when)]
    open_button = InlineKeyboardButton(text="🎟 " + _("Open and book"), url=link)
    return InlineQueryResultArticle(
        id=str(event.id),
        title=cut(title, 100),
        description=cut(f"{region_name} · {when}" + (f"\n{description}" if description else ""), 200),
        input_message_content=InputTextMessageContent(message_text="\n".join(lines), parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[open_button]]),
    )


@router.inline_query()
async def on_inline_query(
    query: InlineQuery, bot: Bot, tr: Translator, clock: Clock, event_search: EventSearch
) -> None:
    words = query_words(query.query)
    now = clock.now()
    found = await event_search.search(tr.language, words, now, RESULTS if words else UPCOMING)
    results: list[InlineQueryResultUnion] = [
        article(f, await create_start_link(bot, EVENT_LINK_PREFIX + f.event.code), tr) for f in found
    ]
    button = None
    if words and not results:
        button = InlineQueryResultsButton(text=tr.gettext("Nothing found: open the bot"), start_parameter="inline")
    await query.answer(results, cache_time=CACHE_TIME_S, is_personal=True, button=button)
