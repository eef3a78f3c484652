"""SQLAlchemy implementation of ``domain.ports.UserRepository``: the people who talk to the bot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import UserRow
from bot.storage.update_scope import forget_user, known_user
from domain.model.users import User

_USERS: Table = UserRow.__table__  # type: ignore[assignment]


def user_from_row(row: UserRow) -> User:
    return User(
        id=row.id,
        language=row.language,
        created_at=row.created_at,
        first_name=row.first_name,
        username=row.username,
        phone=row.phone,
        hotel_id=row.hotel_id,
        region_id=row.region_id,
        blocked_bot=row.blocked_bot,
    )


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "language": user.language,
        "created_at": user.created_at,
        "first_name": user.first_name,
        "username": user.username,
        "phone": user.phone,
        "hotel_id": user.hotel_id,
        "region_id": user.region_id,
        "blocked_bot": user.blocked_bot,
    }


class SqlUserRepository:
    """With ``reading`` (a read block, no transaction: bot/storage/reads.py) a user this update has read already, with
    its conversation state (bot/storage/fsm.py), comes from that read; a transaction always reads the database."""

    def __init__(self, session: AsyncSession, reading: bool = False) -> None:
        self._db = session
        self._reading = reading

    async def get(self, user_id: int) -> User | None:
        if self._reading:
            known, row = known_user(user_id)
            if known:
                return user_from_row(row) if row is not None else None
        # Core, not the ORM's identity map: every update reads its user (bench/updates.py)
        row = (await self._db.execute(select(_USERS).where(_USERS.c.id == user_id))).first()
        return user_from_row(row) if row else None  # type: ignore[arg-type]

    async def add(self, user: User) -> None:
        forget_user(user.id)
        self._db.add(UserRow(**_user_values(user)))
        await self._db.flush()

    async def save(self, user: User) -> None:
        forget_user(user.id)
        await self._db.execute(update(UserRow).where(UserRow.id == user.id).values(**_user_values(user)))

    async def delete(self, user_id: int) -> None:
        forget_user(user_id)
        await self._db.execute(delete(UserRow).where(UserRow.id == user_id))
