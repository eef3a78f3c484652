"""The waiting room of a hot on-sale: a fair queue inside the chat (issue 13).

A session is hot when the catalog says so (``hot: true``, optionally with ``sale_opens_at``) or when more people
press Book within :data:`RUSH_WINDOW` than it has seats left (at least :data:`RUSH_MIN_PRESSES`): then its room
opens at once. Before the sale opens, Book puts the tourist in the *pre-queue*; at opening the pre-queue is drawn
once, in a random order from a recorded seed (:func:`draw_order`: the places sorted by arrival, shuffled by
``random.Random(seed)``, so anyone holding the seed can check the order), and everyone who comes later lines up by
arrival: the order of Telegram's updates (:func:`late_rank`), not the moment a handler got to the press (the chats are
handled side by side). One place per Telegram user: pressing again returns the same place.

The front of the line is admitted (:meth:`Place.admit`) and has the room's ``admission_window`` to book; seats are
taken only by the booking itself (the conditional UPDATE), so admission never holds or oversells a seat.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.errors import InvalidTransition

DEFAULT_ADMISSION_WINDOW = timedelta(minutes=5)
RETENTION = timedelta(minutes=10)  # a place someone stepped out of is kept this long
RUSH_WINDOW = timedelta(minutes=1)  # automatic hotness: Book presses counted over this window...
RUSH_MIN_PRESSES = 20  # ...become a queue once they outnumber the seats left, and are at least this many
LATE_RANK_BASE = 1 << 40  # ranks of those who came after opening are above it (and above every drawn place)
# admission waits for the presses still in the bot's hands (they may rank in front), however long the backlog, but
# not for one that failed and waits for a retry this long after it was received (stuck)
PRESSES_IN_HAND = timedelta(minutes=1)
# the admission window runs from the moment the turn's message goes out (:meth:`Place.turn_told`); a message that
# has not gone out this long after the admission no longer holds the turn: the window then runs from here
TURN_DELIVERY = timedelta(minutes=2)


class RoomStatus(enum.StrEnum):
    WATCHING = "watching"  # not hot (yet): Book presses are counted to notice a rush
    PRE_QUEUE = "pre_queue"  # hot, the sale has not opened: places wait to be drawn
    OPEN = "open"  # the line moves: the front is admitted
    SOLD_OUT = "sold_out"  # no seats left: everyone still waiting is being told
    CLOSED = "closed"  # sold out and everyone told: nothing to do until seats come back


class PlaceStatus(enum.StrEnum):
    WAITING = "waiting"
    LEFT = "left"  # stepped out: keeps the place until ``left_at + RETENTION``
    ADMITTED = "admitted"  # their turn: may book until ``admit_until``
    BOOKED = "booked"
    PASSED = "passed"  # the admission window ended without a booking: the turn went on
    GONE = "gone"  # stepped out for longer than the retention
    SOLD_OUT = "sold_out"


IN_LINE = frozenset({PlaceStatus.WAITING, PlaceStatus.LEFT})
ENDED = frozenset({PlaceStatus.BOOKED, PlaceStatus.PASSED, PlaceStatus.GONE})
# the places a booking marks booked: admitted, or passed (booked in the last moment of the window: kept)
BOOKS = (PlaceStatus.ADMITTED, PlaceStatus.PASSED)


@dataclass(slots=True)
class WaitingRoom:
    """The queue of one session. ``seed`` is recorded when the pre-queue is drawn; ``drawn`` says how many it held."""

    session_id: int
    status: RoomStatus
    opens_at: datetime
    admission_window: timedelta
    created_at: datetime
    opened_at: datetime | None = None
    seed: int | None = None
    drawn: int = 0
    presses: int = 0
    presses_since: datetime | None = None
    summary_version: int = 0
    summary_at: datetime | None = None
    summary_message_id: int | None = None
    summary_figures: dict[str, object] = field(default_factory=dict)  # what the card last said
    id: int | None = None

    @property
    def is_queue(self) -> bool:
        return self.status is not RoomStatus.WATCHING

    def count_press(self, now: datetime, seats_left: int) -> bool:
        """One more Book press on a session that is not hot; True when the presses of the last :data:`RUSH_WINDOW`
        outnumber the seats left (and are at least :data:`RUSH_MIN_PRESSES`): the room opens now, without a
        pre-queue."""
        if self.status is not RoomStatus.WATCHING:
            raise InvalidTransition(room=self.session_id, status=self.status.value)
        if self.presses_since is None or now - self.presses_since >= RUSH_WINDOW:
            self.presses, self.presses_since = 0, now
        self.presses += 1
        if self.presses > seats_left and self.presses >= RUSH_MIN_PRESSES:
            self.status, self.opens_at, self.opened_at = RoomStatus.OPEN, now, now
            return True
        return False

    def open(self, now: datetime, seed: int, drawn: int) -> None:
        """The sale opens: the pre-queue of ``drawn`` places was drawn with ``seed`` (recorded here)."""
        if self.status is not RoomStatus.PRE_QUEUE:
            raise InvalidTransition(room=self.session_id, status=self.status.value)
        self.status, self.opened_at, self.seed, self.drawn = RoomStatus.OPEN, now, seed, drawn

    def sell_out(self) -> None:
        if self.status is not RoomStatus.OPEN:
            raise InvalidTransition(room=self.session_id, status=self.status.value)
        self.status = RoomStatus.SOLD_OUT

    def reopen(self, now: datetime) -> None:
        """Seats came back after a sell-out (a cancellation, a raised capacity): the line moves again."""
        if self.status not in (RoomStatus.SOLD_OUT, RoomStatus.CLOSED):
            raise InvalidTransition(room=self.session_id, status=self.status.value)
        self.status = RoomStatus.OPEN
        self.opened_at = self.opened_at or now


@dataclass(slots=True)
class Place:
    """A tourist's one place in a room. ``rank`` orders the line (None in the pre-queue until the draw). ``shown_*``
    is what their message last said (so it is only edited when that changes); ``version`` counts those messages."""

    session_id: int
    user_id: int
    joined_at: datetime
    status: PlaceStatus = PlaceStatus.WAITING
    rank: int | None = None
    admitted_at: datetime | None = None
    admit_until: datetime | None = None
    left_at: datetime | None = None
    message_id: int | None = None
    shown_status: PlaceStatus | None = None
    shown_position: int | None = None
    shown_at: datetime | None = None
    version: int = 0
    id: int | None = None

    @property
    def stored_id(self) -> int:
        if self.id is None:
            raise ValueError("the place is not stored yet")
        return self.id

    @property
    def in_line(self) -> bool:
        return self.status in IN_LINE

    def may_book(self, now: datetime) -> bool:
        return self.status is PlaceStatus.ADMITTED and self.admit_until is not None and now < self.admit_until

    def keeps_place_until(self) -> datetime | None:
        return self.left_at + RETENTION if self.status is PlaceStatus.LEFT and self.left_at else None

    def _require(self, *allowed: PlaceStatus) -> None:
        if self.status not in allowed:
            raise InvalidTransition(place=self.id, status=self.status.value)

    def leave(self, now: datetime) -> None:
        self._require(PlaceStatus.WAITING)
        self.status, self.left_at = PlaceStatus.LEFT, now

    def come_back(self, now: datetime) -> bool:
        """Back in line: True with the same place within the retention; False when it lapsed (the caller lines
        them up anew at the back)."""
        self._require(PlaceStatus.LEFT)
        if self.left_at is not None and now < self.left_at + RETENTION:
            self.status, self.left_at = PlaceStatus.WAITING, None
            return True
        self.lapse()
        return False

    def lapse(self) -> None:
        """Stepped out for longer than the retention: the place is gone."""
        self._require(PlaceStatus.LEFT)
        self.status = PlaceStatus.GONE

    def rejoin(self, now: datetime) -> None:
        """A new place at the back for someone whose last one ended (booked, passed, gone): ``rank`` is set anew."""
        self._require(*ENDED)
        self.status, self.joined_at, self.rank = PlaceStatus.WAITING, now, None
        self.admitted_at = self.admit_until = self.left_at = None

    def admit(self, now: datetime, window: timedelta) -> None:
        """Their turn. The ``window`` to book starts when the turn's message goes out (:meth:`turn_told`), so a
        message that waits for Telegram's limits costs them nothing; until then ``admit_until`` is the latest it may
        end (:data:`TURN_DELIVERY` + ``window``): a message that never goes out does not hold the turn for ever."""
        self._require(PlaceStatus.WAITING)
        self.status, self.admitted_at = PlaceStatus.ADMITTED, now
        self.admit_until = now + TURN_DELIVERY + window

    def turn_told(self, sent_at: datetime, window: timedelta) -> datetime | None:
        """The turn's message went out at ``sent_at``: the window runs ``window`` from then (never past the bound
        set at admission, and a later redraw of the message does not extend it). The new end, or None when nothing
        changes (not admitted, or the window runs already)."""
        if self.status is not PlaceStatus.ADMITTED or self.admit_until is None:
            return None
        until = min(self.admit_until, sent_at + window)
        if until >= self.admit_until:
            return None
        self.admit_until = until
        return until

    def pass_turn(self, now: datetime) -> None:
        self._require(PlaceStatus.ADMITTED)
        if self.admit_until is None or now < self.admit_until:
            raise InvalidTransition(place=self.id, status=self.status.value, reason="window_open")
        self.status = PlaceStatus.PASSED

    def sell_out(self) -> None:
        self._require(PlaceStatus.WAITING, PlaceStatus.LEFT, PlaceStatus.ADMITTED)
        self.status = PlaceStatus.SOLD_OUT

    def shown(self, now: datetime, position: int | None) -> None:
        """Its message is being redrawn (a new version) to show the status and ``position`` as they are now."""
        self.shown_status, self.shown_position, self.shown_at = self.status, position, now
        self.version += 1


@dataclass(frozen=True, slots=True)
class LineMark:
    """What the room's job reads of each place in line to decide whose message is due (a few columns, not the whole
    place: a line of 10,000 is read every pass)."""

    place_id: int
    status: PlaceStatus
    shown_status: PlaceStatus | None
    shown_position: int | None
    shown_at: datetime | None
    has_message: bool


def draw_order(place_ids: Sequence[int], seed: int) -> list[int]:
    """The pre-queue's order at opening: the places by arrival (id), shuffled once with ``seed``. Deterministic,
    so the order can be checked against the recorded seed."""
    order = sorted(place_ids)
    random.Random(seed).shuffle(order)
    return order


def late_rank(arrival: int) -> int:
    """The rank of a place taken after opening: behind every drawn place (above :data:`LATE_RANK_BASE`), in order
    of arrival: ``arrival`` is the Telegram ``update_id`` of the press that took it, which Telegram numbers in the
    order the presses reached it (the bot handles many chats at once, so the moment a handler ran is not that
    order). A place taken anew after its last one ended keeps its row and id but ranks by its new press."""
    return LATE_RANK_BASE + max(arrival, 0)


def admissible(rank: int | None, oldest_unhandled: int | None) -> bool:
    """Whether a place of ``rank`` may be admitted while the update ``oldest_unhandled`` (None: none) is still
    being handled: a press in it may take a place ranked in front, so only the places ranked before it go in."""
    return rank is not None and (oldest_unhandled is None or rank < late_rank(oldest_unhandled))


def admitted_total(counts: dict[PlaceStatus, int]) -> int:
    """Places whose turn has come, of a room's counts by status (admitted now, or booked or passed since)."""
    return sum(counts.get(s, 0) for s in (PlaceStatus.ADMITTED, PlaceStatus.BOOKED, PlaceStatus.PASSED))


def admission_rate(admitted: int, opened_at: datetime | None, now: datetime) -> float | None:
    """Tourists admitted per minute since the sale opened (None before the first admission)."""
    if opened_at is None or admitted == 0:
        return None
    minutes = max((now - opened_at).total_seconds() / 60, 1.0)
    return admitted / minutes


def estimated_wait(ahead: int, rate_per_minute: float | None) -> int | None:
    """Whole minutes until the turn of someone with ``ahead`` people in front, at the measured rate (None: no
    measure yet)."""
    if rate_per_minute is None or rate_per_minute <= 0:
        return None
    return max(1, math.ceil(ahead / rate_per_minute))


@dataclass(frozen=True, slots=True)
class RoomStats:
    """What the operators' summary card shows for an on-sale."""

    waiting: int
    admitted: int
    booked: int
    passed: int
    rate_per_minute: float | None
