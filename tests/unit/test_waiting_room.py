"""The waiting room's use cases through the in-memory fakes (issue 13): the draw, the line, admission, expiry,
leaving and coming back, sell-out, the message budget and the operators' card."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from domain.errors import InvalidTransition, NotAllowed, SoldOut
from domain.model.messages import OutboxKind
from domain.model.waiting_room import (
    LATE_RANK_BASE,
    PRESSES_IN_HAND,
    RETENTION,
    RUSH_MIN_PRESSES,
    TURN_DELIVERY,
    PlaceStatus,
    RoomStatus,
    draw_order,
    estimated_wait,
    late_rank,
)
from domain.use_cases import waiting_room as wr
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.room_turns import turn_told
from tests.fake_rooms import FakeWaitingRoomRepository
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OPENS = NOW + timedelta(minutes=30)
DESK = -100500
SETTINGS = wr.RoomSettings(desk_chat_id=DESK)
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}
UPDATES = itertools.count(1)  # Telegram's update ids: each press a later one


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    for user_id in range(1, 130):
        add_user(uow.state, user_id, now=NOW)
    return uow, seeded


def make_hot(uow: FakeUnitOfWork, session_id: int, opens_at: datetime | None = OPENS, **changes: object) -> None:
    session = uow.state.sessions[session_id]
    uow.state.sessions[session_id] = dataclasses.replace(session, hot=True, sale_opens_at=opens_at, **changes)  # type: ignore[arg-type]


def places(uow: FakeUnitOfWork) -> dict[int, object]:
    return {p.user_id: p for p in uow.state.places.values()}


def room_messages(uow: FakeUnitOfWork, kind: OutboxKind = OutboxKind.ROOM_PLACE) -> list[dict[str, object]]:
    return [{"chat_id": m.chat_id, **m.payload} for m in uow.state.outbox if m.kind is kind]


async def run(uow: FakeUnitOfWork, now: datetime, budget: int = 100, seed: int = 7) -> wr.RoomPass | None:
    return await wr.run_room(uow, now, budget, SETTINGS, lambda: seed)


async def press(uow: FakeUnitOfWork, session_id: int, user_id: int, now: datetime) -> wr.Entry | None:
    """A Book press as the handler makes it: each press is a new update, with the next update id."""
    return await wr.press_book(uow, session_id, user_id, next(UPDATES), now)


async def show_all(uow: FakeUnitOfWork, session_id: int, now: datetime) -> None:
    """The sender delivered each place's first message (queued by the press): it is gone from the outbox and the
    place has its message id, as the renderer stores it."""
    firsts = {p.stored_id for p in uow.state.places.values() if p.session_id == session_id and p.message_id is None}
    async with uow:
        for place_id in firsts:
            await uow.rooms.set_place_message(place_id, 1000 + place_id)
        await uow.commit()
    uow.state.outbox[:] = [
        m for m in uow.state.outbox if m.kind is not OutboxKind.ROOM_PLACE or m.payload["place_id"] not in firsts
    ]


# ---- not hot, hot, automatically hot ------------------------------------------------------------------------------


async def test_a_session_that_is_not_hot_books_as_usual(world) -> None:
    uow, seeded = world
    assert await press(uow, seeded.session_id, 1, NOW) is None
    assert uow.state.places == {}
    assert uow.state.rooms[seeded.session_id].status is RoomStatus.WATCHING


async def test_a_rush_of_presses_beyond_the_seats_left_makes_the_session_hot(world) -> None:
    uow, seeded = world  # the small session has 2 seats
    answers = [await press(uow, seeded.small_session_id, u, NOW) for u in range(1, RUSH_MIN_PRESSES + 2)]
    assert all(a is None for a in answers[: RUSH_MIN_PRESSES - 1])
    assert answers[RUSH_MIN_PRESSES - 1] is not None  # the press that made the rush: first in line
    assert uow.state.rooms[seeded.small_session_id].status is RoomStatus.OPEN
    assert [e.position for e in answers[RUSH_MIN_PRESSES - 1 :] if e] == [1, 2]


async def test_presses_spread_over_more_than_the_rush_window_do_not(world) -> None:
    uow, seeded = world
    for u in range(1, 3 * RUSH_MIN_PRESSES):
        assert await press(uow, seeded.small_session_id, u, NOW + timedelta(minutes=u)) is None


# ---- the pre-queue and its one draw --------------------------------------------------------------------------------


async def test_the_pre_queue_is_drawn_once_with_a_recorded_seed_and_later_arrivals_keep_their_order(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.session_id)
    early = list(range(1, 51))
    for user_id in early:
        entry = await press(uow, seeded.session_id, user_id, NOW + timedelta(seconds=user_id))
        assert entry is not None and entry.position is None  # drawn at opening
    assert all(p.rank is None for p in uow.state.places.values())

    done = await run(uow, OPENS, budget=0, seed=12345)
    assert done is not None and done.drawn_seed == 12345
    room = uow.state.rooms[seeded.session_id]
    assert (room.status, room.seed, room.drawn) == (RoomStatus.OPEN, 12345, 50)
    drawn = [p.user_id for p in sorted(uow.state.places.values(), key=lambda p: p.rank or 0)]
    arrival_ids = sorted(p.stored_id for p in uow.state.places.values())
    by_id = {p.stored_id: p.user_id for p in uow.state.places.values()}
    assert drawn == [by_id[i] for i in draw_order(arrival_ids, 12345)]  # anyone with the seed can check it
    assert drawn != early
    audit = [e for e in uow.state.audit if e.action == "room.drawn"]
    assert len(audit) == 1 and audit[0].after["seed"] == 12345

    late = list(range(100, 120))
    for i, user_id in enumerate(late):
        await press(uow, seeded.session_id, user_id, OPENS + timedelta(seconds=i))
    ranks_before = {p.user_id: p.rank for p in uow.state.places.values()}
    await run(uow, OPENS + timedelta(minutes=1), budget=0, seed=999)  # a second pass draws nothing again
    assert {p.user_id: p.rank for p in uow.state.places.values()} == ranks_before
    assert len([e for e in uow.state.audit if e.action == "room.drawn"]) == 1
    assert wr.line_order(list(uow.state.places.values())) == drawn + late  # after the draw: arrival order
    assert all(ranks_before[u] >= LATE_RANK_BASE for u in late)


async def test_a_press_after_the_opening_opens_the_room_itself_and_lines_up_behind_the_draw(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.session_id)
    for user_id in (1, 2, 3):
        await press(uow, seeded.session_id, user_id, NOW)
    entry = await press(uow, seeded.session_id, 4, OPENS + timedelta(seconds=1))  # before the job's pass
    assert entry is not None and entry.position == 4
    assert uow.state.rooms[seeded.session_id].status is RoomStatus.OPEN
    assert uow.state.rooms[seeded.session_id].drawn == 3


async def test_one_place_per_user_however_often_they_press(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.session_id, opens_at=None)
    first = await press(uow, seeded.session_id, 1, NOW)
    for user_id in (2, 3):
        await press(uow, seeded.session_id, user_id, NOW)
    again = await press(uow, seeded.session_id, 1, NOW + timedelta(seconds=30))
    assert first is not None and again is not None
    assert again.place.id == first.place.id and again.position == 1
    assert len(uow.state.places) == 3


# ---- admission, the window, booking --------------------------------------------------------------------------------


async def open_line(uow: FakeUnitOfWork, session_id: int, users: range) -> None:
    make_hot(uow, session_id, opens_at=None)
    for i, user_id in enumerate(users):
        await press(uow, session_id, user_id, NOW + timedelta(milliseconds=i))
    await show_all(uow, session_id, NOW)


async def test_the_front_is_admitted_no_more_than_the_seats_left_and_in_arrival_order(world) -> None:
    uow, seeded = world  # 20 seats
    await open_line(uow, seeded.session_id, range(1, 51))
    done = await run(uow, NOW + timedelta(seconds=1))
    assert done is not None and done.admitted == list(range(1, 21))
    admitted = [m for m in room_messages(uow) if m["status"] == "admitted"]
    assert [m["chat_id"] for m in admitted] == list(range(1, 21))
    # "your turn" goes ahead of the sender's queue (its window runs); positions wait their turn
    urgent = {m.chat_id for m in uow.state.outbox if m.kind is OutboxKind.ROOM_PLACE and m.urgent}
    assert urgent == set(range(1, 21))
    again = await run(uow, NOW + timedelta(seconds=2))
    assert again is not None and again.admitted == []  # every seat has someone admitted for it


async def test_the_budget_limits_admission_and_messages(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.session_id, range(1, 51))
    done = await run(uow, NOW + timedelta(seconds=1), budget=5)
    assert done is not None and done.admitted == [1, 2, 3, 4, 5] and done.messages == 5
    assert len(room_messages(uow)) == 5


async def test_an_admitted_tourist_books_and_the_window_end_passes_the_turn_on(world) -> None:
    uow, seeded = world  # the small session: 2 seats
    await open_line(uow, seeded.small_session_id, range(1, 6))
    await run(uow, NOW + timedelta(seconds=1))
    assert [u for u, p in places(uow).items() if p.status is PlaceStatus.ADMITTED] == [1, 2]
    assert (await wr.may_book(uow, seeded.small_session_id, 1, NOW + timedelta(seconds=2))).place.may_book(
        NOW + timedelta(seconds=2)
    )
    gate = await wr.may_book(uow, seeded.small_session_id, 3, NOW + timedelta(seconds=2))
    assert gate is not None and not gate.place.may_book(NOW) and gate.position == 1

    await place_order(uow, PlaceOrder(1, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    assert places(uow)[1].status is PlaceStatus.BOOKED

    await turn_told(uow, places(uow)[2].stored_id, NOW + timedelta(seconds=1))  # their turn's message went out
    later = NOW + timedelta(minutes=5, seconds=2)  # the default window is 5 minutes, from that message
    done = await run(uow, later)
    assert done is not None and done.passed == [2] and done.admitted == [3]  # one seat left: one admitted
    passed = [m for m in room_messages(uow) if m["status"] == "passed"]
    assert [m["chat_id"] for m in passed] == [2]


async def test_the_window_comes_from_the_catalog(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.small_session_id, opens_at=None, admission_window=timedelta(minutes=2))
    await press(uow, seeded.small_session_id, 1, NOW)
    await run(uow, NOW)
    assert places(uow)[1].admit_until == NOW + TURN_DELIVERY + timedelta(minutes=2)  # until the message goes out
    await turn_told(uow, places(uow)[1].stored_id, NOW + timedelta(seconds=3))
    assert places(uow)[1].admit_until == NOW + timedelta(minutes=2, seconds=3)


async def test_nothing_is_oversold_the_booking_takes_the_seats(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 6))
    await run(uow, NOW)
    for user_id in (1, 2):
        await place_order(uow, PlaceOrder(user_id, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    with pytest.raises(SoldOut):
        await place_order(uow, PlaceOrder(3, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    assert uow.state.sessions[seeded.small_session_id].seats_left == 0


# ---- sold out --------------------------------------------------------------------------------------------------------


async def test_sold_out_tells_everyone_waiting_within_the_budget_then_closes(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 13))
    await run(uow, NOW)
    for user_id in (1, 2):
        await place_order(uow, PlaceOrder(user_id, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    done = await run(uow, NOW + timedelta(seconds=1), budget=6)
    assert done is not None and done.sold_out
    assert uow.state.rooms[seeded.small_session_id].status is RoomStatus.SOLD_OUT
    await run(uow, NOW + timedelta(seconds=2), budget=6)
    told = sorted(m["chat_id"] for m in room_messages(uow) if m["status"] == "sold_out")
    assert told == list(range(3, 13))
    await run(uow, NOW + timedelta(seconds=3), budget=6)
    assert uow.state.rooms[seeded.small_session_id].status is RoomStatus.CLOSED
    with pytest.raises(SoldOut):
        await press(uow, seeded.small_session_id, 99, NOW + timedelta(seconds=4))


# ---- leaving and coming back -----------------------------------------------------------------------------------------


async def test_leaving_keeps_the_place_for_the_retention(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.session_id, range(1, 6))
    place = places(uow)[2]
    left = await wr.leave_room(uow, place.stored_id, 2, NOW)
    assert left.place.status is PlaceStatus.LEFT and left.place.keeps_place_until() == NOW + RETENTION
    back = await press(uow, seeded.session_id, 2, NOW + RETENTION - timedelta(seconds=1))
    assert back is not None and back.place.id == place.id and back.position == 2


async def test_coming_back_after_the_retention_lines_up_at_the_back(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.session_id, range(1, 6))
    place = places(uow)[2]
    await wr.leave_room(uow, place.stored_id, 2, NOW)
    await run(uow, NOW + RETENTION + timedelta(seconds=1), budget=0)
    assert places(uow)[2].status is PlaceStatus.GONE
    back = await press(uow, seeded.session_id, 2, NOW + RETENTION + timedelta(seconds=2))
    assert back is not None and back.position == 5 and back.fresh


async def test_those_stepped_out_are_not_admitted_but_keep_their_rank(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 6))
    await wr.leave_room(uow, places(uow)[1].stored_id, 1, NOW)
    done = await run(uow, NOW)
    assert done is not None and done.admitted == [2, 3]
    back = await wr.come_back(uow, places(uow)[1].stored_id, 1, next(UPDATES), NOW + timedelta(minutes=1))
    assert back.position == 1


async def test_someone_elses_or_a_forged_place_is_refused(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.session_id, range(1, 3))
    mine = places(uow)[1]
    for place_id, user_id in ((mine.stored_id, 2), (10_000, 1)):
        with pytest.raises(NotAllowed):
            await wr.my_place(uow, place_id, user_id, NOW)
        with pytest.raises(NotAllowed):
            await wr.leave_room(uow, place_id, user_id, NOW)
    assert places(uow)[1].status is PlaceStatus.WAITING
    await wr.leave_room(uow, mine.stored_id, 1, NOW)
    with pytest.raises(InvalidTransition):  # an old "Leave" button
        await wr.leave_room(uow, mine.stored_id, 1, NOW)


# ---- the messages ------------------------------------------------------------------------------------------------


async def test_positions_are_redrawn_front_first_and_never_unchanged(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 60))
    await run(uow, NOW)  # 1 and 2 admitted
    for user_id in (1, 2):
        await place_order(uow, PlaceOrder(user_id, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    uow.state.sessions[seeded.small_session_id] = dataclasses.replace(
        uow.state.sessions[seeded.small_session_id], capacity=60, seats_left=60
    )
    uow.state.outbox.clear()
    await run(uow, NOW + timedelta(seconds=10), budget=10)
    moved = [m for m in room_messages(uow) if m["status"] == "waiting"]
    positions = [m["position"] for m in moved]
    assert positions == sorted(positions)  # the front first
    for m in room_messages(uow):
        assert m["version"] >= 2
    uow.state.outbox.clear()
    await run(uow, NOW + timedelta(seconds=11), budget=100)
    for m in room_messages(uow):
        place = uow.state.places[int(m["place_id"])]  # type: ignore[call-overload]
        assert m["status"] != "waiting" or m["position"] == place.shown_position


async def test_a_message_is_never_queued_twice_for_the_same_position(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.session_id, range(1, 30))
    await run(uow, NOW + timedelta(seconds=10))
    before = len(uow.state.outbox)
    await run(uow, NOW + timedelta(seconds=20))
    assert [m for m in uow.state.outbox[before:] if m.kind is OutboxKind.ROOM_PLACE] == []


async def test_the_operators_get_one_card_per_on_sale_edited_as_the_figures_change(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 6))
    await run(uow, NOW)
    await run(uow, NOW + timedelta(seconds=1))  # within summary_every: no new version
    cards = room_messages(uow, OutboxKind.ROOM_SUMMARY)
    assert len(cards) == 1 and cards[0]["chat_id"] == DESK and cards[0]["admitted"] == 2
    await place_order(uow, PlaceOrder(1, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    await run(uow, NOW + timedelta(seconds=30))
    cards = room_messages(uow, OutboxKind.ROOM_SUMMARY)
    assert [c["version"] for c in cards] == [1, 2] and cards[1]["booked"] == 1
    assert {m.dedup_key.rsplit(":", 1)[0] for m in uow.state.outbox if m.kind is OutboxKind.ROOM_SUMMARY} == {
        f"{OutboxKind.ROOM_SUMMARY.value}:{seeded.small_session_id}"
    }


def test_the_estimated_wait_follows_the_measured_rate() -> None:
    assert estimated_wait(0, 10.0) == 1
    assert estimated_wait(95, 10.0) == 10
    assert estimated_wait(5, None) is None


async def test_after_the_draw_everyone_is_told_their_place_front_first_within_the_budget(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.small_session_id)  # 2 seats
    for user_id in range(1, 31):
        await press(uow, seeded.small_session_id, user_id, NOW)
    await show_all(uow, seeded.small_session_id, NOW)
    await run(uow, OPENS, budget=12)
    first = room_messages(uow)
    assert [m["status"] for m in first[:2]] == ["admitted", "admitted"]
    assert [m["position"] for m in first[2:]] == list(range(1, 11))  # the front first, 12 messages in all
    await run(uow, OPENS + timedelta(seconds=1), budget=100)
    told = {m["place_id"] for m in room_messages(uow)}
    assert told == {p.stored_id for p in uow.state.places.values()}  # everyone, once each so far
    assert len(room_messages(uow)) == 30


# ---- regressions found by the 300-tourist on-sale (tests/e2e/test_onsale_e2e.py) ----------------------------------


async def test_a_press_queues_the_places_first_message_in_its_own_transaction(world) -> None:
    """The handler answers the press with a toast only: the first message is an outbox row, so the sender draws
    it within Telegram's limits and no place is left without one however many press at once."""
    uow, seeded = world
    make_hot(uow, seeded.session_id, opens_at=None)
    commits = uow.commits
    first = await press(uow, seeded.session_id, 1, NOW)
    assert first is not None and first.fresh and uow.commits == commits + 1
    place = places(uow)[1]
    assert room_messages(uow) == [
        {
            "chat_id": 1,
            "place_id": place.stored_id,
            "version": 1,
            "status": "waiting",
            "position": 1,
            "wait_minutes": None,
            "admit_until": None,
        }
    ]
    assert (place.message_id, place.version, place.shown_status, place.shown_position) == (None, 1, "waiting", 1)
    again = await press(uow, seeded.session_id, 1, NOW + timedelta(seconds=1))  # before the sender got to it
    assert again is not None and not again.fresh and len(room_messages(uow)) == 1


async def test_a_place_taken_anew_gets_a_new_message_queued(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 3))
    await run(uow, NOW)
    await place_order(uow, PlaceOrder(1, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    uow.state.outbox.clear()
    again = await press(uow, seeded.small_session_id, 1, NOW + timedelta(seconds=5))  # booked: a new place
    assert again is not None and again.fresh
    place = places(uow)[1]
    assert place.message_id is None  # drawn in a new message below, the booked one keeps what it said
    assert [(m["chat_id"], m["status"], m["version"]) for m in room_messages(uow)] == [(1, "waiting", place.version)]


async def test_the_line_is_the_order_of_the_presses_updates_not_of_their_handling(world) -> None:
    """Chats are handled side by side: the press that arrived first may be handled last. Its update id says."""
    uow, seeded = world
    make_hot(uow, seeded.session_id, opens_at=None)
    uow.state.next_place_id = 1023  # and place ids across a multiple of 1024 change nothing
    for user_id, update_id, handled in ((3, 503, 0), (1, 501, 0), (2, 502, 4)):
        await wr.press_book(uow, seeded.session_id, user_id, update_id, NOW + timedelta(microseconds=handled))
    assert wr.line_order(list(uow.state.places.values())) == [1, 2, 3]
    assert [places(uow)[u].rank for u in (1, 2, 3)] == [late_rank(501), late_rank(502), late_rank(503)]
    assert (await wr.may_book(uow, seeded.session_id, 1, NOW)).position == 1  # type: ignore[union-attr]


async def test_admission_waits_for_the_presses_the_bot_is_still_handling(world) -> None:
    uow, seeded = world
    make_hot(uow, seeded.session_id, opens_at=None)
    for user_id, update_id in ((1, 11), (2, 12), (4, 14)):
        await wr.press_book(uow, seeded.session_id, user_id, update_id, NOW)
    await show_all(uow, seeded.session_id, NOW)
    inbox = cast(FakeWaitingRoomRepository, uow.rooms).unhandled
    inbox[13] = NOW  # tourist 3's press: received before tourist 4's, its handler not done yet
    inbox[9] = NOW - PRESSES_IN_HAND - timedelta(seconds=1)  # failed and retried for longer: stuck, not waited for
    cast(FakeWaitingRoomRepository, uow.rooms).retried.add(9)
    done = await run(uow, NOW + timedelta(seconds=1))
    assert done is not None and done.admitted == [1, 2]
    await wr.press_book(uow, seeded.session_id, 3, 13, NOW + timedelta(seconds=1))
    del inbox[13]
    done = await run(uow, NOW + timedelta(seconds=2))
    assert done is not None and done.admitted == [3, 4]  # the arrival order, not the handling order


async def test_the_order_uses_the_turn_in_its_own_transaction_so_no_pass_tells_the_booker_sold_out(world) -> None:
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 6))  # 2 seats
    await run(uow, NOW)
    with pytest.raises(SoldOut):  # an order that fails leaves the turn as it was
        await place_order(uow, PlaceOrder(2, seeded.small_session_id, {"adult": 3}, ANSWERS), NOW)
    assert places(uow)[2].status is PlaceStatus.ADMITTED
    commits = uow.commits
    for user_id in (1, 2):
        await place_order(uow, PlaceOrder(user_id, seeded.small_session_id, {"adult": 1}, ANSWERS), NOW)
    assert uow.commits == commits + 2  # one transaction each: the seats and the turn used together
    assert [places(uow)[u].status for u in (1, 2)] == [PlaceStatus.BOOKED, PlaceStatus.BOOKED]
    uow.state.outbox.clear()
    done = await run(uow, NOW + timedelta(seconds=1))  # the pass right after the last seat went
    assert done is not None and done.sold_out
    assert sorted(m["chat_id"] for m in room_messages(uow) if m["status"] == "sold_out") == [3, 4, 5]
    assert [places(uow)[u].status for u in (1, 2)] == [PlaceStatus.BOOKED, PlaceStatus.BOOKED]


async def test_a_screen_drawn_before_the_turn_came_leaves_the_turn_message_current(world) -> None:
    """The handler drew the place as waiting; the job admitted it before the handler stored the message: the
    "your turn" row stays the newest version (it is not skipped as outdated)."""
    uow, seeded = world
    await open_line(uow, seeded.small_session_id, range(1, 4))
    place_id = places(uow)[1].stored_id
    await run(uow, NOW)
    [turn] = [m for m in room_messages(uow) if m["chat_id"] == 1 and m["status"] == "admitted"]
    await wr.set_place_message(uow, place_id, 1, 5555, PlaceStatus.WAITING, NOW)
    place = places(uow)[1]
    assert (place.message_id, place.version, place.shown_status) == (5555, turn["version"], PlaceStatus.ADMITTED)
    await wr.set_place_message(uow, place_id, 1, 5556, PlaceStatus.ADMITTED, NOW)  # drawn as it is: the newest
    assert places(uow)[1].version == turn["version"] + 1  # type: ignore[operator]
