"""The waitlist of a sold-out session: who waits for how many seats, in the order they joined.

A :class:`WaitlistEntry` is *waiting* until seats come free; then the first entry whose number fits the free seats
is *offered* them until ``offered_until`` (the organiser's claim window). While the offer is open the seats are
held for it: taken off ``seats_left`` by the same conditional UPDATE a booking uses, so nobody else can book them
and nothing is oversold. The offer ends *claimed* (the held seats become the order's), or *left* (the tourist said
no thanks or left the list) or *expired* (the window passed): then the held seats go back on sale and the next
entry whose number fits is offered them. An entry that is *left*, *expired* or *claimed* is closed for good: one open
entry per tourist and session.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError, InvalidTransition, NotAllowed


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CLAIMED = "claimed"
    LEFT = "left"
    EXPIRED = "expired"


OPEN = frozenset({WaitlistStatus.WAITING, WaitlistStatus.OFFERED})


class OfferClosed(NotAllowed):
    """The offer is not open (never made, expired, passed on or claimed) or not this tourist's: a claim is not
    allowed (any more)."""

    code = "waitlist_offer_closed"


class NotSoldOut(DomainError):
    """The session has enough free seats for the tourist to book them: no need to wait."""

    code = "waitlist_not_sold_out"


@dataclass(slots=True)
class WaitlistEntry:
    session_id: int
    user_id: int
    seats: int
    joined_at: datetime
    status: WaitlistStatus = WaitlistStatus.WAITING
    offered_at: datetime | None = None
    offered_until: datetime | None = None
    ended_at: datetime | None = None
    order_id: int | None = None  # the order a claimed offer became
    id: int | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def stored_id(self) -> int:
        if self.id is None:
            raise ValueError("waitlist entry is not stored yet")
        return self.id

    def holds_seats(self) -> int:
        """The seats held for this entry right now: its number while an offer is open, else none."""
        return self.seats if self.status is WaitlistStatus.OFFERED else 0

    def offer_open(self, now: datetime) -> bool:
        return self.status is WaitlistStatus.OFFERED and self.offered_until is not None and now < self.offered_until

    def _refused(self, action: str) -> InvalidTransition:
        return InvalidTransition(waitlist=self.id, status=self.status.value, action=action)

    def offer(self, now: datetime, window: timedelta) -> None:
        """Seats came free for this entry: held for it until ``now + window``."""
        if self.status is not WaitlistStatus.WAITING:
            raise self._refused("offer")
        self.status, self.offered_at, self.offered_until = WaitlistStatus.OFFERED, now, now + window

    def claim(self, order_id: int, now: datetime) -> None:
        """The offer became order ``order_id`` (its held seats are the order's now)."""
        if not self.offer_open(now):
            raise self._refused("claim")
        self.status, self.order_id, self.ended_at = WaitlistStatus.CLAIMED, order_id, now

    def leave(self, now: datetime) -> None:
        """The tourist leaves the list, or says no thanks to the offer (it passes on)."""
        if not self.is_open:
            raise self._refused("leave")
        self.status, self.ended_at = WaitlistStatus.LEFT, now

    def expire(self, now: datetime) -> None:
        """The claim window passed unclaimed: the offer passes on."""
        if self.status is not WaitlistStatus.OFFERED or self.offered_until is None or now < self.offered_until:
            raise self._refused("expire")
        self.status, self.ended_at = WaitlistStatus.EXPIRED, now


def first_that_fits(waiting: Iterable[WaitlistEntry], free: int) -> WaitlistEntry | None:
    """The first waiting entry (in the order given: the order they joined) whose number of seats fits ``free``.

    An entry that wants more than is free is passed over, not dropped: it keeps its place for a later, larger release.
    """
    return next((e for e in waiting if e.status is WaitlistStatus.WAITING and 0 < e.seats <= free), None)


def offers_for(waiting: Iterable[WaitlistEntry], free: int) -> list[WaitlistEntry]:
    """The entries to offer ``free`` seats to now, in order: the first that fits, then the first that fits what is
    left, and so on."""
    chosen: list[WaitlistEntry] = []
    left = free
    pending = [e for e in waiting if e.status is WaitlistStatus.WAITING]
    while (entry := first_that_fits(pending, left)) is not None:
        chosen.append(entry)
        pending.remove(entry)
        left -= entry.seats
    return chosen
