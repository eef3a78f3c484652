"""Loyalty points' tables (issue 15; domain/model/points.py), in :data:`bot.storage.tables.Base`'s metadata: the
ledger, the catalog's points rules and the guests' referral links. The schema is created only by the Alembic
migrations (0015)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class PointsEntryRow(Base):
    """A movement of a guest's points (signed ``amount``); the balance is the sum of the guest's rows. One row per
    order and reason (an order earns once, is reversed once, ...), one referral bonus per guest and friend."""

    __tablename__ = "points_ledger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))  # earned, reversed, redeemed, returned, referral
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    friend_id: Mapped[int | None] = mapped_column(BigInteger)  # a referral's other guest
    created_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("order_id", "reason", name="uq_points_ledger_order_reason"),
        UniqueConstraint("user_id", "reason", "friend_id", name="uq_points_ledger_user_reason_friend"),
        Index("ix_points_ledger_user_id", "user_id", "id"),
    )


class PointsRuleRow(Base):
    """The catalog's ``points`` of a region or of an organiser (exactly one of the two); the organiser's
    ``earn_percent`` replaces its region's."""

    __tablename__ = "points_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), unique=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id"), unique=True)
    earn_percent: Mapped[int | None] = mapped_column(Integer)
    referral_bonus: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("(region_id IS NULL) <> (organiser_id IS NULL)", name="one_owner"),)


class ReferralRow(Base):
    """A guest's referral link (its unguessable ``token``) and who invited them (once)."""

    __tablename__ = "referrals"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    referred_by: Mapped[int | None] = mapped_column(BigInteger)
    linked_at: Mapped[datetime | None]
