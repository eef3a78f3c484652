"""Use cases of the tourist's profile: who they are, their language, phone and hotel, and forgetting them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import NotFound
from domain.model.messages import TOURIST, AuditEntry
from domain.model.orders import Order
from domain.model.users import User, normalize_phone
from domain.ports import UnitOfWork
from domain.use_cases.booking import cancel_in_tx
from domain.use_cases.support import get_user


async def register_user(
    uow: UnitOfWork,
    user_id: int,
    language: str,
    first_name: str | None,
    username: str | None,
    now: datetime,
) -> User:
    """The user, created on first contact with ``language``; names are refreshed when they change.

    Every update calls this: a known user with unchanged names costs one read, without a transaction."""
    async with uow.read():
        user = await uow.users.get(user_id)
    if user is not None and (user.first_name, user.username) == (first_name, username) and not user.blocked_bot:
        return user
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            user = User(
                id=user_id,
                language=language,
                created_at=now,
                first_name=first_name,
                username=username,
            )
            await uow.users.add(user)
        elif (user.first_name, user.username) != (
            first_name,
            username,
        ) or user.blocked_bot:
            # names change; and a user who writes to us has unblocked the bot
            user.first_name, user.username, user.blocked_bot = (
                first_name,
                username,
                False,
            )
            await uow.users.save(user)
        else:
            return user
        await uow.commit()
    return user


async def _update_user(uow: UnitOfWork, user_id: int, **changes: object) -> User:
    async with uow:
        user = await get_user(uow, user_id)
        for name, value in changes.items():
            setattr(user, name, value)
        await uow.users.save(user)
        await uow.commit()
    return user


async def set_language(uow: UnitOfWork, user_id: int, language: str) -> User:
    return await _update_user(uow, user_id, language=language)


async def set_region(uow: UnitOfWork, user_id: int, region_id: int) -> User:
    return await _update_user(uow, user_id, region_id=region_id)


async def set_phone(uow: UnitOfWork, user_id: int, raw_phone: str) -> User:
    """Store a validated E.164 phone; :class:`InvalidPhone` for anything that is not a real number."""
    return await _update_user(uow, user_id, phone=normalize_phone(raw_phone))


async def set_hotel(uow: UnitOfWork, user_id: int, hotel_id: int | None) -> User:
    if hotel_id is not None:
        async with uow:
            hotel = await uow.catalog.hotel(hotel_id)
        if hotel is None:
            raise NotFound(hotel=hotel_id)
        return await _update_user(uow, user_id, hotel_id=hotel_id, region_id=hotel.region_id)
    return await _update_user(uow, user_id, hotel_id=None)


@dataclass(frozen=True, slots=True)
class Forgotten:
    cancelled: tuple[str, ...]  # codes of unpaid bookings that were cancelled
    kept: tuple[str, ...]  # codes of paid, still valid bookings, now anonymous


async def delete_personal_data(uow: UnitOfWork, user_id: int, now: datetime) -> Forgotten:
    """Forget the tourist: unpaid upcoming bookings are cancelled (seats released), every order is kept for
    accounting without anything that points at the person, and the user record is removed."""
    cancelled: list[str] = []
    kept: list[str] = []
    async with uow:
        orders: list[Order] = list(await uow.orders.all_for_user(user_id))
        for order in orders:
            if order.is_active:
                session = await uow.catalog.session(order.session_id)
                upcoming = session is not None and session.starts_at > now
                if upcoming and not order.money_held:
                    await cancel_in_tx(uow, order, now, "order.cancelled_on_data_deletion")
                    cancelled.append(order.code)
                elif upcoming:
                    kept.append(order.code)
            before = {"user_id": "set" if order.user_id else None}
            order.anonymize()
            await uow.orders.save(order)
            await uow.audit.add(
                AuditEntry(
                    at=now,
                    actor=TOURIST,
                    action="order.anonymized",
                    order_id=order.id,
                    before=before,
                )
            )
        await uow.questions.forget_question(user_id)
        await uow.points.forget(user_id)  # their points ledger and referral link (issue 15)
        await uow.users.delete(user_id)
        await uow.commit()
    return Forgotten(tuple(cancelled), tuple(kept))
