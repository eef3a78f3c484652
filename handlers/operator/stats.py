"""``/stats``: today in figures — orders placed and paid, revenue, cancellations, problems opened and resolved, the
median time to resolve one, problems open now.

"Today" is the calendar day in the desk's time zone (``DESK_TIMEZONE``, else the first region's, else UTC); the
answer names the zone.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from domain.ports import Clock, UnitOfWork
from domain.use_cases.stats import DayStats, day_stats, day_window
from handlers.operator.desk_time import desk_zone, zone_label
from handlers.operator.queries import DeskQueries
from handlers.settings import HandlerSettings
from handlers.ui import Translator

router = Router(name=__name__)


def stats_text(tr: Translator, stats: DayStats) -> str:
    _ = tr.gettext
    revenue = ", ".join(tr.money(amount, currency) for currency, amount in stats.revenue) or "—"
    median = tr.duration(stats.median_resolve) if stats.median_resolve is not None else "—"
    return "\n".join(
        [
            "📊 "
            + _("<b>Today, {day}</b> ({timezone})").format(day=tr.date(stats.day), timezone=zone_label(stats.timezone)),
            "",
            "🆕 " + _("Orders placed: {n}").format(n=stats.placed),
            "💳 " + _("Paid: {n} · revenue: {revenue}").format(n=stats.paid, revenue=revenue),
            "🚫 "
            + _("Cancelled: {cancelled} · declined: {declined} · expired: {expired}").format(
                cancelled=stats.cancelled, declined=stats.declined, expired=stats.expired
            ),
            "🚨 "
            + _("Problems opened: {opened} · resolved: {resolved}").format(
                opened=stats.problems_opened, resolved=stats.problems_resolved
            ),
            "⏱ " + _("Median time to resolve: {time}").format(time=median),
            "📂 " + _("Open problems now: {n}").format(n=stats.open_problems),
        ]
    )


@router.message(Command("stats"))
async def cmd_stats(
    message: Message,
    uow: UnitOfWork,
    desk_queries: DeskQueries,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    timezone = await desk_zone(uow, settings.desk_timezone)
    async with uow:
        day, start, end = day_window(now, timezone)
        facts = await desk_queries.day_facts(start, end)
    await message.answer(stats_text(tr, day_stats(day, timezone, facts)))
