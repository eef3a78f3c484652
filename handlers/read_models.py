"""The read side the screens draw from: a session with its surroundings, an order with its surroundings.

One reading for the booking screens, the notifications and the operators' order cards. ``read_…`` reads inside the
caller's open transaction (to read more with it); ``load_…`` opens its own. Payments and the audit history of an
order are read only when asked for. Anything missing (the order, its event, …) reads as None.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.catalog import Event, EventSession, Hotel, Organiser, Region
from domain.model.messages import AuditEntry
from domain.model.orders import Order
from domain.model.payments import Payment
from domain.model.users import User
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session and what surrounds it: its event, the event's region (its time zone) and organiser."""

    session: EventSession
    event: Event
    region: Region
    organiser: Organiser


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order and what surrounds it. ``payments`` and ``history`` (newest first) are empty unless asked for."""

    order: Order
    event: Event
    session: EventSession
    region: Region
    organiser: Organiser
    hotel: Hotel | None
    user: User | None
    payments: tuple[Payment, ...] = ()
    history: tuple[AuditEntry, ...] = ()

    @property
    def id(self) -> int:
        """The order's id (a stored order always has one)."""
        return self.order.stored_id

    @property
    def tourist_language(self) -> str:
        """The language the tourist reads: their current one, else the one they booked in."""
        return self.user.language if self.user else self.order.language

    @property
    def organiser_language(self) -> str:
        """The language the organiser reads (from the catalog)."""
        return self.organiser.language


async def _region_and_organiser(uow: UnitOfWork, event: Event) -> tuple[Region, Organiser] | None:
    """The event's region (its time zone) and organiser; None if either is missing."""
    region = await uow.catalog.region(event.region_id)
    organiser = await uow.catalog.organiser(event.organiser_id)
    if region is None or organiser is None:
        return None
    return region, organiser


async def read_session(uow: UnitOfWork, session_id: int) -> SessionView | None:
    """The session ``session_id`` with its surroundings, inside the caller's open transaction."""
    session = await uow.catalog.session(session_id)
    if session is None:
        return None
    event = await uow.catalog.event(session.event_id)
    if event is None:
        return None
    if (where := await _region_and_organiser(uow, event)) is None:
        return None
    region, organiser = where
    return SessionView(session, event, region, organiser)


async def load_session(uow: UnitOfWork, session_id: int) -> SessionView | None:
    """:func:`read_session` in a read block of its own (for a screen)."""
    async with uow.read():
        return await read_session(uow, session_id)


async def read_order(uow: UnitOfWork, order_id: int, *, payments: bool = False, history: int = 0) -> OrderView | None:
    """The order ``order_id`` with its surroundings, inside the caller's open transaction; with its payments if
    ``payments``, and its ``history`` newest audit entries."""
    order = await uow.orders.get(order_id)
    if order is None:
        return None
    session = await uow.catalog.session(order.session_id)
    event = await uow.catalog.event(order.event_id)
    if session is None or event is None:
        return None
    if (where := await _region_and_organiser(uow, event)) is None:
        return None
    region, organiser = where
    hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
    user = await uow.users.get(order.user_id) if order.user_id else None
    paid = tuple(await uow.payments.for_order(order_id)) if payments else ()
    entries = tuple(await uow.audit.for_order(order_id, history)) if history else ()
    return OrderView(order, event, session, region, organiser, hotel, user, paid, entries)


async def load_order(uow: UnitOfWork, order_id: int, *, payments: bool = False, history: int = 0) -> OrderView | None:
    """:func:`read_order` in a transaction of its own."""
    async with uow:
        return await read_order(uow, order_id, payments=payments, history=history)
