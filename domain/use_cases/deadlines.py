"""Deadlines and reminders: the database is the source of truth, the scheduler only asks what is due.

When an order becomes confirmed, :func:`schedule_order_reminders` writes rows with a due time: a reminder for each
of the organiser's offsets before the start that is still ahead, a rating request after the end, and the session's
participant list for the organiser. The order's own deadlines (``confirm_by``, ``pay_by``, ``hold_until``) are
columns of the order.

The job use cases (``nudge_silent_organisers``, ``remind_unpaid``, ``expire_overdue``, ``send_due_reminders``,
``send_participant_lists``) take the current time and work one item per transaction: claim one due item (locked: a
second process running the same job skips it), re-check its state under that lock, act (outbox rows, audit entries,
order changes), mark it done, commit. So a crash loses nothing (the item is still due and is claimed again), nothing
happens twice (the mark is in the same transaction as the effect; outbox dedup keys make a repeat harmless too),
and one broken item never blocks the others (it is left for the next pass).

Timeline of an order (defaults from the catalog: confirm within 10 minutes, pay within 30):

- awaiting the organiser past ``confirm_by``: the organiser is nudged once (``confirm_nudged_at``); the order is
  an operator problem from then on (the operator desk derives that from the state). If nobody confirms before the
  session is about to start (within ``BOOKING_CUTOFF``), the order expires and the tourist is told.
- confirmed, awaiting payment past ``pay_by``: one reminder to the tourist (``pay_reminded_at``), an operator
  problem, and the seats stay held for a grace period (:func:`pay_grace`) counted from the reminder:
  ``hold_until``. Unpaid after that, the order expires: seats released, the tourist told, with a button to book
  again.
- before the session: a reminder per offset while it still makes sense (before the start; when several are due at
  once after downtime, only the latest goes out); the organiser gets the participant list.
- after the session: a 1-5 rating request; a low rating goes to the operators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import InvalidTransition, NotAllowed, NotFound
from domain.model.catalog import BOOKING_CUTOFF, EventSession, Organiser, SessionStatus
from domain.model.messages import SYSTEM, AuditEntry, OutboxKind, keyed_message
from domain.model.orders import BookingStatus, Order, PaymentStatus, check_stars
from domain.model.reminders import (
    BEFORE,
    PARTICIPANTS,
    RATING,
    DueStatus,
    Reminder,
    SessionNotice,
    before_kind,
    rating_kind,
)
from domain.ports import UnitOfWork
from domain.rules.reminders import reminder_skip_reason
from domain.use_cases.checkin import settle_in_tx
from domain.use_cases.places import tell_reminder_venue
from domain.use_cases.support import (
    audit_order,
    event_of,
    organiser_of,
    retry_concurrent,
    tell_organiser,
    tell_tourist,
)
from domain.use_cases.sweep import DEFAULT_BATCH, Outcome, Swept, sweep

log = logging.getLogger(__name__)


# After the pay reminder the seats stay held for half the organiser's pay window (15 minutes for the default 30),
# at most an hour and never past the session's start: long enough to pay after a nudge, short enough that unpaid
# seats go back on sale soon. Proportional, so a catalog with second-long windows (the sandbox, tests) runs fast.
PAY_GRACE_SHARE = 0.5
PAY_GRACE_MAX = timedelta(hours=1)
RATING_AFTER_END = timedelta(hours=1)  # the rating request goes out an hour after the session ends
PARTICIPANTS_BEFORE = timedelta(hours=2)  # when an organiser has no reminder offsets


def pay_grace(pay_within: timedelta) -> timedelta:
    return min(pay_within * PAY_GRACE_SHARE, PAY_GRACE_MAX)


# ---- when an order is confirmed -------------------------------------------------------------------------------------


async def schedule_order_reminders(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """Inside the caller's transaction, when ``order`` becomes confirmed (or moves to another session): its
    reminders before the start (those still ahead), its rating request, and the session's participant list.

    Idempotent: rows that exist are kept. A participant list that already went out is due again (an updated list)
    when an order joins the session before it starts.
    """
    session = await uow.catalog.session(order.session_id)
    event = await uow.catalog.event(order.event_id) if session else None
    organiser = await uow.catalog.organiser(event.organiser_id) if event else None
    if session is None or event is None or organiser is None:
        return
    for offset in sorted(set(organiser.reminders), reverse=True):
        due = session.starts_at - offset
        if due > now:
            await uow.reminders.add(Reminder(order.stored_id, before_kind(offset, session.id), due))
    rating_due = session.starts_at + event.duration + RATING_AFTER_END
    await uow.reminders.add(Reminder(order.stored_id, rating_kind(session.id), rating_due))
    lead = min(organiser.reminders, default=PARTICIPANTS_BEFORE)
    added = await uow.reminders.add_notice(SessionNotice(session.id, PARTICIPANTS, session.starts_at - lead))
    if not added and now < session.starts_at:
        await uow.reminders.rearm_notice(session.id, PARTICIPANTS, now)


# ---- the organiser is silent ----------------------------------------------------------------------------------------


def _due_once(deadline: datetime | None, done_at: datetime | None, now: datetime) -> bool:
    """A deadline has passed and the one thing a job does about it (a nudge, a reminder) has not been done yet."""
    return done_at is None and deadline is not None and deadline <= now


async def nudge_silent_organisers(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Orders awaiting the organiser past ``confirm_by``: the organiser is nudged once."""

    async def handle(order_id: int) -> Outcome:
        order = await uow.orders.get(order_id)
        if (
            order is None
            or order.booking is not BookingStatus.AWAITING_ORGANISER
            or not _due_once(order.confirm_by, order.confirm_nudged_at, now)
        ):
            return Outcome.LEFT
        session = await uow.catalog.session(order.session_id)
        cancelled = session is None or session.status is SessionStatus.CANCELLED
        if session is not None and not cancelled and session.starts_at - BOOKING_CUTOFF <= now:
            return Outcome.LEFT  # too late to confirm: expire_overdue takes it
        organiser = await organiser_of(uow, await event_of(uow, order))
        order.mark_organiser_nudged(now)
        await uow.orders.save(order)
        if cancelled:
            await _audit(uow, now, "order.organiser_nudge_skipped", order, reason="session_cancelled")
            return Outcome.SKIPPED
        await tell_organiser(uow, OutboxKind.CONFIRM_NUDGE, organiser, order, now)
        await _audit(uow, now, "order.organiser_nudged", order)
        return Outcome.DONE

    return await sweep(uow, limit, lambda seen: uow.reminders.claim_silent_order(now, seen), handle)


# ---- the tourist does not pay ---------------------------------------------------------------------------------------


async def remind_unpaid(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Confirmed orders awaiting payment past ``pay_by``: one reminder; the seats stay held for the grace period."""

    async def handle(order_id: int) -> Outcome:
        order = await uow.orders.get(order_id)
        if (
            order is None
            or order.booking is not BookingStatus.CONFIRMED
            or order.payment is not PaymentStatus.AWAITING
            or not _due_once(order.pay_by, order.pay_reminded_at, now)
        ):
            return Outcome.LEFT
        session = await uow.catalog.session(order.session_id)
        organiser = await organiser_of(uow, await event_of(uow, order))
        before = {"hold_until": order.hold_until.isoformat()}
        if session is None or session.status is SessionStatus.CANCELLED or session.starts_at <= now:
            order.remind_to_pay(now, hold_until=now)  # nothing left to pay for: expire_overdue takes it at once
            await uow.orders.save(order)
            reason = "session_over_or_cancelled"
            await _audit(uow, now, "order.pay_reminder_skipped", order, before, reason=reason)
            return Outcome.SKIPPED
        # the grace counts from the reminder (after downtime too), and never runs past the start
        order.remind_to_pay(now, hold_until=min(now + pay_grace(organiser.pay_within), session.starts_at))
        await uow.orders.save(order)
        await tell_tourist(uow, OutboxKind.PAY_REMINDER, order, now)
        await _audit(uow, now, "order.pay_reminded", order, before, hold_until=order.hold_until.isoformat())
        return Outcome.DONE

    return await sweep(uow, limit, lambda seen: uow.reminders.claim_unpaid_order(now, seen), handle)


# ---- expiry ---------------------------------------------------------------------------------------------------------

UNPAID = "unpaid"
UNCONFIRMED = "unconfirmed"


def _expiry_reason(order: Order, session_starts_at: datetime | None, now: datetime) -> str | None:
    if (
        order.booking is BookingStatus.CONFIRMED
        and order.payment is PaymentStatus.AWAITING
        and order.pay_reminded_at is not None
        and order.hold_until <= now
    ):
        return UNPAID
    if (
        order.booking is BookingStatus.AWAITING_ORGANISER
        and session_starts_at is not None
        and session_starts_at - BOOKING_CUTOFF <= now
    ):
        return UNCONFIRMED
    return None


async def expire_overdue(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Unpaid after the grace period, or still unconfirmed when the session is about to start: the order expires,
    its seats go back on sale (once: the state change and the release are one transaction) and the tourist is
    told."""

    async def handle(order_id: int) -> Outcome:
        order = await uow.orders.get(order_id)
        if order is None:
            return Outcome.LEFT
        session = await uow.catalog.session(order.session_id)
        reason = _expiry_reason(order, session.starts_at if session else None, now)
        if reason is None:
            return Outcome.LEFT  # paid, confirmed or cancelled meanwhile
        before = order.snapshot()
        order.end(BookingStatus.EXPIRED, now)
        await uow.orders.save(order)
        await uow.seats.release(order.session_id, order.seats)
        await tell_tourist(uow, OutboxKind.ORDER_EXPIRED, order, now, reason=reason)
        await audit_order(uow, now, SYSTEM, "order.expired", order, before, reason=reason)
        return Outcome.DONE

    return await sweep(
        uow,
        limit,
        lambda seen: uow.reminders.claim_overdue_order(now, now + BOOKING_CUTOFF, seen),
        handle,
    )


# ---- before and after the session -----------------------------------------------------------------------------------


async def send_due_reminders(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Due order reminders: a session reminder or a rating request to the tourist, or skipped (recorded with the
    reason, see :func:`reminder_skip_reason`) when it no longer makes sense: the order is not confirmed any more,
    moved to another session, the session was cancelled or has started (a late reminder after downtime)."""

    async def handle(reminder: Reminder) -> Outcome:
        order = await uow.orders.get(reminder.order_id)
        if order is not None and reminder.what == RATING:
            await settle_in_tx(uow, order, now)  # attended or no-show first, should the attendance job lag behind
        session = await uow.catalog.session(order.session_id) if order else None
        others = await uow.reminders.for_order(reminder.order_id)
        reason = reminder_skip_reason(reminder, order, session, others, now)
        if reason is not None or order is None or session is None or order.user_id is None:
            # (reminder_skip_reason has a reason whenever the order, its session or its tourist is gone)
            await uow.reminders.close(reminder.stored_id, DueStatus.SKIPPED, now)
            skipped = {"kind": reminder.kind, "reason": reason}
            await uow.audit.add(
                AuditEntry(at=now, actor=SYSTEM, action="reminder.skipped", order_id=reminder.order_id, after=skipped)
            )
            return Outcome.SKIPPED
        if reminder.what == BEFORE:
            payload = {"order_id": order.id, "session_id": session.id, "kind": reminder.kind}
            kind = OutboxKind.SESSION_REMINDER
            await uow.outbox.add(keyed_message(kind, order.user_id, payload, now, order.id, reminder.kind))
            await tell_reminder_venue(uow, order, session.id, reminder.kind, now)  # the meeting point on the map
        else:
            await tell_tourist(uow, OutboxKind.RATING_REQUEST, order, now)
        await uow.reminders.close(reminder.stored_id, DueStatus.SENT, now)
        sent = {"kind": reminder.kind}
        await uow.audit.add(AuditEntry(at=now, actor=SYSTEM, action="reminder.sent", order_id=order.id, after=sent))
        return Outcome.DONE

    return await sweep(uow, limit, lambda seen: uow.reminders.claim_due(now, seen), handle, lambda r: r.stored_id)


async def send_participant_lists(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Due participant lists: to the organiser before the session (rendered at send time from the orders then
    active); skipped once the session has started or was cancelled, or when nobody is booked."""

    async def handle(notice: SessionNotice) -> Outcome:
        session = await uow.catalog.session(notice.session_id)
        orders = await uow.reminders.session_orders(notice.session_id) if session else []
        after: dict[str, Any] = {"session_id": notice.session_id, "kind": notice.kind}

        async def skip(reason: str) -> Outcome:
            await uow.reminders.close_notice(notice.stored_id, DueStatus.SKIPPED, now)
            skipped = {**after, "reason": reason}
            await uow.audit.add(AuditEntry(at=now, actor=SYSTEM, action="session.notice_skipped", after=skipped))
            return Outcome.SKIPPED

        if notice.kind != PARTICIPANTS:
            return await skip("unknown_kind")
        if session is None or session.status is SessionStatus.CANCELLED:
            return await skip("session_cancelled")
        if now >= session.starts_at:
            return await skip("late")
        if not orders:
            return await skip("no_orders")
        organiser = await _organiser_of_session(uow, session)
        updated = notice.done_at is not None  # it went out before: this is an updated list
        revision = int(notice.due_at.timestamp() * 1000)
        payload = {"session_id": session.id, "updated": updated}
        await uow.outbox.add(
            keyed_message(OutboxKind.PARTICIPANTS, organiser.chat_id, payload, now, session.id, revision)
        )
        await uow.reminders.close_notice(notice.stored_id, DueStatus.SENT, now)
        sent = {**after, "orders": len(orders), "updated": updated}
        await uow.audit.add(AuditEntry(at=now, actor=SYSTEM, action="session.participants_sent", after=sent))
        return Outcome.DONE

    return await sweep(
        uow, limit, lambda seen: uow.reminders.claim_due_notice(now, seen), handle, lambda n: n.stored_id
    )


async def _organiser_of_session(uow: UnitOfWork, session: EventSession) -> Organiser:
    event = await uow.catalog.event(session.event_id)
    if event is None:
        raise NotFound(event=session.event_id)
    return await organiser_of(uow, event)


# ---- the rating -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rated:
    order: Order
    stars: int  # the order's rating: the first one given counts
    new: bool  # False: it was rated before and nothing changed


async def rate_order(uow: UnitOfWork, user_id: int, order_id: int, stars: int, now: datetime) -> Rated:
    """The tourist rates their order 1-5, once (a second rating changes nothing); 1 or 2 stars make the order a
    problem on the operator desk (:mod:`domain.rules.problems`).

    :class:`InvalidRating` for other stars, :class:`NotAllowed` for someone else's (or no) order,
    :class:`InvalidTransition` before the session or for an order that did not take place.
    """
    check_stars(stars)
    # a double tap racing itself: the second one re-reads and finds the rating
    return await retry_concurrent(2, lambda: _rate_once(uow, user_id, order_id, stars, now))


async def _rate_once(uow: UnitOfWork, user_id: int, order_id: int, stars: int, now: datetime) -> Rated:
    async with uow:
        order = await uow.orders.get(order_id)
        if order is None or order.user_id is None or order.user_id != user_id:
            raise NotAllowed(order=order_id)
        if order.rating is not None:
            return Rated(order, order.rating, new=False)
        session = await uow.catalog.session(order.session_id)
        if session is None or session.status is SessionStatus.CANCELLED or session.starts_at > now:
            raise InvalidTransition(order=order.id, booking=order.booking.value)
        order.rate(stars, now)
        await uow.orders.save(order)
        await uow.audit.add(
            AuditEntry(
                at=now,
                actor=f"user:{user_id}",
                action="order.rated",
                order_id=order.id,
                before={"rating": None},
                after={"rating": stars},
            )
        )
        await uow.commit()
    return Rated(order, stars, new=True)


async def _audit(
    uow: UnitOfWork, now: datetime, action: str, order: Order, before: dict[str, Any] | None = None, **after: Any
) -> None:
    """A job's change to an order: the status dimensions before (unless ``before`` says more) and after."""
    await audit_order(uow, now, SYSTEM, action, order, before or order.snapshot(), **after)
