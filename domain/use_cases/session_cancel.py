"""An operator cancels a whole session (weather, a breakdown): every active order on it ends with it.

One transaction: the session becomes cancelled (with the reason), each active order (awaiting the organiser or
confirmed) ends CANCELLED (:meth:`Order.end`: money held becomes refund due, an issued ticket is void), its pending
reminders are skipped, its tourist is told in their language (with the event's other dates) and the organiser gets
one message for the whole session. The seats are not put back on sale: the session is closed. Audit: one entry per
order and one for the session.

:func:`preview_session_cancel` counts what would happen (for the operator's confirmation), changing nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from domain.errors import (
    NotFound,
    SessionAlreadyCancelled,
    SessionAlreadyStarted,
)
from domain.model.catalog import Event, EventSession, SessionStatus
from domain.model.messages import AuditEntry, OutboxKind, keyed_message
from domain.model.orders import BookingStatus, Order
from domain.model.reminders import DueStatus
from domain.ports import UnitOfWork
from domain.rules.texts import one_line
from domain.use_cases.support import audit_order, tell_tourist

REASON_MAX = 500  # characters of the reason kept and told


@dataclass(frozen=True, slots=True)
class SessionCancelPreview:
    session: EventSession
    event: Event
    orders: int  # active orders on it
    refund_due: int  # of which the money is held: they become refund due
    seats: int  # seats those orders hold


@dataclass(frozen=True, slots=True)
class SessionCancelled:
    session: EventSession
    event: Event
    orders: list[Order]  # as they ended
    refund_due: int
    reason: str | None


def clean_reason(reason: str | None) -> str | None:
    """One line, at most :data:`REASON_MAX` characters; None when empty."""
    return one_line(reason, REASON_MAX)


async def _cancellable(uow: UnitOfWork, session_id: int, now: datetime) -> tuple[EventSession, Event]:
    session = await uow.catalog.session(session_id)
    event = await uow.catalog.event(session.event_id) if session else None
    if session is None or event is None:
        raise NotFound(session=session_id)
    if session.status is SessionStatus.CANCELLED:
        raise SessionAlreadyCancelled(session=session_id)
    if session.starts_at <= now:
        raise SessionAlreadyStarted(session=session_id)
    return session, event


async def preview_session_cancel(uow: UnitOfWork, session_id: int, now: datetime) -> SessionCancelPreview:
    """What cancelling would do; raises like :func:`cancel_session` when it cannot be done."""
    async with uow:
        session, event = await _cancellable(uow, session_id, now)
        orders = list(await uow.reminders.session_orders(session_id))
    return SessionCancelPreview(
        session=session,
        event=event,
        orders=len(orders),
        refund_due=sum(1 for o in orders if o.money_held),
        seats=sum(o.seats for o in orders),
    )


async def cancel_session(
    uow: UnitOfWork, session_id: int, actor: str, reason: str | None, now: datetime
) -> SessionCancelled:
    """Cancel the session and every active order on it (see the module's docstring). Raises :class:`NotFound`,
    :class:`SessionAlreadyCancelled` or :class:`SessionAlreadyStarted`, changing nothing."""
    reason = clean_reason(reason)
    async with uow:
        session, event = await _cancellable(uow, session_id, now)
        # The conditional update first: of two operators confirming at once, the second stops here.
        if not await uow.catalog.cancel_session(session_id, reason):
            raise SessionAlreadyCancelled(session=session_id)
        organiser = await uow.catalog.organiser(event.organiser_id)
        ended: list[Order] = []
        refund_due = 0
        for order in await uow.reminders.session_orders(session_id):
            before = order.snapshot()
            refund_due += 1 if order.money_held else 0
            order.end(BookingStatus.CANCELLED, now)
            await uow.orders.save(order)
            for reminder in await uow.reminders.for_order(order.stored_id):
                if reminder.status is DueStatus.PENDING:
                    await uow.reminders.close(reminder.stored_id, DueStatus.SKIPPED, now)
            await tell_tourist(uow, OutboxKind.SESSION_CANCELLED, order, now, reason=reason)
            await audit_order(
                uow, now, actor, "order.cancelled_with_session", order, before, session_id=session_id, reason=reason
            )
            ended.append(order)
        if organiser is not None:
            told = {"session_id": session_id, "orders": len(ended), "reason": reason}
            kind = OutboxKind.SESSION_CANCELLED_ORGANISER
            await uow.outbox.add(keyed_message(kind, organiser.chat_id, told, now, session_id))
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="session.cancelled",
                before={
                    "session_id": session_id,
                    "status": SessionStatus.SCHEDULED.value,
                },
                after={
                    "session_id": session_id,
                    "status": SessionStatus.CANCELLED.value,
                    "reason": reason,
                    "orders": [o.id for o in ended],
                    "refund_due": refund_due,
                },
            )
        )
        await uow.commit()
    cancelled = dataclasses.replace(session, status=SessionStatus.CANCELLED)
    return SessionCancelled(
        session=cancelled,
        event=event,
        orders=ended,
        refund_due=refund_due,
        reason=reason,
    )
