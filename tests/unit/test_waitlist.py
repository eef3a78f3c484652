"""The waitlist on fakes: the "first whose number fits" rule, the entry's transitions, and the use cases (join,
leave, offer, claim, expire): offers go in order, hold their seats, expire and pass on."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidQuantity, InvalidTransition, NotAllowed, SessionNotBookable, SoldOut
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus
from domain.model.waitlist import (
    NotSoldOut,
    OfferClosed,
    WaitlistEntry,
    WaitlistStatus,
    first_that_fits,
    offers_for,
)
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.waitlist import (
    ClaimOffer,
    claim_offer,
    expire_offers,
    join_waitlist,
    leave_waitlist,
    offer_freed_seats,
)
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
BUYER, OTHER = 500, 501
W1, W2, W3 = 601, 602, 603


def _entry(entry_id: int, seats: int, status: WaitlistStatus = WaitlistStatus.WAITING) -> WaitlistEntry:
    return WaitlistEntry(session_id=1, user_id=entry_id, seats=seats, joined_at=NOW, status=status, id=entry_id)


def test_the_first_whose_number_fits_is_chosen_in_the_order_they_joined() -> None:
    entries = [_entry(1, 3), _entry(2, 1), _entry(3, 2), _entry(4, 1)]
    assert first_that_fits(entries, 2) is entries[1]
    assert first_that_fits(entries, 3) is entries[0]
    assert first_that_fits(entries, 0) is None
    assert [e.id for e in offers_for(entries, 4)] == [1, 2]  # 3 + 1
    assert [e.id for e in offers_for(entries, 3)] == [1]
    assert [e.id for e in offers_for(entries, 2)] == [2, 4]  # the 2-seat entry does not fit after the first 1
    assert offers_for([_entry(1, 2, WaitlistStatus.OFFERED), _entry(2, 5)], 4) == []


def test_an_entry_moves_only_along_its_transitions() -> None:
    entry = _entry(1, 2)
    with pytest.raises(InvalidTransition):
        entry.claim(9, NOW)
    entry.offer(NOW, WINDOW)
    assert entry.holds_seats() == 2 and entry.offer_open(NOW) and not entry.offer_open(NOW + WINDOW)
    with pytest.raises(InvalidTransition):
        entry.expire(NOW + WINDOW - timedelta(seconds=1))
    with pytest.raises(InvalidTransition):
        entry.offer(NOW, WINDOW)
    entry.expire(NOW + WINDOW)
    assert entry.status is WaitlistStatus.EXPIRED and entry.holds_seats() == 0 and not entry.is_open
    with pytest.raises(InvalidTransition):
        entry.leave(NOW + WINDOW)


# ---- the use cases on the fake world --------------------------------------------------------------------------------


async def _sold_out(uow: FakeUnitOfWork, seeded: Seeded) -> tuple[int, int]:
    """The instant session (10 seats) sold out to two tourists: 4 and 6 seats; their order ids."""
    for uid in (BUYER, OTHER, W1, W2, W3):
        add_user(uow.state, uid)
    sid = seeded.instant_session_id
    first = await place_order(uow, PlaceOrder(BUYER, sid, {"adult": 4}), NOW)
    second = await place_order(uow, PlaceOrder(OTHER, sid, {"adult": 6}), NOW)
    return first.stored_id, second.stored_id


def _seats_left(uow: FakeUnitOfWork, session_id: int) -> int:
    return uow.state.sessions[session_id].seats_left


def _status(uow: FakeUnitOfWork, user_id: int) -> WaitlistStatus:
    return next(e.status for e in uow.state.waitlist.values() if e.user_id == user_id)


def _messages(uow: FakeUnitOfWork, kind: OutboxKind) -> list[int]:
    return [m.chat_id for m in uow.state.outbox if m.kind is kind]


def _sold_and_held(uow: FakeUnitOfWork, session_id: int) -> int:
    sold = sum(o.seats for o in uow.state.orders.values() if o.session_id == session_id and o.is_active)
    held = sum(e.holds_seats() for e in uow.state.waitlist.values() if e.session_id == session_id)
    return sold + held


async def test_joining_needs_a_sold_out_bookable_session_and_a_number_in_range() -> None:
    uow, seeded = fake_world(NOW)
    await _sold_out(uow, seeded)
    sid = seeded.instant_session_id
    with pytest.raises(InvalidQuantity):
        await join_waitlist(uow, W1, sid, 0, NOW)
    with pytest.raises(InvalidQuantity):
        await join_waitlist(uow, W1, sid, 11, NOW)
    with pytest.raises(SessionNotBookable):
        await join_waitlist(uow, W1, seeded.past_session_id, 1, NOW)
    with pytest.raises(NotSoldOut):
        await join_waitlist(uow, W1, seeded.session_id, 2, NOW)  # 20 seats free: book them
    joined = await join_waitlist(uow, W1, sid, 2, NOW)
    again = await join_waitlist(uow, W1, sid, 5, NOW)  # a second tap or an old button
    assert joined.new and not again.new and again.entry.id == joined.entry.id and again.entry.seats == 2
    assert len(uow.state.waitlist) == 1


async def test_freed_seats_are_offered_in_order_held_and_passed_on_when_unclaimed() -> None:
    uow, seeded = fake_world(NOW)
    first, _ = await _sold_out(uow, seeded)
    sid = seeded.instant_session_id
    for uid, seats in ((W1, 3), (W2, 2), (W3, 1)):
        await join_waitlist(uow, uid, sid, seats, NOW)
    assert (await offer_freed_seats(uow, NOW)).done == []  # nothing free yet

    await cancel_order(uow, BUYER, first, NOW)  # 4 seats free
    swept = await offer_freed_seats(uow, NOW)
    assert swept.done == [sid]
    # W1 (3) fits, then 1 is left: W2 (2) does not fit, W3 (1) does
    assert [_status(uow, u) for u in (W1, W2, W3)] == [
        WaitlistStatus.OFFERED,
        WaitlistStatus.WAITING,
        WaitlistStatus.OFFERED,
    ]
    assert _seats_left(uow, sid) == 0 and _messages(uow, OutboxKind.WAITLIST_OFFER) == [W1, W3]
    with pytest.raises(SoldOut):  # the held seats are nobody else's
        await place_order(uow, PlaceOrder(OTHER, sid, {"adult": 1}), NOW)
    assert (await offer_freed_seats(uow, NOW)).done == []  # run again: nothing more

    later = NOW + WINDOW
    assert (await expire_offers(uow, later - timedelta(seconds=1))).done == []
    expired = await expire_offers(uow, later)
    assert len(expired.done) == 2 and _seats_left(uow, sid) == 4
    assert _messages(uow, OutboxKind.WAITLIST_OFFER_EXPIRED) == [W1, W3]
    assert (await expire_offers(uow, later)).done == []  # idempotent
    await offer_freed_seats(uow, later)  # passed on: W2 is next whose number fits
    assert _status(uow, W2) is WaitlistStatus.OFFERED and _seats_left(uow, sid) == 2
    assert _sold_and_held(uow, sid) + _seats_left(uow, sid) == 10


async def test_a_claim_books_the_held_seats_like_any_booking_and_only_for_its_tourist() -> None:
    uow, seeded = fake_world(NOW)
    first, _ = await _sold_out(uow, seeded)
    sid = seeded.instant_session_id
    entry = (await join_waitlist(uow, W1, sid, 3, NOW)).entry
    await cancel_order(uow, BUYER, first, NOW)
    await offer_freed_seats(uow, NOW)  # W1 holds 3, 1 is free
    with pytest.raises(OfferClosed):  # someone else's offer
        await claim_offer(uow, ClaimOffer(W2, entry.stored_id, {"adult": 3}), NOW)
    with pytest.raises(OfferClosed):  # a forged id
        await claim_offer(uow, ClaimOffer(W1, 999, {"adult": 1}), NOW)
    with pytest.raises(InvalidQuantity):  # more than offered
        await claim_offer(uow, ClaimOffer(W1, entry.stored_id, {"adult": 4}), NOW)

    claim = ClaimOffer(W1, entry.stored_id, {"adult": 2}, request_key="w1:draft")
    order = await claim_offer(uow, claim, NOW + timedelta(minutes=1))
    assert order.booking is BookingStatus.CONFIRMED and order.seats == 2  # the instant event: confirmed at once
    assert _status(uow, W1) is WaitlistStatus.CLAIMED and uow.state.waitlist[entry.stored_id].order_id == order.id
    assert _seats_left(uow, sid) == 2  # the one never held, and the one of the offer not claimed
    again = await claim_offer(uow, claim, NOW + timedelta(minutes=1))  # a double tap: the same order
    assert again.id == order.id and _seats_left(uow, sid) == 2
    assert _sold_and_held(uow, sid) + _seats_left(uow, sid) == 10


async def test_an_expired_or_declined_offer_cannot_be_claimed_and_its_seats_pass_on() -> None:
    uow, seeded = fake_world(NOW)
    first, _ = await _sold_out(uow, seeded)
    sid = seeded.instant_session_id
    one = (await join_waitlist(uow, W1, sid, 4, NOW)).entry
    two = (await join_waitlist(uow, W2, sid, 4, NOW)).entry
    await cancel_order(uow, BUYER, first, NOW)
    await offer_freed_seats(uow, NOW)
    with pytest.raises(OfferClosed):  # the window is over, even before the expiry job ran
        await claim_offer(uow, ClaimOffer(W1, one.stored_id, {"adult": 4}), NOW + WINDOW)
    with pytest.raises(NotAllowed):
        await leave_waitlist(uow, W2, one.stored_id, NOW)  # not theirs
    left = await leave_waitlist(uow, W1, one.stored_id, NOW)  # no thanks
    assert left.status is WaitlistStatus.LEFT and _seats_left(uow, sid) == 4
    assert (await leave_waitlist(uow, W1, one.stored_id, NOW)).status is WaitlistStatus.LEFT  # again: nothing
    await offer_freed_seats(uow, NOW)
    assert _status(uow, W2) is WaitlistStatus.OFFERED and _seats_left(uow, sid) == 0
    assert uow.state.waitlist[two.stored_id].offered_until == NOW + WINDOW


async def test_the_claim_window_is_the_organisers() -> None:
    uow, seeded = fake_world(NOW)
    organiser = uow.state.organisers[seeded.instant_organiser_id]
    uow.state.organisers[organiser.id] = dataclasses.replace(organiser, waitlist_claim_window=timedelta(minutes=3))
    first, _ = await _sold_out(uow, seeded)
    entry = (await join_waitlist(uow, W1, seeded.instant_session_id, 1, NOW)).entry
    await cancel_order(uow, BUYER, first, NOW)
    await offer_freed_seats(uow, NOW)
    assert uow.state.waitlist[entry.stored_id].offered_until == NOW + timedelta(minutes=3)
