"""SQLAlchemy implementation of ``domain.offer_ports.OfferRepository``: offers, who received them, the guests' opt-out
(``users.offers_opt_out``) and the segment query.

The segment is one SELECT over ``users`` (offers on, the bot not blocked) with a condition per part given; the
delivery job reads it in id order from the offer's cursor, ``limit`` guests at a time, so a segment of any size is
gone through in short transactions. ``offer_deliveries`` has one row per offer and guest (its key): a guest is never
recorded, nor sent the offer, twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.offer_tables import DiscountCodeRow, OfferDeliveryRow, OfferRow
from bot.storage.tables import EventRow, HotelRow, OrderRow, RegionRow, UserRow
from domain.model.offers import Offer, OfferStatus, Segment
from domain.model.orders import BookingStatus

# the bookings that show a guest's taste (a category they booked) and that count as "booked in the last N days"
_BOOKED = [BookingStatus.AWAITING_ORGANISER, BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW]


def _conditions(segment: Segment, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [UserRow.offers_opt_out.is_(False), UserRow.blocked_bot.is_(False)]
    if segment.region_ids:
        in_region = select(HotelRow.id).where(HotelRow.region_id.in_(segment.region_ids))
        where.append(or_(UserRow.region_id.in_(segment.region_ids), UserRow.hotel_id.in_(in_region)))
    if segment.languages:
        where.append(UserRow.language.in_(segment.languages))
    if segment.hotel_ids:
        where.append(UserRow.hotel_id.in_(segment.hotel_ids))
    booked = [OrderRow.user_id == UserRow.id, OrderRow.booking.in_([b.value for b in _BOOKED])]
    if segment.categories:
        categories = [c.casefold() for c in segment.categories]
        where.append(
            exists().where(*booked, OrderRow.event_id == EventRow.id, func.lower(EventRow.category).in_(categories))
        )
    since = segment.booked_since(now)
    if since is not None:
        where.append(exists().where(*booked, OrderRow.created_at >= since))
    return where


def _offer(row: OfferRow, code: str | None) -> Offer:
    return Offer(
        id=row.id,
        texts={str(k): str(v) for k, v in row.texts.items()},
        segment=Segment.from_json(row.segment),
        created_at=row.created_at,
        valid_until=row.valid_until,
        created_by=row.created_by,
        event_id=row.event_id,
        code=code,
        status=OfferStatus(row.status),
        cursor=row.cursor,
        recipients=row.recipients,
    )


def _with_code() -> Select[OfferRow, str]:
    return select(OfferRow, DiscountCodeRow.code).outerjoin(DiscountCodeRow, DiscountCodeRow.offer_id == OfferRow.id)


class SqlOfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, offer: Offer) -> Offer:
        row = OfferRow(
            texts=dict(offer.texts),
            event_id=offer.event_id,
            segment=offer.segment.as_json(),
            created_at=offer.created_at,
            created_by=offer.created_by,
            valid_until=offer.valid_until,
            status=offer.status.value,
            cursor=offer.cursor,
            recipients=offer.recipients,
        )
        self._db.add(row)
        await self._db.flush()
        offer.id = row.id
        return offer

    async def get(self, offer_id: int) -> Offer | None:
        found = (await self._db.execute(_with_code().where(OfferRow.id == offer_id))).first()
        return _offer(found[0], found[1]) if found else None

    async def save(self, offer: Offer) -> None:
        await self._db.execute(
            update(OfferRow)
            .where(OfferRow.id == offer.id)
            .values(status=offer.status.value, cursor=offer.cursor, recipients=offer.recipients)
            .execution_options(synchronize_session=False)
        )

    async def reach(self, segment: Segment, now: datetime) -> int:
        count = await self._db.scalar(select(func.count()).select_from(UserRow).where(*_conditions(segment, now)))
        return int(count or 0)

    async def next_guests(self, offer: Offer, now: datetime, limit: int) -> Sequence[int]:
        received = exists().where(OfferDeliveryRow.offer_id == offer.id, OfferDeliveryRow.user_id == UserRow.id)
        rows = await self._db.scalars(
            select(UserRow.id)
            .where(*_conditions(offer.segment, now), UserRow.id > offer.cursor, ~received)
            .order_by(UserRow.id)
            .limit(limit)
        )
        return list(rows)

    async def add_deliveries(self, offer_id: int, user_ids: Sequence[int]) -> int:
        if not user_ids:
            return 0
        added = await self._db.scalars(
            insert_on_conflict(self._db, OfferDeliveryRow)
            .values([{"offer_id": offer_id, "user_id": user_id} for user_id in user_ids])
            .on_conflict_do_nothing()
            .returning(OfferDeliveryRow.user_id)
        )
        return len(list(added))

    async def claim_sending(self, exclude: Collection[int]) -> Offer | None:
        row = await self._db.scalar(
            select(OfferRow)
            .where(OfferRow.status == OfferStatus.SENDING.value, OfferRow.id.not_in(list(exclude)))
            .order_by(OfferRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        code = await self._db.scalar(select(DiscountCodeRow.code).where(DiscountCodeRow.offer_id == row.id))
        return _offer(row, code)

    async def for_guest(self, user_id: int, now: datetime, limit: int) -> Sequence[Offer]:
        rows = await self._db.execute(
            _with_code()
            .join(OfferDeliveryRow, OfferDeliveryRow.offer_id == OfferRow.id)
            .where(OfferDeliveryRow.user_id == user_id, OfferRow.valid_until > now)
            .order_by(OfferRow.id.desc())
            .limit(limit)
        )
        return [_offer(row, code) for row, code in rows]

    async def received(self, offer_id: int, user_id: int) -> bool:
        found = await self._db.scalar(
            select(OfferDeliveryRow.offer_id).where(
                OfferDeliveryRow.offer_id == offer_id, OfferDeliveryRow.user_id == user_id
            )
        )
        return found is not None

    async def opted_out(self, user_id: int) -> bool:
        return bool(await self._db.scalar(select(UserRow.offers_opt_out).where(UserRow.id == user_id)))

    async def set_opted_out(self, user_id: int, opted_out: bool) -> bool:
        statement = update(UserRow).where(UserRow.id == user_id).values(offers_opt_out=opted_out)
        return await changed_rows(self._db, statement.execution_options(synchronize_session=False)) == 1

    async def region_ids(self, codes: Collection[str]) -> dict[str, int]:
        rows = await self._db.execute(select(RegionRow.code, RegionRow.id).where(RegionRow.code.in_(list(codes))))
        return {str(code): int(region_id) for code, region_id in rows}

    async def hotel_ids(self, codes: Collection[str]) -> dict[str, int]:
        rows = await self._db.execute(select(HotelRow.code, HotelRow.id).where(HotelRow.code.in_(list(codes))))
        return {str(code): int(hotel_id) for code, hotel_id in rows}
