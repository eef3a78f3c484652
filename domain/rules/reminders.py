"""When a due reminder must not go out: the order left its session, the session was cancelled, the money is going
back, the order is not confirmed any more, it is too late, or a later reminder supersedes it (after downtime)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.model.catalog import EventSession, SessionStatus
from domain.model.orders import BookingStatus, Order, PaymentStatus
from domain.model.reminders import BEFORE, RATING, DueStatus, Reminder

RATING_WINDOW = timedelta(days=7)  # after downtime, a rating request older than this is skipped

# Payment states where the money is (being) returned: nobody is reminded of the session or asked for a rating.
_REFUNDING = frozenset({PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED})


def reminder_skip_reason(
    reminder: Reminder, order: Order | None, session: EventSession | None, others: Sequence[Reminder], now: datetime
) -> str | None:
    """Why a due reminder must not go out (None: send it). ``others`` are the order's other reminders."""
    if order is None:
        return "order_gone"
    if reminder.session_id is not None and order.session_id != reminder.session_id:
        return "moved"  # made for a session the order has left
    if session is None or session.status is SessionStatus.CANCELLED:
        return "session_cancelled"
    if order.user_id is None:
        return "anonymised"
    if order.payment in _REFUNDING:
        return "refund"
    if reminder.what == BEFORE:
        return _before_skip_reason(reminder, order, session, others, now)
    if reminder.what == RATING:
        if order.booking is not BookingStatus.ATTENDED:
            return order.booking.value  # only tourists checked in at the meeting point are asked (no_show, ...)
        if order.payment is PaymentStatus.AWAITING:
            return "unpaid"
        if order.rating is not None:
            return "rated"
        if now > reminder.due_at + RATING_WINDOW:
            return "late"
        return None
    return "unknown_kind"


def _before_skip_reason(
    reminder: Reminder, order: Order, session: EventSession, others: Sequence[Reminder], now: datetime
) -> str | None:
    if order.booking is not BookingStatus.CONFIRMED:
        return order.booking.value
    if now >= session.starts_at:
        return "late"
    offset = reminder.offset
    if offset is not None and any(
        other.id != reminder.id
        and other.what == BEFORE
        and other.status is DueStatus.PENDING
        and other.session_id == reminder.session_id
        and other.offset is not None
        and other.offset < offset
        and other.due_at <= now
        for other in others
    ):
        return "superseded"  # after downtime: only the latest of the reminders due goes out
    return None
