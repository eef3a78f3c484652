"""The tables of an organiser's own settings (issue 14; domain/model/organiser_settings.py), in
:data:`bot.storage.tables.Base`'s metadata. The schema is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class OrganiserExtrasRow(Base):
    """What an organiser set in ``/settings`` that the catalog file does not carry: the booking cutoff, their texts
    (``{kind: {language: text}}``) and the Book button (labels per language, the Bot API's button style)."""

    __tablename__ = "organiser_extras"
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id"), primary_key=True)
    booking_cutoff_s: Mapped[int] = mapped_column(Integer)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    book_text: Mapped[dict[str, Any]] = mapped_column(JSON)
    book_style: Mapped[str] = mapped_column(String(16))


class OrganiserChangeRow(Base):
    """A catalog value the organiser changed in the chat since the last import that set it (``key``: a
    :class:`~domain.model.organiser_settings.Setting`, per event ``confirmation:<event code>``), with the value the
    catalog had then. The import keeps the organiser's value while the file still says ``catalog_value``."""

    __tablename__ = "organiser_changes"
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    catalog_value: Mapped[Any] = mapped_column(JSON)
    changed_at: Mapped[datetime]
