"""The real bot process, through the emulator (issue 14): an organiser adds a booking question in their own chat and
the next booking of their event asks it; the order keeps the answer.

The test brings an organiser, event and session of its own (the seeded organiser's questions are what the other e2e
tests book with), the organiser's chat being a user of the emulator's world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.storage.tables import EventRow, OrderRow, OrganiserRow, SessionRow
from domain.use_cases.organiser_questions import question_key
from handlers.organiser.callbacks import OrgQuestionAction, OrgQuestionCb
from handlers.tourist.callbacks import BookAction, BookCb
from tests.e2e.booking import plain
from tests.e2e.tourist import Tourist

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

QUESTION = "What is your shoe size?"


async def own_catalog(database, organiser: Tourist) -> tuple[int, int, str]:
    """An organiser (chat: ``organiser``), an instant event of theirs with no questions and a session in three days;
    returns (organiser id, session id, event code)."""
    code = f"kayak-{organiser.id}"
    async with database.sessions() as db, db.begin():
        row = OrganiserRow(
            code=f"paddlers-{organiser.id}",
            name="Paddlers",
            chat_id=organiser.id,
            language="en",
            phone=None,
            confirm_within_s=600,
            pay_within_s=1800,
            hold_s=900,
            reminders_s=[],
            questions=[],
        )
        db.add(row)
        await db.flush()
        event = EventRow(
            code=code,
            organiser_id=row.id,
            region_id=database.seeded.region_id,
            category="sea",
            title={"en": "Kayak tour"},
            description={"en": "Two hours on the water."},
            meeting_point={"en": "Beach"},
            duration_s=7200,
            languages=["en"],
            currency="EUR",
            prices=[{"code": "adult", "price_minor": 3000}],
            confirmation="instant",
        )
        db.add(event)
        await db.flush()
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        session = SessionRow(event_id=event.id, starts_at=starts, capacity=8, seats_left=8, status="scheduled")
        db.add(session)
        await db.flush()
        return row.id, session.id, code


async def test_an_organiser_adds_a_question_and_the_next_booking_asks_it(tourist_factory, database) -> None:
    organiser = await tourist_factory("Kaja", "en")
    organiser_id, session_id, code = await own_catalog(database, organiser)

    listed = await organiser.send("/questions")
    assert "Booking questions of Paddlers" in plain(listed["text"]) and "bookings ask nothing" in listed["text"]
    prompt = await organiser.press(OrgQuestionCb(action=OrgQuestionAction.ADD_TEXT, org=organiser_id))
    assert "Send the question in English" in prompt["text"]
    saved = await organiser.send(QUESTION)
    assert "Saved" in saved["text"] and QUESTION in saved["text"]
    async with database.sessions() as db:
        stored = (await db.get(OrganiserRow, organiser_id)).questions
    assert [q["text"] for q in stored] == [{"en": QUESTION}]
    key = question_key(stored[0]["id"])
    assert OrgQuestionCb(action=OrgQuestionAction.OPEN, org=organiser_id, q=key).pack()  # the id fits a button

    tourist = await tourist_factory("Mia", "en")
    card = await tourist.send(f"/start ev-{code}")
    assert "Kayak tour" in card["text"]
    await tourist.press(BookCb(action=BookAction.START, session=session_id), card)
    asked = await tourist.press(BookCb(action=BookAction.NEXT, session=session_id))
    assert QUESTION in plain(asked["text"])
    summary = await tourist.send("EU 39")
    assert "EU 39" in plain(summary["text"])
    await tourist.press(BookCb(action=BookAction.CONFIRM, session=session_id), summary)
    async with database.sessions() as db:
        [order] = list(await db.scalars(select(OrderRow).where(OrderRow.user_id == tourist.id)))
    assert order.answers == {stored[0]["id"]: "EU 39"}
