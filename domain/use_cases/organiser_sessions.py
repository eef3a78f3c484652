"""An organiser runs their sessions from the chat (issue 14): add one, change its capacity, stop (and resume) its
sales, ask the operators to cancel it.

Each is one transaction with its audit entry. Seats are changed by one conditional UPDATE each
(``OrganiserCatalogRepository``), so a booking at the same moment is either counted or sees the new seats: nothing
is oversold. Cancelling a session is the operators' decision (refunds, tourists told and offered other dates): the
organiser's request becomes one card in the operator chat, and the desk's ``/session … cancel`` takes over.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError, NoOperators, NotAllowed, NotFound, SessionAlreadyCancelled, SessionAlreadyStarted
from domain.model.catalog import BOOKING_CUTOFF, Event, EventSession, Organiser, SessionStatus
from domain.model.messages import OutboxKind, keyed_message
from domain.ports import UnitOfWork
from domain.rules.texts import one_line
from domain.use_cases.organiser_access import OrganiserActor, audit_organiser_change, organiser_for

CAPACITY_RANGE = (1, 10_000)  # as the catalog file allows
FURTHEST_AHEAD = timedelta(days=730)  # a new session starts within two years
SOONEST = BOOKING_CUTOFF + timedelta(minutes=55)  # and at least an hour from now
CANCEL_TEXT_MAX = 300  # characters of an organiser's own reason


class BadCapacity(DomainError):
    """Not a whole number in ``low``..``high``."""

    code = "bad_capacity"


class BelowHeld(DomainError):
    """Orders hold ``held`` seats: the capacity cannot go below that."""

    code = "below_held"


class BadStart(DomainError):
    """``reason``: ``past`` (too soon, ``soonest`` minutes from now at the earliest) or ``too_far``."""

    code = "bad_start"


class SessionTaken(DomainError):
    """The event has a session at that time already."""

    code = "session_taken"


class CancelReason(enum.StrEnum):
    WEATHER = "weather"
    BREAKDOWN = "breakdown"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class OrganiserSession:
    session: EventSession
    event: Event
    organiser: Organiser

    @property
    def held(self) -> int:
        """Seats orders hold (sold, or awaiting the organiser or payment)."""
        return self.session.capacity - self.session.seats_left


def check_capacity(capacity: int) -> int:
    low, high = CAPACITY_RANGE
    if not low <= capacity <= high:
        raise BadCapacity(low=low, high=high)
    return capacity


def check_start(starts_at: datetime, now: datetime) -> datetime:
    if starts_at < now + SOONEST:
        raise BadStart(reason="past", soonest=int(SOONEST.total_seconds() // 60))
    if starts_at > now + FURTHEST_AHEAD:
        raise BadStart(reason="too_far", days=FURTHEST_AHEAD.days)
    return starts_at


async def organiser_session(
    uow: UnitOfWork, organiser_id: int, session_id: int, actor: OrganiserActor
) -> OrganiserSession:
    """The organiser's session, inside the caller's transaction: :class:`NotAllowed` if ``actor`` may not act for the
    organiser or the session is another organiser's (a forged button), :class:`NotFound` if it is gone."""
    organiser = await organiser_for(uow, organiser_id, actor)
    session = await uow.catalog.session(session_id)
    event = await uow.catalog.event(session.event_id) if session else None
    if session is None or event is None:
        raise NotFound(session=session_id)
    if event.organiser_id != organiser.id:
        raise NotAllowed(session=session_id)
    return OrganiserSession(session, event, organiser)


def _changeable(found: OrganiserSession, now: datetime) -> None:
    if found.session.status is SessionStatus.CANCELLED:
        raise SessionAlreadyCancelled(session=found.session.id)
    if found.session.starts_at <= now:
        raise SessionAlreadyStarted(session=found.session.id)


def capacity_key(session_id: int) -> str:
    """The key of an organiser's change of a session's capacity (``/sessions``: change the capacity; an added
    session) among the changes the catalog import keeps until the file changes that value (``bot/catalog/changes.py``).
    Stopped sales are a flag of their own that the file does not carry: the import never resumes them."""
    return f"capacity:{session_id}"


def _seats(session: EventSession) -> dict[str, int]:
    return {"session": session.id, "capacity": session.capacity, "seats_left": session.seats_left}


async def add_session(
    uow: UnitOfWork,
    organiser_id: int,
    event_id: int,
    starts_at: datetime,
    capacity: int,
    actor: OrganiserActor,
    now: datetime,
) -> OrganiserSession:
    """A new session of the organiser's event, every seat on sale."""
    check_capacity(capacity)
    check_start(starts_at, now)
    async with uow:
        organiser = await organiser_for(uow, organiser_id, actor)
        event = await uow.catalog.event(event_id)
        if event is None or event.organiser_id != organiser.id:
            raise NotAllowed(event=event_id)
        session = await uow.organiser_catalog.add_session(event.id, starts_at, capacity)
        if session is None:
            raise SessionTaken(event=event.id)
        # the catalog had no such session: a file that lists it later replaces the organiser's capacity, reported
        await uow.organiser_settings.note_change(organiser.id, capacity_key(session.id), None, now)
        after = {"event": event.code, "starts_at": starts_at.isoformat(), **_seats(session)}
        await audit_organiser_change(uow, now, actor, "session.added", organiser, {}, after)
        await uow.commit()
    return OrganiserSession(session, event, organiser)


async def change_capacity(
    uow: UnitOfWork, organiser_id: int, session_id: int, capacity: int, actor: OrganiserActor, now: datetime
) -> OrganiserSession:
    """Set the capacity; never below the seats orders hold (:class:`BelowHeld`, with them, as they are now)."""
    check_capacity(capacity)
    async with uow:
        found = await organiser_session(uow, organiser_id, session_id, actor)
        _changeable(found, now)
        changed = await uow.organiser_catalog.set_capacity(session_id, capacity)
        if changed is None:
            fresh = await uow.catalog.session(session_id)
            held = fresh.capacity - fresh.seats_left if fresh else found.held
            raise BelowHeld(held=held)
        after = {"event": found.event.code, **_seats(changed)}
        before = {"event": found.event.code, **_seats(found.session)}
        await uow.organiser_settings.note_change(
            found.organiser.id, capacity_key(session_id), found.session.capacity, now
        )
        await audit_organiser_change(uow, now, actor, "session.capacity_changed", found.organiser, before, after)
        await uow.commit()
    return OrganiserSession(changed, found.event, found.organiser)


async def stop_sales(
    uow: UnitOfWork, organiser_id: int, session_id: int, actor: OrganiserActor, now: datetime
) -> OrganiserSession:
    """No seat of the session is sold from now on, however many are free or freed later by a cancellation (its
    ``sales_stopped`` flag, which the seat-taking UPDATE checks; the orders stay as they are, the waitlist is offered
    nothing) until :func:`resume_sales`. Stopping a stopped session changes nothing."""
    return await _set_sales(uow, organiser_id, session_id, True, actor, now)


async def resume_sales(
    uow: UnitOfWork, organiser_id: int, session_id: int, actor: OrganiserActor, now: datetime
) -> OrganiserSession:
    """The free seats are on sale again (and offered to the waitlist by its next pass)."""
    return await _set_sales(uow, organiser_id, session_id, False, actor, now)


async def _set_sales(
    uow: UnitOfWork, organiser_id: int, session_id: int, stopped: bool, actor: OrganiserActor, now: datetime
) -> OrganiserSession:
    async with uow:
        found = await organiser_session(uow, organiser_id, session_id, actor)
        _changeable(found, now)
        if found.session.sales_stopped is stopped:
            return found  # a double tap, an old button: nothing to change, nothing to audit
        changed = await uow.organiser_catalog.set_sales_stopped(session_id, stopped)
        if changed is None:  # cancelled, or the same change by someone else, a moment ago
            fresh = await uow.catalog.session(session_id)
            if fresh is None or fresh.status is SessionStatus.CANCELLED:
                raise SessionAlreadyCancelled(session=session_id)
            return OrganiserSession(fresh, found.event, found.organiser)
        before = {"event": found.event.code, **_seats(found.session), "sales_stopped": not stopped}
        after = {"event": found.event.code, **_seats(changed), "sales_stopped": stopped}
        action = "session.sales_stopped" if stopped else "session.sales_resumed"
        await audit_organiser_change(uow, now, actor, action, found.organiser, before, after)
        await uow.commit()
    return OrganiserSession(changed, found.event, found.organiser)


def clean_cancel_text(text: str | None) -> str | None:
    """The organiser's own reason on one line, at most :data:`CANCEL_TEXT_MAX` characters; None when empty."""
    return one_line(text, CANCEL_TEXT_MAX)


async def request_session_cancel(
    uow: UnitOfWork,
    organiser_id: int,
    session_id: int,
    reason: CancelReason,
    text: str | None,
    actor: OrganiserActor,
    operator_chat_id: int | None,
    now: datetime,
) -> tuple[OrganiserSession, int]:
    """Ask the operators to cancel the session: one card in the operator chat (one per session, however often it is
    asked) with the affected orders; nothing is cancelled here. Returns the session and how many active orders it
    has. :class:`NoOperators` when there is no operator chat."""
    if operator_chat_id is None:
        raise NoOperators()
    text = clean_cancel_text(text) if reason is CancelReason.OTHER else None
    async with uow:
        found = await organiser_session(uow, organiser_id, session_id, actor)
        _changeable(found, now)
        orders = len(await uow.reminders.session_orders(session_id))
        payload = {
            "session_id": session_id,
            "organiser_id": found.organiser.id,
            "reason": reason.value,
            "text": text,
            "by": actor.audit_actor,
        }
        await uow.outbox.add(
            keyed_message(OutboxKind.SESSION_CANCEL_REQUEST, operator_chat_id, payload, now, session_id)
        )
        after = {"event": found.event.code, "session": session_id, "reason": reason.value, "text": text}
        await audit_organiser_change(uow, now, actor, "session.cancel_requested", found.organiser, {}, after)
        await uow.commit()
    return found, orders
