"""Use cases of a guest's favourites (domain/model/favourites.py): star and unstar an event, switch its alerts, and
the two alert jobs.

The alerts go through the outbox (rendered at send time in the guest's language; a guest who blocked the bot is not
asked for and, should they block it meanwhile, the sender closes the row unsent). Each is keyed so that a guest is
told at most once per session: the new dates by the highest new session id of the event (``seen_session_id`` moves
past them in the same transaction), the seats by the session.

The waitlist comes first: :func:`alert_seats_again` runs after the waitlist's
:func:`~domain.use_cases.waitlist.offer_freed_seats` in a tick and tells the favourites' guests only when the free
seats fit nobody waiting (the waitlist job would offer them, holding them, on its next pass); otherwise the session
stays watched and is looked at again on the next pass.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import NotFound
from domain.model.favourites import MAX_FAVOURITES, Favourite, FavouritesFull
from domain.model.messages import OutboxKind, keyed_message
from domain.model.waitlist import offers_for
from domain.ports import UnitOfWork
from domain.use_cases.sweep import DEFAULT_BATCH, Outcome, Swept, sweep

EVENT_SPAN = 2**31  # above every event id: a favourite's (user, event) as one number for the job's bookkeeping


async def add_favourite(uow: UnitOfWork, user_id: int, event_id: int, now: datetime) -> bool:
    """Star the event (alerts on); True if it was not a favourite yet. :class:`NotFound` for an event that does not
    exist, :class:`FavouritesFull` beyond :data:`MAX_FAVOURITES`."""
    async with uow:
        if await uow.favourites.get(user_id, event_id) is not None:
            return False  # a double tap, an old button
        if await uow.catalog.event(event_id) is None:
            raise NotFound(event=event_id)
        if await uow.favourites.count(user_id) >= MAX_FAVOURITES:
            raise FavouritesFull(limit=MAX_FAVOURITES)
        seen = await uow.favourites.latest_session_id(event_id)
        added = await uow.favourites.add(Favourite(user_id, event_id, now, alerts=True, seen_session_id=seen))
        await uow.commit()
    return added


async def remove_favourite(uow: UnitOfWork, user_id: int, event_id: int) -> bool:
    """Unstar the event; True if it was a favourite (a second tap changes nothing)."""
    async with uow:
        removed = await uow.favourites.remove(user_id, event_id)
        await uow.commit()
    return removed


async def set_favourite_alerts(uow: UnitOfWork, user_id: int, event_id: int, on: bool) -> Favourite:
    """Switch the favourite's alerts; turning them on starts from the sessions there are now (nothing is told about
    dates added while they were off). :class:`NotFound` if the event is not among the guest's favourites."""
    async with uow:
        favourite = await uow.favourites.get(user_id, event_id)
        if favourite is None:
            raise NotFound(favourite=event_id)
        if favourite.alerts == on:
            return favourite
        seen = await uow.favourites.latest_session_id(event_id) if on else favourite.seen_session_id
        favourite = replace(favourite, alerts=on, seen_session_id=seen)
        await uow.favourites.save(favourite)
        await uow.commit()
    return favourite


# ---- the jobs ---------------------------------------------------------------------------------------------------


async def alert_new_dates(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Favourites (alerts on) whose event has sessions added since the guest was last told: one message per guest
    listing the new sessions that can be booked, ``seen_session_id`` moved past them. One favourite per transaction;
    a swept id is ``user_id * EVENT_SPAN + event_id``."""

    async def claim(seen: set[int]) -> Favourite | None:
        return await uow.favourites.claim_with_new_sessions([divmod(i, EVENT_SPAN) for i in seen])

    async def handle(favourite: Favourite) -> Outcome:
        new = list(await uow.favourites.sessions_after(favourite.event_id, favourite.seen_session_id))
        await uow.favourites.save(replace(favourite, seen_session_id=max(new, default=favourite.seen_session_id)))
        bookable = [s for i in new if (s := await uow.catalog.session(i)) is not None and s.bookable(now)]
        user = await uow.users.get(favourite.user_id)
        if not bookable or user is None or user.blocked_bot:
            return Outcome.SKIPPED
        payload = {"event_id": favourite.event_id, "sessions": [s.id for s in bookable]}
        key = (favourite.user_id, favourite.event_id, bookable[-1].id)
        await uow.outbox.add(keyed_message(OutboxKind.FAVOURITE_NEW_DATES, favourite.user_id, payload, now, *key))
        return Outcome.DONE

    return await sweep(uow, limit, claim, handle, lambda f: f.user_id * EVENT_SPAN + f.event_id)


async def alert_seats_again(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """Sold-out sessions of favourite events are remembered; once one has free seats that nobody on its waitlist
    can take, the guests who starred the event (alerts on, not blocked) are told, once per guest and session, and
    the session is forgotten (selling out again watches it again)."""
    async with uow:
        await uow.favourites.watch_sold_out(now)
        await uow.commit()

    async def handle(session_id: int) -> Outcome:
        session = await uow.catalog.session(session_id)
        if session is None or not session.bookable(now):
            await uow.favourites.unwatch(session_id)
            return Outcome.SKIPPED
        if offers_for(await uow.waitlist.waiting(session_id), session.seats_left):
            return Outcome.LEFT  # the waitlist's job offers these seats first; looked at again on the next pass
        for user_id in await uow.favourites.alert_recipients(session.event_id):
            payload = {"session_id": session_id}
            await uow.outbox.add(keyed_message(OutboxKind.FAVOURITE_SEATS, user_id, payload, now, user_id, session_id))
        await uow.favourites.unwatch(session_id)
        return Outcome.DONE

    # the repository of the transaction the sweep opens (each ``async with`` makes new ones)
    return await sweep(uow, limit, lambda seen: uow.favourites.claim_watched_with_seats(seen), handle)
