"""``SqlOrganiserSettingsRepository`` on SQLite and PostgreSQL: the extras are inserted, then updated in place (an
upsert), read back as they were saved, and a booking reads the organiser's cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.uow import SqlUnitOfWork
from domain.errors import SessionNotBookable
from domain.model.organiser_settings import ButtonStyle, Setting, TextKind
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_settings import change_term, read_settings, save_book_button, save_text
from tests.seed import INSTANT_ORGANISER_CHAT_ID, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ACTOR = OrganiserActor(INSTANT_ORGANISER_CHAT_ID)


async def test_extras_are_saved_updated_and_read_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    seeded = await seed_catalog(sessions, NOW)
    org = seeded.instant_organiser_id
    found = await read_settings(SqlUnitOfWork(sessions), org, ACTOR)
    assert found.extras.booking_cutoff == timedelta(minutes=5)  # nothing stored: the defaults
    await change_term(SqlUnitOfWork(sessions), org, Setting.CUTOFF, "30m", ACTOR, NOW)  # inserts
    await save_text(SqlUnitOfWork(sessions), org, TextKind.BRING, "de", "Warme <b>Schuhe</b>", ACTOR, NOW)  # updates
    await save_book_button(
        SqlUnitOfWork(sessions), org, ACTOR, NOW, language="en", label="Go", style=ButtonStyle.DANGER
    )
    extras = (await read_settings(SqlUnitOfWork(sessions), org, ACTOR)).extras
    assert extras.booking_cutoff == timedelta(minutes=30)
    assert extras.texts == {"bring": {"de": "Warme <b>Schuhe</b>"}}
    assert (extras.book_text, extras.book_style) == ({"en": "Go"}, ButtonStyle.DANGER)

    # the walk starts in a day: a cutoff of a day and an hour closes it, a smaller one opens it again
    await seed_user(sessions, 5001, now=NOW)
    await change_term(SqlUnitOfWork(sessions), org, Setting.CUTOFF, "1d1h", ACTOR, NOW)
    order = PlaceOrder(user_id=5001, session_id=seeded.instant_session_id, quantities={"adult": 1})
    with pytest.raises(SessionNotBookable):
        await place_order(SqlUnitOfWork(sessions), order, NOW)
    await change_term(SqlUnitOfWork(sessions), org, Setting.CUTOFF, "23h", ACTOR, NOW)
    assert (await place_order(SqlUnitOfWork(sessions), order, NOW)).stored_id
