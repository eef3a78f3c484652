"""The desk's one clock: every time an operator reads is in the desk's time zone (``DESK_TIMEZONE``, by default
the first region's) and says which (``01:32 (Tallinn)``), so a card, a question, a snooze answer and ``/order``
never disagree about what "01:53" means."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.ports import UnitOfWork
from handlers.ui import Translator

FALLBACK_ZONE = "UTC"  # no zone configured and no region in the catalog yet
BUTTON_WIDTH = 34  # characters a phone shows whole on a full-width inline button


def zone_label(zone: str) -> str:
    """``Europe/Tallinn`` -> ``Tallinn``; ``America/New_York`` -> ``New York``; ``UTC`` -> ``UTC``."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@dataclass(frozen=True, slots=True)
class DeskClock:
    """Times in the desk's zone, in the reader's language, each labelled with the zone."""

    tr: Translator
    zone: str

    def time(self, moment: dt.datetime) -> str:
        return f"{self.tr.time(moment, self.zone)} ({zone_label(self.zone)})"

    def datetime(self, moment: dt.datetime) -> str:
        return f"{self.tr.datetime(moment, self.zone)} ({zone_label(self.zone)})"

    def button(self, moment: dt.datetime, before: str = "", after: str = "") -> str:
        """``before`` + ``Tue, Dec 8 11:00`` + ``after`` for a button (the message around it names the zone): the
        date in short (``Tue, 12/8``) when the long one would not fit a phone's button whole."""
        day = moment.astimezone(ZoneInfo(self.zone)).date()
        at = self.tr.time(moment, self.zone)
        label = f"{before}{self.tr.date(day)} {at}{after}"
        return label if len(label) <= BUTTON_WIDTH else f"{before}{self.tr.short_date(day)} {at}{after}"


async def desk_zone(uow: UnitOfWork, configured: str | None) -> str:
    """The desk's zone: ``configured`` (``DESK_TIMEZONE``), else the first region's; read in a transaction of its
    own when it has to look at the catalog."""
    if configured:
        return configured
    async with uow:
        regions = list(await uow.catalog.regions())
    return regions[0].timezone if regions else FALLBACK_ZONE
