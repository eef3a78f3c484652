"""Use cases of the waitlist of a sold-out session: join, leave, offer freed seats, claim an offer, expire offers.

How seats flow (nothing is ever oversold, every seat is taken by the conditional UPDATE of ``SeatRepository``):

- Seats come free wherever they do today (a tourist cancels, an unpaid or unconfirmed order expires, the organiser
  declines, an operator cancels or resizes an order, the catalog raises a session's capacity): ``seats_left`` grows.
  Those places need not know about the waitlist: the job :func:`offer_freed_seats` looks for sessions whose free
  seats fit a waiting entry and offers them, in the order the entries joined, to the first whose number fits (then
  the first that fits what is left, and so on).
- An offer *holds* its seats: they are taken off ``seats_left`` by the same conditional UPDATE a booking uses, in the
  transaction that makes the offer. So nobody else can book them while the offer is open, and the claim cannot fail
  for lack of seats.
- :func:`claim_offer` turns the offer into an order in one transaction: it gives the held seats back and places the
  order by :func:`~domain.use_cases.booking.place_order` itself, joined to that transaction (priced, confirmed or sent
  to the organiser, invoice, reminders), whose conditional UPDATE takes them again before anyone else can (the
  transaction holds the session row from the release to the commit). Fewer tickets than offered leave the rest
  free for the next person.
- No thanks or leaving (:func:`leave_waitlist`) and an expired window (:func:`expire_offers`) give the held seats
  back; the next pass of :func:`offer_freed_seats` offers them on.

The jobs run one item per transaction like the deadline jobs (:mod:`domain.use_cases.sweep`): the claim locks the
item (``FOR UPDATE SKIP LOCKED``), the handler re-checks it, acts and commits; entries are saved with optimistic
locking, so two processes offering the same session cannot both offer one entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self, cast

from domain.errors import InvalidQuantity, NotAllowed, NotFound, SessionNotBookable
from domain.model.catalog import BOOKING_CUTOFF, EventSession
from domain.model.messages import SYSTEM, TOURIST, AuditEntry, OutboxKind, keyed_message
from domain.model.orders import Order
from domain.model.users import User
from domain.model.waitlist import NotSoldOut, OfferClosed, WaitlistEntry, WaitlistStatus, offers_for
from domain.ports import UnitOfWork
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.support import organiser_of
from domain.use_cases.sweep import DEFAULT_BATCH, Outcome, Swept, sweep


def most_seats(session: EventSession) -> int:
    """The most seats one entry may wait for: what one booking may have."""
    return max(min(MAX_TICKETS_PER_ORDER, session.capacity), 1)


def window_end(entry: WaitlistEntry) -> str | None:
    """The end of the entry's claim window for the audit log (ISO 8601)."""
    return entry.offered_until.isoformat() if entry.offered_until else None


async def _audit(uow: UnitOfWork, now: datetime, actor: str, action: str, entry: WaitlistEntry, **after: Any) -> None:
    await uow.audit.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            order_id=entry.order_id,
            after={
                "waitlist": entry.id,
                "session_id": entry.session_id,
                "seats": entry.seats,
                "status": entry.status.value,
                **after,
            },
        )
    )


async def _own_entry(uow: UnitOfWork, user_id: int, entry_id: int) -> WaitlistEntry:
    """The entry if it is ``user_id``'s; a forged or foreign id is :class:`NotAllowed`."""
    entry = await uow.waitlist.get(entry_id)
    if entry is None or entry.user_id != user_id:
        raise NotAllowed(waitlist=entry_id)
    return entry


# ---- the tourist ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Joined:
    entry: WaitlistEntry
    new: bool  # False: the tourist was on this session's list already (a double tap, an old button)


async def join_waitlist(uow: UnitOfWork, user_id: int, session_id: int, seats: int, now: datetime) -> Joined:
    """Wait for ``seats`` seats of a sold-out session (1 up to what one booking may have). One open entry per tourist
    and session: joining again returns the entry there is (with its number unchanged).

    :class:`SessionNotBookable` when it can no longer be booked, :class:`InvalidQuantity` for a number out of range,
    :class:`NotSoldOut` when that many seats are free right now (book them instead)."""
    async with uow:
        session = await uow.catalog.session(session_id)
        if session is None:
            raise NotFound(session=session_id)
        if (existing := await uow.waitlist.open_entry(user_id, session_id)) is not None:
            return Joined(existing, new=False)
        if not session.bookable(now):
            raise SessionNotBookable(session=session_id)
        if not 1 <= seats <= most_seats(session):
            raise InvalidQuantity(seats=seats, limit=most_seats(session))
        if session.seats_left >= seats:
            raise NotSoldOut(left=session.seats_left, wanted=seats)
        entry = WaitlistEntry(session_id=session_id, user_id=user_id, seats=seats, joined_at=now)
        if not await uow.waitlist.add(entry):  # a concurrent join of the same tourist won
            existing = await uow.waitlist.open_entry(user_id, session_id)
            if existing is None:
                raise OfferClosed(session=session_id)
            return Joined(existing, new=False)
        await _audit(uow, now, TOURIST, "waitlist.joined", entry)
        await uow.commit()
    return Joined(entry, new=True)


async def leave_waitlist(uow: UnitOfWork, user_id: int, entry_id: int, now: datetime) -> WaitlistEntry:
    """The tourist leaves the list, or says no thanks to an offer: its held seats go back (and are offered on).
    Leaving an entry that is closed already changes nothing; someone else's entry is :class:`NotAllowed`."""
    async with uow:
        entry = await _own_entry(uow, user_id, entry_id)
        if not entry.is_open:
            return entry
        held = entry.holds_seats()
        entry.leave(now)
        await uow.waitlist.save(entry)
        if held:
            await uow.seats.release(entry.session_id, held)
        await _audit(uow, now, TOURIST, "waitlist.left", entry, released=held)
        await uow.commit()
    return entry


@dataclass(frozen=True, slots=True)
class ClaimOffer:
    user_id: int
    entry_id: int
    quantities: Mapping[str, int]
    answers: Mapping[str, str] = field(default_factory=dict)
    payments_enabled: bool = False
    request_key: str | None = None
    user: User | None = None
    points: int = 0  # loyalty points and a discount code at checkout (issue 15), as for place_order
    discount_code: str | None = None

    def place(self, session_id: int) -> PlaceOrder:
        return PlaceOrder(
            user_id=self.user_id,
            session_id=session_id,
            quantities=self.quantities,
            answers=self.answers,
            payments_enabled=self.payments_enabled,
            request_key=self.request_key,
            user=self.user,
            points=self.points,
            discount_code=self.discount_code,
        )


class _Enclosed:
    """The caller's open unit of work lent to a use case that opens and commits its own (``place_order``): its
    ``async with`` and ``commit`` do nothing, so that use case's work joins the caller's transaction and is committed,
    or rolled back, with the rest of it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        return None


async def claim_offer(uow: UnitOfWork, cmd: ClaimOffer, now: datetime) -> Order:
    """The tourist claims the seats offered to them: an order of at most the offered number, placed by
    :func:`~domain.use_cases.booking.place_order` (confirmation or the organiser's request, invoice, reminders), in
    one transaction with the entry's change.

    Idempotent per ``request_key`` like :func:`~domain.use_cases.booking.place_order`. :class:`OfferClosed` when the
    offer is not open any more (expired, passed on, left) or is someone else's; :class:`InvalidQuantity` for more
    tickets than offered."""
    async with uow:
        entry = await uow.waitlist.get(cmd.entry_id)
        if entry is None or entry.user_id != cmd.user_id:
            raise OfferClosed(waitlist=cmd.entry_id)
        place = cmd.place(entry.session_id)
        if entry.status is WaitlistStatus.CLAIMED and place.request_key is not None:
            placed = await uow.orders.by_request_key(place.request_key)
            if placed is not None and placed.id == entry.order_id:
                return placed  # a double tap of the same summary
        if not entry.offer_open(now):
            raise OfferClosed(waitlist=entry.id, status=entry.status.value)
        if sum(cmd.quantities.values()) > entry.seats:
            raise InvalidQuantity(seats=sum(cmd.quantities.values()), limit=entry.seats)
        # the held seats back, then taken by the booking's own conditional UPDATE in the same transaction, so nobody
        # else can take them in between (the release locks the session row until the commit)
        await uow.seats.release(entry.session_id, entry.seats)
        order = await place_order(cast(UnitOfWork, _Enclosed(uow)), place, now)
        entry.claim(order.stored_id, now)
        await uow.waitlist.save(entry)
        await _audit(uow, now, TOURIST, "waitlist.claimed", entry, released=entry.seats - order.seats)
        await uow.commit()
    return order


# ---- the jobs ---------------------------------------------------------------------------------------------------


async def offer_freed_seats(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Sessions whose free seats fit someone waiting: offered in the order the entries joined, to the first whose
    number fits, then the first that fits what is left; each offer holds its seats (the conditional UPDATE) for the
    organiser's claim window and messages the tourist with a Claim button. One session per transaction."""

    async def handle(session_id: int) -> Outcome:
        session = await uow.catalog.session(session_id)
        if session is None or not session.bookable(now):
            return Outcome.LEFT
        event = await uow.catalog.event(session.event_id)
        if event is None:
            return Outcome.LEFT
        window = (await organiser_of(uow, event)).waitlist_claim_window
        offered = 0
        for entry in offers_for(await uow.waitlist.waiting(session_id), session.seats_left):
            if not await uow.seats.reserve(session_id, entry.seats):
                break  # booked meanwhile: what is left is offered on the next pass
            entry.offer(now, window)
            await uow.waitlist.save(entry)
            payload = {"entry_id": entry.id}
            await uow.outbox.add(keyed_message(OutboxKind.WAITLIST_OFFER, entry.user_id, payload, now, entry.id))
            await _audit(uow, now, SYSTEM, "waitlist.offered", entry, until=window_end(entry))
            offered += 1
        return Outcome.DONE if offered else Outcome.LEFT

    return await sweep(uow, limit, lambda seen: uow.waitlist.claim_session_to_offer(now + BOOKING_CUTOFF, seen), handle)


async def expire_offers(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Offers unclaimed at the end of their window: expired, their seats given back (offered on by the next pass of
    :func:`offer_freed_seats`), the tourist told."""

    async def handle(entry_id: int) -> Outcome:
        entry = await uow.waitlist.get(entry_id)
        if (
            entry is None
            or entry.status is not WaitlistStatus.OFFERED
            or entry.offered_until is None
            or now < entry.offered_until
        ):
            return Outcome.LEFT  # claimed or left meanwhile
        entry.expire(now)
        await uow.waitlist.save(entry)
        await uow.seats.release(entry.session_id, entry.seats)
        payload = {"entry_id": entry.id}
        await uow.outbox.add(keyed_message(OutboxKind.WAITLIST_OFFER_EXPIRED, entry.user_id, payload, now, entry.id))
        await _audit(uow, now, SYSTEM, "waitlist.offer_expired", entry)
        return Outcome.DONE

    return await sweep(uow, limit, lambda seen: uow.waitlist.claim_expired_offer(now, seen), handle)
