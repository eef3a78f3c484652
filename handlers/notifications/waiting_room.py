"""The waiting room's messages (issue 13): each tourist's one message, edited in place as the line moves (a new one
when their turn comes, so that it rings), and the operators' one summary card per on-sale, edited in place.

A row carries what its version must show (the job computed it), so it never repeats what the message says; a row
that a newer version of the same place (or card) superseded is closed unsent, as ``superseded`` (not a dead letter).
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.waiting_room import PlaceStatus, RoomStatus
from domain.use_cases.room_turns import shown_turn_end, turn_told
from handlers.notifications import RenderContext, Rendered, Superseded, renders
from handlers.read_models import read_session
from handlers.tourist.room_screens import PlaceView, other_sessions, room_kb, room_text

_STATUS_WORDS = {
    RoomStatus.WATCHING: "🔎",
    RoomStatus.PRE_QUEUE: "⏳",
    RoomStatus.OPEN: "🟢",
    RoomStatus.SOLD_OUT: "🔴",
    RoomStatus.CLOSED: "🔴",
}


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@renders(OutboxKind.ROOM_PLACE)
async def room_place(rc: RenderContext) -> Rendered | None:
    place_id, version = int(rc.payload["place_id"]), int(rc.payload["version"])
    now = rc.now or datetime.now(UTC)
    status = PlaceStatus(str(rc.payload["status"]))
    async with rc.uow.read():
        place = await rc.uow.rooms.place_by_id(place_id)
        room = await rc.uow.rooms.room(place.session_id) if place is not None else None
        view = await read_session(rc.uow, place.session_id) if place is not None else None
        user = await rc.uow.users.get(place.user_id) if place is not None else None
        others = await other_sessions(rc.uow, view, now) if view is not None and status is PlaceStatus.SOLD_OUT else ()
    if place is not None and version < place.version:
        raise Superseded  # a newer version of this message has its own row
    if place is None or room is None or view is None:
        return None  # gone
    tr = rc.i18n.translator(user.language if user is not None else None)
    position, wait = rc.payload.get("position"), rc.payload.get("wait_minutes")
    until = _moment(rc.payload.get("admit_until"))
    if status is PlaceStatus.ADMITTED:  # the window runs from this message (domain/use_cases/room_turns.py)
        until = shown_turn_end(until, place.admit_until, now, room.admission_window)
    pv = PlaceView(
        place_id=place_id,
        status=status,
        position=position if isinstance(position, int) else None,
        wait_minutes=wait if isinstance(wait, int) else None,
        opens_at=room.opens_at,
        window=room.admission_window,
        admit_until=until,
        left_at=place.left_at,
        view=view,
        others=tuple(others),
    )
    new = status is PlaceStatus.ADMITTED or place.message_id is None  # their turn rings: a new message

    async def remember(message_id: int) -> None:
        if new:
            async with rc.uow:
                await rc.uow.rooms.set_place_message(place_id, message_id)
                await rc.uow.commit()
        if status is PlaceStatus.ADMITTED:  # they know it is their turn: the window runs from now (drawn at ``now``)
            await turn_told(rc.uow, place_id, now)

    return Rendered(
        room_text(pv, tr),
        room_kb(pv, tr),
        edit_message_id=None if new else place.message_id,
        after_send=remember,
    )


@renders(OutboxKind.ROOM_SUMMARY)
async def room_summary(rc: RenderContext) -> Rendered | None:
    session_id, version = int(rc.payload["session_id"]), int(rc.payload["version"])
    async with rc.uow.read():
        room = await rc.uow.rooms.room(session_id)
        view = await read_session(rc.uow, session_id)
    if room is not None and version < room.summary_version:
        raise Superseded  # a newer card has its own row
    if room is None or view is None:
        return None
    tr = rc.i18n.translator(None)
    _ = tr.gettext
    p = rc.payload
    status = RoomStatus(str(p["status"]))
    title = localized(view.event.title, tr.language)
    rate = p.get("rate")
    lines = [
        f"{_STATUS_WORDS[status]} <b>" + _("On-sale: {event}").format(event=title) + "</b>",
        "🗓 " + tr.zoned(view.session.starts_at, view.region.timezone),
        _("In the queue: {waiting} · admitted now: {admitted} · booked: {booked} · turn passed: {passed}").format(
            waiting=tr.number(int(p["waiting"])),
            admitted=tr.number(int(p["admitted"])),
            booked=tr.number(int(p["booked"])),
            passed=tr.number(int(p["passed"])),
        ),
        _("Admission rate: {rate} a minute").format(rate=tr.number(float(rate)))
        if isinstance(rate, int | float)
        else _("Admission rate: not measured yet"),
        _("Seats left: {left} of {capacity}").format(
            left=tr.number(view.session.seats_left), capacity=tr.number(view.session.capacity)
        ),
    ]
    if room.seed is not None:
        lines.append(_("Pre-queue of {n} drawn with seed {seed}").format(n=tr.number(room.drawn), seed=room.seed))
    if status in (RoomStatus.SOLD_OUT, RoomStatus.CLOSED):
        lines.append(_("Sold out: everyone waiting is told."))

    async def remember(message_id: int) -> None:
        if room.summary_message_id is None:
            async with rc.uow:
                await rc.uow.rooms.set_summary_message(session_id, message_id)
                await rc.uow.commit()

    return Rendered("\n".join(lines), edit_message_id=room.summary_message_id, after_send=remember)
