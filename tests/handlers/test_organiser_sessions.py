"""``/sessions`` through the real dispatcher (issue 14): the organiser's upcoming sessions with seats sold and left,
paged; adding one, changing capacity, stopping and resuming sales (a tourist cannot book meanwhile), asking the
operators to cancel; every refusal; and that only the organiser's own chat or an operator changes anything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import OutboxKind
from domain.model.orders import format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_sessions import CancelReason
from handlers.organiser.callbacks import OrgCancelCb, OrgSessionAction, OrgSessionCb
from handlers.tourist.callbacks import BookAction, BookCb, EventCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, TOURIST_ID
from tests.handlers.organiser_wiring import (
    audit_actions,
    organiser_chat,
    outbox_rows,
    session_row,
    sessions_of,
    wire_organiser_routers,
)
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_user

ORGANISER = f"organiser:{ORGANISER_CHAT_ID}"


@pytest.fixture(autouse=True)
def _routers(monkeypatch: pytest.MonkeyPatch, operator_members: set[int]) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def org(dp, bot, recorder) -> Chat:
    return organiser_chat(dp, bot, recorder)


async def book(sessions, seeded: Seeded, clock, seats: int = 2, user_id: int = 5001):
    await seed_user(sessions, user_id, now=clock.now())
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=user_id,
            session_id=seeded.session_id,
            quantities={"adult": seats},
            answers={"pickup": "Hotel Viru", "lunch": "veg"},
        ),
        clock.now(),
    )


async def open_session(org: Chat) -> None:
    await org.send("/sessions")
    await org.press(lambda b: "/20" in b.text)  # the 20-seat session two days ahead


async def test_the_list_shows_upcoming_sessions_with_seats_sold_and_left(org, sessions, seeded, clock) -> None:
    await book(sessions, seeded, clock, seats=3)
    await org.send("/sessions")
    text = org.last_text()
    assert "Upcoming sessions of" in text and "Islands cruise" in text
    assert "sold 3, left 17" in text and "sold 0, left 2" in text  # the big and the small session
    assert text.count("•") == 2  # the past and the cancelled session are not listed
    assert "11:00 (Tallinn time)" in text  # times carry the region's zone
    assert org.buttons()[-1] == "➕ Add a session"


async def test_the_list_is_paged(org, sessions, seeded, clock) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        for day in range(10, 17):
            await uow.organiser_catalog.add_session(seeded.event_id, clock.now() + timedelta(days=day), 5)
        await uow.commit()
    await org.send("/sessions")
    assert "Page 1 of 2" in org.last_text() and "▶️" in org.buttons()
    await org.press("▶️")
    assert "Page 2 of 2" in org.last_text() and "◀️" in org.buttons() and "▶️" not in org.buttons()
    assert org.last_text().count("•") == 3  # 9 sessions: 6 and 3


async def test_someone_who_is_not_an_organiser_is_told_what_the_command_is_for(chat) -> None:
    await chat.send("/sessions")
    assert "This command is for organisers" in chat.last_text()
    await chat.send("/sessions baltic-boats")  # a tourist naming an organiser
    assert "This command is for organisers" in chat.last_text()


async def test_an_operator_opens_an_organisers_sessions_by_code(dp, bot, recorder, seeded, sessions) -> None:
    operator = Chat(dp, bot, recorder, OPERATOR_ID, language_code="en", first_name="Olga")
    await operator.send("/sessions baltic-boats")
    assert "Islands cruise" in operator.last_text()
    await operator.press(lambda b: "/20" in b.text)
    await operator.press("Stop sales")
    await operator.press(lambda b: b.text == "⛔ Stop sales")
    row = await session_row(sessions, seeded.session_id)
    assert (row.capacity, row.seats_left, row.sales_stopped) == (20, 20, True)
    assert (f"operator:{OPERATOR_ID}", "session.sales_stopped") in await audit_actions(sessions)


async def test_a_forged_button_from_anyone_else_changes_nothing(chat, sessions, seeded) -> None:
    await chat.send("/start")
    forged = OrgSessionCb(action=OrgSessionAction.STOP_YES, org=seeded.organiser_id, id=seeded.session_id)
    await chat.press_data(forged.pack())
    [alert] = chat.alerts()
    assert "Only the organiser's own chat or our team" in alert.text and alert.show_alert
    cancel = OrgCancelCb(org=seeded.organiser_id, session=seeded.session_id, reason=CancelReason.WEATHER)
    await chat.press_data(cancel.pack())
    assert "Only the organiser's own chat" in chat.alerts()[0].text
    row = await session_row(sessions, seeded.session_id)
    assert (row.capacity, row.seats_left) == (20, 20)
    assert await outbox_rows(sessions, OutboxKind.SESSION_CANCEL_REQUEST.value) == []
    assert await audit_actions(sessions) == []


async def test_an_organiser_cannot_touch_another_organisers_session(org, sessions, seeded) -> None:
    await org.send("/sessions")
    other = OrgSessionCb(action=OrgSessionAction.STOP_YES, org=seeded.organiser_id, id=seeded.instant_session_id)
    await org.press_data(other.pack())
    assert "Only the organiser's own chat" in org.alerts()[0].text
    row = await session_row(sessions, seeded.instant_session_id)
    assert row.seats_left == 10


async def test_adding_a_session_refuses_bad_values_with_a_hint_then_adds_it(org, sessions, seeded) -> None:
    await org.send("/sessions")
    await org.press("Add a session")
    assert "Send its date, start time and capacity" in org.last_text()
    assert "it is now Mon, Nov 30, 11:00 (Tallinn time)" in org.last_text()
    await org.send("next friday")
    assert "I could not read that" in org.last_text()
    await org.send("2026-11-30 10:00 20")  # an hour before the seeded now (09:00 UTC = 11:00 in Tallinn)
    assert "too soon or in the past" in org.last_text()
    await org.send("2029-01-01 10:00 20")
    assert "too far ahead" in org.last_text()
    await org.send("2026-12-20 10:00 0")
    assert "whole number from 1 to 10000" in org.last_text()
    await org.send("2026-12-20 25:00 10")
    assert "I could not read that" in org.last_text()
    assert len(await sessions_of(sessions, seeded.event_id)) == 4  # nothing added yet
    await org.send("2026-12-20 10:00 12")
    assert "Session added" in org.last_text() and "left: 12" in org.last_text()
    added = [s for s in await sessions_of(sessions, seeded.event_id) if s.capacity == 12]
    [row] = added
    assert row.starts_at.isoformat() == "2026-12-20T08:00:00+00:00"  # 10:00 in Tallinn
    assert (ORGANISER, "session.added") in await audit_actions(sessions)


async def test_a_session_at_a_taken_time_is_refused(org, sessions, seeded) -> None:
    await org.send("/sessions")
    await org.press("Add a session")
    await org.send("2026-12-02 11:00 10")  # the seeded session's start in Tallinn
    assert "already has a session at that time" in org.last_text()
    assert len(await sessions_of(sessions, seeded.event_id)) == 4


async def test_capacity_never_goes_below_the_seats_held(org, sessions, seeded, clock) -> None:
    await book(sessions, seeded, clock, seats=3)
    await open_session(org)
    assert "Sold or held: 3 · left: 17 · capacity: 20" in org.last_text()
    await org.press("Change capacity")
    assert "from 3 to 10000" in org.last_text()
    await org.send("2")
    assert "Orders hold 3 seats" in org.last_text()
    await org.send("abc")
    assert "whole number" in org.last_text()
    await org.send("5")
    assert "Capacity changed" in org.last_text() and "left: 2 · capacity: 5" in org.last_text()
    row = await session_row(sessions, seeded.session_id)
    assert (row.capacity, row.seats_left) == (5, 2)
    assert (ORGANISER, "session.capacity_changed") in await audit_actions(sessions)


async def test_stopping_sales_asks_first_then_leaves_no_seat_on_sale(org, sessions, seeded, clock) -> None:
    await book(sessions, seeded, clock, seats=2)
    await open_session(org)
    await org.press("Stop sales")
    assert "Stop the sales of this session?" in org.last_text() and "the 18 left now included" in org.last_text()
    await org.press("Back")
    assert not (await session_row(sessions, seeded.session_id)).sales_stopped
    await org.press("Stop sales")
    await org.press(lambda b: b.text == "⛔ Stop sales")
    assert "Sales stopped" in org.last_text() and "not even one a cancellation frees" in org.last_text()
    row = await session_row(sessions, seeded.session_id)
    assert (row.capacity, row.seats_left, row.sales_stopped) == (20, 18, True)  # the seats stay, off sale
    assert "⛔ Stop sales" not in org.buttons() and "▶️ Resume sales" in org.buttons()
    await org.send("/sessions")
    assert "sold 2, sales stopped" in org.last_text()
    assert any(b.startswith("⛔ ") and "2/20" in b for b in org.buttons())


async def test_a_tourist_cannot_book_a_stopped_session_until_the_sales_resume(org, chat, sessions, seeded) -> None:
    await open_session(org)
    await org.press("Stop sales")
    await org.press(lambda b: b.text == "⛔ Stop sales")
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    assert not any(b.startswith("Wed, Dec 2") for b in chat.buttons())  # not offered on the event card
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())  # an older card's Book
    [alert] = chat.alerts()
    assert "the organiser has stopped sales for this date" in alert.text and alert.show_alert
    assert (await session_row(sessions, seeded.session_id)).seats_left == 20

    await org.press("▶️ Resume sales")
    assert "Sales resumed" in org.last_text() and "⛔ Stop sales" in org.buttons()
    assert not (await session_row(sessions, seeded.session_id)).sales_stopped
    assert [a for _, a in await audit_actions(sessions)] == ["session.sales_stopped", "session.sales_resumed"]
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    assert any(b.startswith("Wed, Dec 2") for b in chat.buttons())  # on sale again
    resume = OrgSessionCb(action=OrgSessionAction.RESUME, org=seeded.organiser_id, id=seeded.session_id)
    await org.press_data(resume.pack())  # an old button: nothing changes, nothing audited twice
    assert len(await audit_actions(sessions)) == 2


async def test_asking_to_cancel_sends_one_card_to_the_operators(org, sessions, seeded, clock, sender, recorder) -> None:
    order = await book(sessions, seeded, clock, seats=2)
    await open_session(org)
    await org.press("Ask to cancel the session")
    assert "Choose the reason" in org.last_text()
    await org.press("Bad weather")
    assert "Sent to our team" in org.last_text() and "1 active order on it" in org.last_text()
    await open_session(org)
    await org.press("Ask to cancel the session")
    await org.press("Bad weather")  # asked twice: still one card
    [row] = await outbox_rows(sessions, OutboxKind.SESSION_CANCEL_REQUEST.value)
    assert row.chat_id == OPERATOR_CHAT_ID
    assert (await session_row(sessions, seeded.session_id)).status == "scheduled"  # the operators decide
    await sender.deliver_due()
    [card] = [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == OPERATOR_CHAT_ID]
    assert "asks to cancel" in card.text and format_order_code(order.code) in card.text
    assert "/session islands-cruise 2026-12-02 11:00 cancel bad weather" in card.text
    actions = await audit_actions(sessions)
    assert actions.count((ORGANISER, "session.cancel_requested")) == 2


async def test_another_reason_is_written_and_refused_when_empty(org, sessions, seeded, sender, recorder) -> None:
    await open_session(org)
    await org.press("Ask to cancel the session")
    await org.press("Another reason")
    assert "Write the reason" in org.last_text()
    await org.send_sticker()
    assert "as a text message" in org.last_text()
    await org.send("   ")
    assert "Write the reason" in org.last_text()
    await org.send("the captain is ill")
    assert "Sent to our team" in org.last_text()
    await sender.deliver_due()
    [card] = [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == OPERATOR_CHAT_ID]
    assert "the captain is ill" in card.text and "0 active orders" in card.text


async def test_a_cancelled_or_started_session_cannot_be_changed(org, sessions, seeded) -> None:
    await org.send("/sessions")
    for session_id, words in ((seeded.cancelled_session_id, "cancelled"), (seeded.past_session_id, "started")):
        await org.press_data(
            OrgSessionCb(action=OrgSessionAction.STOP_YES, org=seeded.organiser_id, id=session_id).pack()
        )
        assert words in org.alerts()[0].text
    assert await audit_actions(sessions) == []


async def test_another_command_ends_the_wait_for_a_value(org, sessions, seeded) -> None:
    await open_session(org)
    await org.press("Change capacity")
    await org.send("/sessions")
    assert "Upcoming sessions" in org.last_text()
    await org.send("7")  # no longer a capacity
    assert (await session_row(sessions, seeded.session_id)).capacity == 20


async def test_a_stranger_in_a_waiting_state_chat_cannot_send_values(dp, bot, recorder, sessions, seeded) -> None:
    """The organiser's chat id moved to someone else mid-flow (a catalog import): the typed value is refused."""
    stranger = Chat(dp, bot, recorder, TOURIST_ID, language_code="en")
    state = dp.fsm.get_context(bot, chat_id=TOURIST_ID, user_id=TOURIST_ID)
    await state.set_state("SessionInput:capacity")
    await state.update_data(org=seeded.organiser_id, session=seeded.session_id)
    await stranger.send("1")
    assert "Only the organiser's own chat" in stranger.last_text()
    assert (await session_row(sessions, seeded.session_id)).capacity == 20
