"""Use cases of the waiting room (issue 13): a Book press on a hot session, the tourist's own buttons, and the job's
pass over a room (draw, admission, expiry, sell-out, the tourists' messages within a budget, the desk's summary).

Each is one transaction. The tourists' messages are outbox rows (``ROOM_PLACE``) carrying what the message must
show at that version, so a row never repeats what the message already says ("message is not modified" cannot
happen) and an older row is skipped once a newer one exists. The first one too, queued by the press that takes the
place: a burst of presses is drawn within Telegram's limits by the sender, and no place is left without a message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import takewhile

from domain.errors import ConcurrentChange, InvalidTransition, NotAllowed, NotFound, SoldOut
from domain.model.catalog import EventSession
from domain.model.messages import SYSTEM, AuditEntry, OutboxKind, keyed_message
from domain.model.waiting_room import (
    DEFAULT_ADMISSION_WINDOW,
    IN_LINE,
    PRESSES_IN_HAND,
    Place,
    PlaceStatus,
    RoomStats,
    RoomStatus,
    WaitingRoom,
    admissible,
    admission_rate,
    admitted_total,
    draw_order,
    estimated_wait,
    late_rank,
)
from domain.ports import UnitOfWork

# Statuses told with a message of their own when they begin (the rest is a position moving).
_ANNOUNCED = (PlaceStatus.ADMITTED, PlaceStatus.PASSED, PlaceStatus.SOLD_OUT)
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """How the room spends the sender's ~30 messages a second: ``messages_per_s`` is its share (the rest is left
    for the product); of that, the front (``near_front`` places) is redrawn as often as every ``near_every``, the
    others when their position moved by ``far_move`` of itself (at least ``far_min`` places) and no more often than
    ``far_every``. The operators' card is edited at most every ``summary_every`` (a group takes 20 a minute)."""

    desk_chat_id: int | None = None
    messages_per_s: float = 26.0
    near_front: int = 20
    near_every: timedelta = timedelta(seconds=5)
    far_move: float = 0.1
    far_min: int = 10
    far_every: timedelta = timedelta(seconds=30)
    summary_every: timedelta = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class Entry:
    """A tourist's place as a screen shows it: ``position`` (1 = next) is None in the pre-queue; ``fresh``: the
    place had no message, and this call queued its first one (a new place, or one taken anew)."""

    room: WaitingRoom
    place: Place
    position: int | None
    fresh: bool = False
    rate_per_minute: float | None = None

    @property
    def ahead(self) -> int:
        return (self.position or 1) - 1

    @property
    def wait_minutes(self) -> int | None:
        return estimated_wait(self.ahead, self.rate_per_minute) if self.position is not None else None


# ---- the tourist ----------------------------------------------------------------------------------------------------


def room_for(session: EventSession, now: datetime) -> WaitingRoom:
    """A new room for ``session``: a queue when the catalog says it is hot (a pre-queue before its opening), else
    one that watches for a rush."""
    window = session.admission_window or DEFAULT_ADMISSION_WINDOW
    if not session.hot:
        return WaitingRoom(session.id, RoomStatus.WATCHING, now, window, now)
    opens_at = session.sale_opens_at or now
    if now < opens_at:
        return WaitingRoom(session.id, RoomStatus.PRE_QUEUE, opens_at, window, now)
    return WaitingRoom(session.id, RoomStatus.OPEN, opens_at, window, now, opened_at=now)


async def press_book(uow: UnitOfWork, session_id: int, user_id: int, arrival: int, now: datetime) -> Entry | None:
    """Book pressed on ``session_id``: None when the session has no queue (book as usual). Otherwise the tourist's
    one place: the one they have (pressing again never gives a second place), the one they stepped out of (within
    the retention), or a new one at the back (in the pre-queue before the opening) ranked by ``arrival`` (the press's
    ``update_id``: :func:`late_rank`), its first message queued (:attr:`Entry.fresh`). An admitted tourist gets their
    place back with :meth:`Place.may_book` true. A room whose session sold out raises :class:`SoldOut`."""
    for attempt in range(_CLAIM_ATTEMPTS):
        try:
            return await _press_book(uow, session_id, user_id, arrival, now)
        except ConcurrentChange:  # the same tourist pressed twice at once: the other press made the place
            if attempt == _CLAIM_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _press_book(uow: UnitOfWork, session_id: int, user_id: int, arrival: int, now: datetime) -> Entry | None:
    async with uow:
        session = await uow.catalog.session(session_id)
        if session is None:
            raise NotFound(session=session_id)
        room = await uow.rooms.room(session_id)
        if room is None:
            room = await uow.rooms.add_room(room_for(session, now))
        if room.status is RoomStatus.WATCHING:
            if session.hot:  # the catalog made it hot after the room began watching
                fresh = room_for(session, now)
                room.status, room.opens_at, room.opened_at = fresh.status, fresh.opens_at, fresh.opened_at
            elif not room.count_press(now, session.seats_left):
                await uow.rooms.save_room(room)
                await uow.commit()
                return None
            await uow.rooms.save_room(room)
            await _audit(uow, now, "room.opened", room, {"hot": "catalog" if session.hot else "rush"})
        elif room.status is RoomStatus.PRE_QUEUE:
            if now >= room.opens_at:
                room = await _open_now(uow, room, now)
            else:  # joins go on together; the draw waits for those in hand, and they for it
                room = await uow.rooms.room(session_id, lock="share") or room
        elif room.status in (RoomStatus.SOLD_OUT, RoomStatus.CLOSED):
            if session.seats_left == 0 or not session.bookable(now):
                raise SoldOut(left=0)
            room.reopen(now)
            await uow.rooms.save_room(room)
        entry = await _take_place(uow, room, user_id, arrival, now)
        await uow.commit()
    return entry


async def _take_place(
    uow: UnitOfWork, room: WaitingRoom, user_id: int, arrival: int, now: datetime, redrawn: bool = False
) -> Entry:
    """The user's one place, taken (back); a new one gets its first message queued unless the caller ``redrawn``."""
    place = await uow.rooms.place(room.session_id, user_id)
    fresh = place is None or (place.message_id is None and place.version == 0)
    if place is None:
        place = await uow.rooms.add_place(Place(room.session_id, user_id, now))
        await _rank_late(uow, room, place, arrival)
    elif place.status is PlaceStatus.LEFT:
        if not place.come_back(now):
            await _rejoin(uow, place, now, redrawn)
            fresh = not redrawn
        await uow.rooms.save_place(place)
        await _rank_late(uow, room, place, arrival)
    elif place.status in (PlaceStatus.BOOKED, PlaceStatus.PASSED, PlaceStatus.GONE) or (
        place.status is PlaceStatus.SOLD_OUT and room.status is RoomStatus.OPEN
    ):
        if place.status is PlaceStatus.SOLD_OUT:
            place.status = PlaceStatus.GONE  # the room reopened: those told "sold out" line up anew
        await _rejoin(uow, place, now, redrawn)
        fresh = True
        await uow.rooms.save_place(place)
        await _rank_late(uow, room, place, arrival)
    entry = await _entry(uow, room, place, now, fresh)
    if fresh:  # the first message goes through the outbox, like every later one (the sender keeps the limits)
        await _tell(uow, room, place, now, entry.position, entry.wait_minutes)
        await uow.rooms.save_place(place)
    return entry


async def _rejoin(uow: UnitOfWork, place: Place, now: datetime, redrawn: bool) -> None:
    """A new place at the back, in a new message (the old one says how the last ended) unless ``redrawn``."""
    place.rejoin(now)
    if not redrawn:
        place.message_id = None
        await uow.rooms.set_place_message(place.stored_id, None)


async def _rank_late(uow: UnitOfWork, room: WaitingRoom, place: Place, arrival: int) -> None:
    """A place taken after the opening goes behind everyone, by ``arrival`` (its press's update id); in the
    pre-queue it waits for the draw."""
    if room.status is not RoomStatus.PRE_QUEUE and place.rank is None:
        place.rank = late_rank(arrival)
        await uow.rooms.set_ranks({place.stored_id: place.rank})


async def _entry(uow: UnitOfWork, room: WaitingRoom, place: Place, now: datetime, fresh: bool = False) -> Entry:
    if place.rank is None or not place.in_line:
        return Entry(room, place, None, fresh)
    counts = await uow.rooms.counts(room.session_id)
    rate = admission_rate(admitted_total(counts), room.opened_at, now)
    return Entry(room, place, await uow.rooms.ahead_of(place) + 1, fresh, rate)


async def _own_place(uow: UnitOfWork, place_id: int, user_id: int) -> tuple[WaitingRoom, Place]:
    """The place if it is the user's; a forged or foreign id is :class:`NotAllowed`."""
    place = await uow.rooms.place_by_id(place_id)
    room = await uow.rooms.room(place.session_id) if place is not None else None
    if place is None or room is None or place.user_id != user_id:
        raise NotAllowed(place=place_id)
    return room, place


async def my_place(uow: UnitOfWork, place_id: int, user_id: int, now: datetime) -> Entry:
    """The place as it stands (the "🔄 My place" button): reads only."""
    async with uow.read():
        room, place = await _own_place(uow, place_id, user_id)
        return await _entry(uow, room, place, now)


async def set_place_message(
    uow: UnitOfWork, place_id: int, user_id: int, message_id: int, drawn: PlaceStatus, now: datetime
) -> None:
    """The message just shown for the place, drawn for status ``drawn``: from now on the one edited in place. It is
    the newest version only if the place is still so; if the job changed it meanwhile, the job's row stays current."""
    async with uow:
        room, place = await _own_place(uow, place_id, user_id)
        await uow.rooms.set_place_message(place.stored_id, message_id)
        if place.status is drawn:
            place.message_id = message_id
            place.shown(now, (await _entry(uow, room, place, now)).position)
            await uow.rooms.save_place(place)
        await uow.commit()


async def leave_room(uow: UnitOfWork, place_id: int, user_id: int, now: datetime) -> Entry:
    """The tourist steps out: the place is kept for the retention (:data:`RETENTION`); Book or "Back" returns."""
    async with uow:
        room, place = await _own_place(uow, place_id, user_id)
        place.leave(now)
        await uow.rooms.save_place(place)
        entry = await _entry(uow, room, place, now)
        await uow.commit()
    return entry


async def come_back(uow: UnitOfWork, place_id: int, user_id: int, arrival: int, now: datetime) -> Entry:
    """Back from stepping out: the same place within the retention, else a new one at the back (by ``arrival``, the
    press's update id), shown in the pressed message."""
    async with uow:
        room, place = await _own_place(uow, place_id, user_id)
        if place.status is not PlaceStatus.LEFT:
            raise InvalidTransition(place=place_id, status=place.status.value)
        entry = await _take_place(uow, room, user_id, arrival, now, redrawn=True)
        await uow.commit()
    return entry


async def may_book(uow: UnitOfWork, session_id: int, user_id: int, now: datetime) -> Entry | None:
    """Whether the booking of ``session_id`` is gated: None when it is not (no queue), else the tourist's place
    (its :meth:`Place.may_book` says whether it is their turn). Reads only: the seats are the booking's own."""
    async with uow.read():
        room = await uow.rooms.room(session_id)
        if room is None or not room.is_queue:
            return None
        place = await uow.rooms.place(session_id, user_id)
        if place is None:
            return Entry(room, Place(session_id, user_id, now, status=PlaceStatus.GONE), None)
        return await _entry(uow, room, place, now)


# ---- the job --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RoomPass:
    """What one pass over a room did."""

    session_id: int
    messages: int = 0
    admitted: list[int] = field(default_factory=list)  # user ids, in admission order
    passed: list[int] = field(default_factory=list)
    sold_out: bool = False
    drawn_seed: int | None = None


async def run_room(
    uow: UnitOfWork,
    now: datetime,
    budget: int,
    settings: RoomSettings,
    new_seed: Callable[[], int],
    exclude: Collection[int] = (),
) -> RoomPass | None:
    """One pass over a room with work (claimed: another process takes another room), in one transaction: draw the
    pre-queue at the opening; let lapsed places go; end admission windows (the turn passes on, they are told); sell
    out when no seat is left (everyone waiting is told); admit the front as far as the seats left and ``budget``
    allow; then spend what is left of ``budget`` (messages) on telling status changes and moved positions, front
    first; then the operators' card. None when no room has work."""
    async with uow:
        room = await uow.rooms.claim_room(exclude)
        if room is None:
            return None
        done = RoomPass(room.session_id)
        session = await uow.catalog.session(room.session_id)
        if room.status is RoomStatus.PRE_QUEUE and now >= room.opens_at:
            await _draw(uow, room, now, new_seed())
            done.drawn_seed = room.seed
        if room.status is RoomStatus.OPEN:
            await _end_windows(uow, room, now, done)
            if session is None or session.seats_left == 0 or not session.bookable(now):
                room.sell_out()
                await _sell_out(uow, room)
                await _audit(uow, now, "room.sold_out", room, {})
                done.sold_out = True
            else:
                await _admit(uow, room, session.seats_left, budget, now, done)
        told = await _announce(uow, room, now, budget)
        if room.status is RoomStatus.OPEN:
            told += await _move_positions(uow, room, now, budget - told, settings)
        elif room.status is RoomStatus.SOLD_OUT and not await uow.rooms.unannounced(room.session_id, _ANNOUNCED, 1):
            room.status = RoomStatus.CLOSED
        await _summary(uow, room, now, settings)
        await uow.rooms.save_room(room)
        await uow.commit()
    done.messages = told
    return done


async def _open_now(uow: UnitOfWork, room: WaitingRoom, now: datetime) -> WaitingRoom:
    """Open the room at a Book press after its opening time, unless someone opened it meanwhile (the lock waits)."""
    locked = await uow.rooms.room(room.session_id, lock="update")
    if locked is None or locked.status is not RoomStatus.PRE_QUEUE:
        return locked or room
    await _draw(uow, locked, now, _seed_of(now, locked))
    await uow.rooms.save_room(locked)
    return locked


def _seed_of(now: datetime, room: WaitingRoom) -> int:
    """A seed when a Book press opens the room: unguessable enough before it happens (the microsecond of the
    first press after the opening), and recorded like the job's."""
    return (int(now.timestamp() * 1_000_000) * 1_000_003 + room.session_id) % (1 << 62)


async def _draw(uow: UnitOfWork, room: WaitingRoom, now: datetime, seed: int) -> None:
    """The one draw of the pre-queue: its places by arrival, shuffled with ``seed``; recorded in the audit log."""
    order = draw_order(await uow.rooms.undrawn(room.session_id), seed)
    await uow.rooms.set_ranks({place_id: rank for rank, place_id in enumerate(order)})
    room.open(now, seed, len(order))
    await _audit(uow, now, "room.drawn", room, {"seed": seed, "places": len(order), "order": order[:1000]})


async def _end_windows(uow: UnitOfWork, room: WaitingRoom, now: datetime, done: RoomPass) -> None:
    """Lapsed stepped-out places are gone; admitted tourists past their window pass the turn on."""
    changed: list[Place] = []
    for place in await uow.rooms.with_status(room.session_id, (PlaceStatus.LEFT, PlaceStatus.ADMITTED), 10_000):
        if place.status is PlaceStatus.LEFT and (until := place.keeps_place_until()) and now >= until:
            place.lapse()
            changed.append(place)
        elif place.status is PlaceStatus.ADMITTED and place.admit_until is not None and now >= place.admit_until:
            place.pass_turn(now)
            done.passed.append(place.user_id)
            changed.append(place)
    await uow.rooms.save_places(changed)


async def _sell_out(uow: UnitOfWork, room: WaitingRoom) -> None:
    statuses = (PlaceStatus.WAITING, PlaceStatus.LEFT, PlaceStatus.ADMITTED)
    places = list(await uow.rooms.with_status(room.session_id, statuses, 1_000_000))
    for place in places:
        place.sell_out()
    await uow.rooms.save_places(places)


async def _admit(
    uow: UnitOfWork, room: WaitingRoom, seats_left: int, budget: int, now: datetime, done: RoomPass
) -> None:
    """Admit the front (those waiting, not those stepped out) while each admitted tourist can still find a seat
    (at most one admitted per seat left) and their message fits the budget, ranked before every press still in
    the bot's hands (:func:`admissible`: such a press may take a place in front of them)."""
    in_window = len(await uow.rooms.with_status(room.session_id, (PlaceStatus.ADMITTED,), seats_left + 1))
    room_for = min(seats_left - in_window, budget)
    if room_for <= 0:
        return
    oldest = await uow.rooms.oldest_unhandled_update(now - PRESSES_IN_HAND)
    waiting = await uow.rooms.with_status(room.session_id, (PlaceStatus.WAITING,), room_for)
    front = list(takewhile(lambda place: admissible(place.rank, oldest), waiting))
    for place in front:
        place.admit(now, room.admission_window)
        done.admitted.append(place.user_id)
    await uow.rooms.save_places(front)


async def _announce(uow: UnitOfWork, room: WaitingRoom, now: datetime, budget: int) -> int:
    """A message to each place whose status began and was not told yet (their turn, the turn passed, sold out),
    in line order, within ``budget``; how many."""
    if budget <= 0:
        return 0
    places = list(await uow.rooms.unannounced(room.session_id, _ANNOUNCED, budget))
    for place in places:
        await _tell(uow, room, place, now, None, None)
    await uow.rooms.save_places(places)
    return len(places)


async def _move_positions(
    uow: UnitOfWork, room: WaitingRoom, now: datetime, budget: int, settings: RoomSettings
) -> int:
    """Show positions to places never shown one (drawn, or taken in by room_intake.py), then redraw those that moved:
    the front most often, the rest when they moved noticeably; never one showing its position. How many."""
    if budget <= 0:
        return 0
    first: dict[int, int] = {}  # place id -> its position now
    redraw: dict[int, int] = {}
    for position, mark in enumerate(await uow.rooms.line_marks(room.session_id), start=1):
        if len(first) >= budget:
            break
        never_told = mark.shown_status is None and not mark.has_message
        shown = mark.shown_position
        if never_told or (mark.has_message and shown is None and mark.shown_status is mark.status):
            first[mark.place_id] = position
        if never_told or not mark.has_message or shown in (None, position) or mark.shown_status is not mark.status:
            continue
        since = now - mark.shown_at if mark.shown_at is not None else settings.far_every
        if len(redraw) >= budget or shown is None:
            continue
        if position <= settings.near_front:
            is_due = since >= settings.near_every
        else:
            moved = shown - position >= max(settings.far_min, int(shown * settings.far_move))
            is_due = moved and since >= settings.far_every
        if is_due:
            redraw[mark.place_id] = position
    due = {**first, **dict(list(redraw.items())[: budget - len(first)])}
    rate = admission_rate(admitted_total(await uow.rooms.counts(room.session_id)), room.opened_at, now)
    chosen = sorted(await uow.rooms.places_by_ids(list(due)), key=lambda place: due[place.stored_id])  # front first
    for place in chosen:
        await _tell(uow, room, place, now, due[place.stored_id], estimated_wait(due[place.stored_id] - 1, rate))
    await uow.rooms.save_places(chosen)
    return len(chosen)


async def _tell(
    uow: UnitOfWork, room: WaitingRoom, place: Place, now: datetime, position: int | None, wait: int | None
) -> None:
    """The place's message at its next version, showing its status and ``position`` as of now; "your turn" goes
    ahead of the sender's queue (its window is running)."""
    place.shown(now, position)
    until = place.admit_until.isoformat() if place.admit_until else None
    payload: dict[str, object] = {"place_id": place.stored_id, "version": place.version, "status": place.status.value}
    payload |= {"position": position, "wait_minutes": wait, "admit_until": until}
    turn = place.status is PlaceStatus.ADMITTED
    message = keyed_message(OutboxKind.ROOM_PLACE, place.user_id, payload, now, place.id, place.version, urgent=turn)
    await uow.outbox.add(message)


async def room_stats(uow: UnitOfWork, room: WaitingRoom, now: datetime) -> RoomStats:
    counts = await uow.rooms.counts(room.session_id)
    return RoomStats(
        waiting=sum(counts.get(s, 0) for s in IN_LINE),
        admitted=counts.get(PlaceStatus.ADMITTED, 0),
        booked=counts.get(PlaceStatus.BOOKED, 0),
        passed=counts.get(PlaceStatus.PASSED, 0),
        rate_per_minute=admission_rate(admitted_total(counts), room.opened_at, now),
    )


async def _summary(uow: UnitOfWork, room: WaitingRoom, now: datetime, settings: RoomSettings) -> None:
    """The operators' one card for the on-sale, edited in place when its figures changed (at most every
    ``summary_every``, and always when the room closes)."""
    if settings.desk_chat_id is None:
        return
    recent = room.summary_at is not None and now - room.summary_at < settings.summary_every
    if recent and room.status is not RoomStatus.CLOSED:
        return
    stats = await room_stats(uow, room, now)
    figures: dict[str, object] = {
        "session_id": room.session_id,
        "status": room.status.value,
        "waiting": stats.waiting,
        "admitted": stats.admitted,
        "booked": stats.booked,
        "passed": stats.passed,
        "rate": round(stats.rate_per_minute, 1) if stats.rate_per_minute is not None else None,
        "seed": room.seed,
        "drawn": room.drawn,
    }
    if room.summary_at is not None and figures == room.summary_figures:
        return
    room.summary_version += 1
    room.summary_at, room.summary_figures = now, figures
    payload = {**figures, "version": room.summary_version}
    key = (room.session_id, room.summary_version)
    await uow.outbox.add(keyed_message(OutboxKind.ROOM_SUMMARY, settings.desk_chat_id, payload, now, *key))


async def _audit(uow: UnitOfWork, now: datetime, action: str, room: WaitingRoom, after: dict[str, object]) -> None:
    await uow.audit.add(AuditEntry(now, SYSTEM, action, None, {}, {"session_id": room.session_id, **after}))


def line_order(places: Sequence[Place]) -> list[int]:
    """User ids in the order of the line (tests and benches compare it with the arrival order)."""
    return [p.user_id for p in sorted(places, key=lambda p: (p.rank is None, p.rank or 0))]
