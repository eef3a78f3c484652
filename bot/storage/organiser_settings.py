"""SQLAlchemy implementation of ``domain.ports.OrganiserSettingsRepository``: the terms go to the organiser's and
its events' rows (where the catalog import writes them), the extras to ``organiser_extras``, the changes the import
must know of to ``organiser_changes`` (``bot/storage/organiser_tables.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.catalog import organiser_from_row
from bot.storage.db import insert_on_conflict
from bot.storage.organiser_tables import OrganiserChangeRow, OrganiserExtrasRow
from bot.storage.tables import EventRow, OrganiserRow
from domain.model.catalog import Confirmation, Organiser
from domain.model.organiser_settings import ButtonStyle, OrganiserExtras


def extras_from_row(row: OrganiserExtrasRow) -> OrganiserExtras:
    return OrganiserExtras(
        organiser_id=row.organiser_id,
        booking_cutoff=timedelta(seconds=row.booking_cutoff_s),
        texts={kind: dict(texts) for kind, texts in row.texts.items()},
        book_text=dict(row.book_text),
        book_style=ButtonStyle(row.book_style),
    )


def extras_values(extras: OrganiserExtras) -> dict[str, object]:
    return {
        "booking_cutoff_s": int(extras.booking_cutoff.total_seconds()),
        "texts": {kind: dict(texts) for kind, texts in extras.texts.items()},
        "book_text": dict(extras.book_text),
        "book_style": extras.book_style.value,
    }


def copy_extras(extras: OrganiserExtras) -> OrganiserExtras:
    """A copy the caller may change (a use case edits the extras it read before saving them)."""
    return OrganiserExtras(
        organiser_id=extras.organiser_id,
        booking_cutoff=extras.booking_cutoff,
        texts={kind: dict(texts) for kind, texts in extras.texts.items()},
        book_text=dict(extras.book_text),
        book_style=extras.book_style,
    )


class SqlOrganiserSettingsRepository:
    """``changed`` is called on every write of what the catalog cache keeps (the organiser's row, its events'
    confirmation, its extras): the unit of work drops this process's copy when it commits."""

    def __init__(self, session: AsyncSession, changed: Callable[[], None] = lambda: None) -> None:
        self._db = session
        self._changed = changed

    async def extras(self, organiser_id: int) -> OrganiserExtras:
        row = await self._db.get(OrganiserExtrasRow, organiser_id, populate_existing=True)
        return extras_from_row(row) if row is not None else OrganiserExtras(organiser_id=organiser_id)

    async def extras_to_change(self, organiser_id: int) -> OrganiserExtras:
        return await SqlOrganiserSettingsRepository.extras(self, organiser_id)  # never the cache's copy

    async def save_extras(self, extras: OrganiserExtras) -> None:
        self._changed()
        values = extras_values(extras)
        statement = insert_on_conflict(self._db, OrganiserExtrasRow.__table__).values(
            organiser_id=extras.organiser_id, **values
        )
        await self._db.execute(
            statement.on_conflict_do_update(index_elements=[OrganiserExtrasRow.organiser_id], set_=values)
        )

    async def terms_to_change(self, organiser_id: int) -> Organiser | None:
        row = await self._db.get(OrganiserRow, organiser_id, populate_existing=True)
        return organiser_from_row(row) if row is not None else None

    async def save_terms(self, organiser: Organiser) -> None:
        self._changed()
        await self._db.execute(
            update(OrganiserRow)
            .where(OrganiserRow.id == organiser.id)
            .values(
                confirm_within_s=int(organiser.confirm_within.total_seconds()),
                pay_within_s=int(organiser.pay_within.total_seconds()),
                hold_s=int(organiser.hold.total_seconds()),
                waitlist_claim_window_s=int(organiser.waitlist_claim_window.total_seconds()),
                reminders_s=[int(r.total_seconds()) for r in organiser.reminders],
            )
            .execution_options(synchronize_session=False)
        )

    async def save_confirmation(self, event_id: int, confirmation: Confirmation) -> None:
        self._changed()
        await self._db.execute(
            update(EventRow)
            .where(EventRow.id == event_id)
            .values(confirmation=confirmation.value)
            .execution_options(synchronize_session=False)
        )

    async def note_change(self, organiser_id: int, key: str, catalog_value: object, now: datetime) -> None:
        # the first change since the import keeps the catalog's value: a second change must not overwrite it
        await self._db.execute(
            insert_on_conflict(self._db, OrganiserChangeRow.__table__)
            .values(organiser_id=organiser_id, key=key, catalog_value=catalog_value, changed_at=now)
            .on_conflict_do_nothing(index_elements=[OrganiserChangeRow.organiser_id, OrganiserChangeRow.key])
        )
