"""Check-in and the day itself: a ticket checked in at the meeting point, a tourist running late, the organiser at
the meeting point, and after the session each confirmed order settled as attended or no-show.

What the day adds to an order lives beside it (:class:`OrderDay`), what it adds to a session likewise
(:class:`SessionDay`): the order's own statuses change only when the session is over (:func:`settle_attendance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import InvalidTransition
from domain.model.catalog import Event, EventSession, SessionStatus
from domain.model.orders import BookingStatus, Order, PaymentStatus, TicketStatus

# https://t.me/<bot>?start=chk-<ticket code>: what the ticket's QR encodes (an order paid on site, which has no
# ticket, is checked in by its order code: chk-<order code>)
CHECKIN_LINK_PREFIX = "chk-"
# "We're at the meeting point" can be sent from this long before the start until the session ends.
AT_POINT_FROM = timedelta(hours=2)
# How far back the attendance job looks: sessions that ended before the feature existed are left as they are.
SETTLE_LOOKBACK = timedelta(days=7)


def checkin_link(bot_username: str, code: str) -> str:
    """The link the ticket's QR encodes: ``code`` is the ticket code (or the order code of an order paid on site)."""
    return f"https://t.me/{bot_username}?start={CHECKIN_LINK_PREFIX}{code}"


@dataclass(slots=True)
class OrderDay:
    """The day of one order: when it was checked in and by whom, when the tourist said they are running late."""

    order_id: int
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    running_late_at: datetime | None = None

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None


@dataclass(slots=True)
class SessionDay:
    """The day of one session: when the organiser announced they are at the meeting point, and who did."""

    session_id: int
    at_meeting_point_at: datetime | None = None
    announced_by: str | None = None


def session_ends_at(session: EventSession, event: Event) -> datetime:
    return session.starts_at + event.duration


def voided(order: Order) -> bool:
    """The ticket no longer admits anyone: the order was cancelled, declined, expired or refunded."""
    return order.ticket is TicketStatus.VOIDED or order.booking in (
        BookingStatus.CANCELLED,
        BookingStatus.DECLINED,
        BookingStatus.EXPIRED,
    )


def require_check_in(order: Order, session: EventSession) -> None:
    """:class:`InvalidTransition` unless ``order`` can be checked in: the booking confirmed (or settled as attended)
    with its ticket issued or paid on site, the session not cancelled."""
    if voided(order) or session.status is SessionStatus.CANCELLED:
        raise order.refused(voided=True)
    admits = order.ticket is TicketStatus.ISSUED or order.payment is PaymentStatus.ON_SITE
    if not admits or order.booking not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED):
        raise order.refused(voided=False)


def attendance(day: OrderDay | None) -> BookingStatus:
    """How a confirmed order ends once its session is over: attended if it was checked in, else a no-show."""
    return BookingStatus.ATTENDED if day is not None and day.checked_in else BookingStatus.NO_SHOW


def settle_attendance(order: Order, session: EventSession, event: Event, day: OrderDay | None, now: datetime) -> bool:
    """A confirmed order whose session is over becomes attended or no-show; False (nothing changed) for any other
    order, or before the session ends."""
    if (
        order.booking is not BookingStatus.CONFIRMED
        or session.status is SessionStatus.CANCELLED
        or session_ends_at(session, event) > now
    ):
        return False
    order.booking = attendance(day)
    return True


def on_the_day(session: EventSession, timezone_today: datetime, now: datetime, event: Event) -> bool:
    """``now`` is on the session's local day (``timezone_today``: the session's start in its region's zone) and the
    session has not ended."""
    return now.astimezone(timezone_today.tzinfo).date() == timezone_today.date() and now < session_ends_at(
        session, event
    )


def require_running_late(
    order: Order, session: EventSession, event: Event, local_start: datetime, now: datetime
) -> None:
    """:class:`InvalidTransition` unless the tourist can say they are running late: a confirmed order, on the day of
    its session, before it ends."""
    if order.booking is not BookingStatus.CONFIRMED or session.status is SessionStatus.CANCELLED:
        raise order.refused(reason="not_confirmed")
    if not on_the_day(session, local_start, now, event):
        raise InvalidTransition(order=order.id, reason="not_today")


def require_at_point(session: EventSession, event: Event, now: datetime) -> None:
    """:class:`InvalidTransition` unless "we're at the meeting point" makes sense now: a scheduled session, from
    :data:`AT_POINT_FROM` before its start until it ends."""
    if session.status is SessionStatus.CANCELLED:
        raise InvalidTransition(session=session.id, reason="cancelled")
    if now < session.starts_at - AT_POINT_FROM or now >= session_ends_at(session, event):
        raise InvalidTransition(session=session.id, reason="not_now")
