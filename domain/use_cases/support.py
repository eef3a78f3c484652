"""What the order use cases share: an order (or a user) read with what it is about (:class:`NotFound` when any of it
is gone), seats taken or :class:`SoldOut`, a transaction tried again after a :class:`ConcurrentChange`, the outbox
rows that tell the tourist or the organiser about it, and the audit entry of a change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from domain.errors import SALES_STOPPED, ConcurrentChange, NotFound, SessionNotBookable, SoldOut
from domain.model.catalog import Event, EventSession, Organiser
from domain.model.messages import AuditEntry, OutboxKind, OutboxMessage, order_message
from domain.model.orders import Order
from domain.model.users import User
from domain.ports import UnitOfWork
from domain.use_cases.points import settle_points_in_tx

Result = TypeVar("Result")


async def get_order(uow: UnitOfWork, order_id: int) -> Order:
    """The order; :class:`NotFound` (naming it) when there is none."""
    order = await uow.orders.get(order_id)
    if order is None:
        raise NotFound(order=order_id)
    return order


async def get_user(uow: UnitOfWork, user_id: int) -> User:
    """The user; :class:`NotFound` (naming them) when there is none."""
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound(user=user_id)
    return user


async def reserve_seats(uow: UnitOfWork, session_id: int, seats: int) -> None:
    """Take ``seats`` on the session; :class:`SoldOut` with what is left when there are not that many,
    :class:`SessionNotBookable` (reason ``sales_stopped``) when its organiser stopped its sales meanwhile."""
    if not await uow.seats.reserve(session_id, seats):
        fresh = await uow.catalog.session(session_id)
        if fresh is not None and fresh.sales_stopped:
            raise SessionNotBookable(session=session_id, reason=SALES_STOPPED)
        raise SoldOut(left=fresh.seats_left if fresh else 0, wanted=seats)


async def retry_concurrent(attempts: int, once: Callable[[], Awaitable[Result]]) -> Result:
    """Run the transaction ``once`` up to ``attempts`` times: a :class:`ConcurrentChange` (someone changed the same
    row meanwhile) starts it again, re-reading and deciding afresh; the last one is raised."""
    for attempt in range(attempts):
        try:
            return await once()
        except ConcurrentChange:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def session_of(uow: UnitOfWork, order: Order) -> EventSession:
    session = await uow.catalog.session(order.session_id)
    if session is None:
        raise NotFound(session=order.session_id)
    return session


async def event_of(uow: UnitOfWork, order: Order) -> Event:
    event = await uow.catalog.event(order.event_id)
    if event is None:
        raise NotFound(event=order.event_id)
    return event


async def organiser_of(uow: UnitOfWork, event: Event) -> Organiser:
    organiser = await uow.catalog.organiser(event.organiser_id)
    if organiser is None:
        raise NotFound(organiser=event.organiser_id)
    return organiser


async def load_order(uow: UnitOfWork, order_id: int) -> tuple[Order, EventSession, Event, Organiser]:
    """The order with its session, event and organiser; :class:`NotFound` (naming the order) if any is missing."""
    order = await get_order(uow, order_id)
    session = await uow.catalog.session(order.session_id)
    event = await uow.catalog.event(order.event_id)
    organiser = await uow.catalog.organiser(event.organiser_id) if event else None
    if session is None or event is None or organiser is None:
        raise NotFound(order=order_id)
    return order, session, event, organiser


async def tell_tourist(uow: UnitOfWork, kind: OutboxKind, order: Order, now: datetime, **extra: Any) -> None:
    """A message about the order to its tourist, once per kind and order; none when the tourist asked us to forget
    them."""
    if order.user_id is None:
        return
    await uow.outbox.add(order_message(kind, order.user_id, order.stored_id, now, **extra))


async def tell_organiser(uow: UnitOfWork, kind: OutboxKind, organiser: Organiser, order: Order, now: datetime) -> None:
    """A message about the order to its organiser's chat, once per kind and order."""
    await uow.outbox.add(order_message(kind, organiser.chat_id, order.stored_id, now))


def _change_key(kind: OutboxKind, order: Order, tag: str) -> str:
    """One message per change: the order's version after the change tells two changes of the same kind apart."""
    return f"{kind.value}:{order.id}:{tag}:v{order.version}"


async def tell_tourist_of_change(
    uow: UnitOfWork, kind: OutboxKind, order: Order, now: datetime, tag: str, **payload: Any
) -> None:
    """A message about one change of the order (``tag`` names it) to its tourist, unless they asked us to forget
    them: every change is told, however many of the same kind."""
    if order.user_id is None:
        return
    await uow.outbox.add(
        OutboxMessage(kind, order.user_id, {"order_id": order.id, **payload}, now, _change_key(kind, order, tag))
    )


async def tell_organiser_of_change(
    uow: UnitOfWork, organiser: Organiser, order: Order, now: datetime, change: str, **payload: Any
) -> None:
    """An operator changed the order (``change`` says how): its organiser is told, once per change."""
    kind = OutboxKind.ORGANISER_ORDER_CHANGED
    payload = {"order_id": order.id, "change": change, **payload}
    await uow.outbox.add(OutboxMessage(kind, organiser.chat_id, payload, now, _change_key(kind, order, change)))


async def audit_order(
    uow: UnitOfWork, now: datetime, actor: str, action: str, order: Order, before: dict[str, Any], **after: Any
) -> None:
    """The audit entry of a change to ``order``: ``before`` as the caller took it, after it the status dimensions and
    ``after``. Every change of an order passes here, in its transaction: so does its loyalty points' fate (points
    and a discount code given back when the booking ends, earned points taken back when the money goes back)."""
    await settle_points_in_tx(uow, order, now)
    await uow.audit.add(
        AuditEntry(
            at=now, actor=actor, action=action, order_id=order.id, before=before, after={**order.snapshot(), **after}
        )
    )
