"""What the bot last set on Telegram about itself (issues 14 and 15), in :data:`bot.storage.tables.Base`'s metadata:
one row per thing set, so a start (or a /start) asks Telegram again only when it changed. The schema is created only
by the Alembic migrations (0014)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class BotProfileRow(Base):
    """``key``: ``description:<language>`` / ``short_description:<language>`` (the bot's descriptions, ``-`` for the
    default without a language), ``menu:<chat id>`` (an organiser chat's command menu); ``value``: a digest of what was
    set (for a menu, prefixed with its language: ``et:<digest>``)."""

    __tablename__ = "bot_profile"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime]
