"""The tables of offers and discount codes (issue 15; domain/model/offers.py, domain/model/discount_codes.py), in
:data:`bot.storage.tables.Base`'s metadata. The schema is created only by the Alembic migrations (0016)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class OfferRow(Base):
    """An offer operators sent: its texts per language, the event and segment, until when guests see it."""

    __tablename__ = "offers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    texts: Mapped[dict[str, Any]]  # language -> text ("en" always)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    segment: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # sending, sent
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # the delivery went through the guests up to this id
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_offers_status", "status"),)


class OfferDeliveryRow(Base):
    """An offer went to a guest: at most once per offer and guest (the key); what their Offers screen lists. Gone
    with the guest (their personal data deleted)."""

    __tablename__ = "offer_deliveries"
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_offer_deliveries_user_id", "user_id"),)


class DiscountCodeRow(Base):
    """A discount code; ``code`` is upper-case, ``used`` counts the uses taken (never above ``max_uses``)."""

    __tablename__ = "discount_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    percent: Mapped[int | None] = mapped_column(Integer)
    amount_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    max_uses: Mapped[int | None] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class DiscountCodeUseRow(Base):
    """A guest used a code (once per code and guest: the unique key), for an order. A financial record: it outlives
    the guest's profile, like their orders."""

    __tablename__ = "discount_code_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("discount_codes.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    used_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("code_id", "user_id", name="uq_discount_code_uses_code_user"),)
