"""The organiser's own sessions and booking questions (domain/use_cases/organiser_sessions.py and
organiser_questions.py, issue 14) on the in-memory fakes: who may act, the rules of each change, one transaction
with its audit entry, and the booking flow asking what the organiser set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import (
    SALES_STOPPED,
    InvalidAnswer,
    NoOperators,
    NotAllowed,
    NotFound,
    SessionAlreadyStarted,
    SessionNotBookable,
)
from domain.model.messages import OutboxKind
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_questions import (
    MAX_QUESTIONS,
    QuestionRefused,
    add_question,
    move_question,
    question_key,
    remove_question,
    set_choice_texts,
)
from domain.use_cases.organiser_sessions import (
    BadCapacity,
    BadStart,
    BelowHeld,
    CancelReason,
    SessionTaken,
    add_session,
    capacity_key,
    change_capacity,
    request_session_cancel,
    resume_sales,
    stop_sales,
)
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import ORGANISER_CHAT_ID, Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OWN = OrganiserActor(ORGANISER_CHAT_ID)
STRANGER = OrganiserActor(123456)
OPERATOR = OrganiserActor(-100500, operator_id=4001)
DESK = -100500


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    return fake_world(NOW)


async def book(uow: FakeUnitOfWork, seeded: Seeded, seats: int, user_id: int = 77) -> None:
    add_user(uow.state, user_id)
    await place_order(
        uow,
        PlaceOrder(user_id, seeded.session_id, {"adult": seats}, {"pickup": "Viru", "lunch": "fish"}),
        NOW,
    )


async def test_capacity_changes_move_the_seats_left_and_never_go_below_the_seats_held(world) -> None:
    uow, seeded = world
    await book(uow, seeded, 3)
    changed = await change_capacity(uow, seeded.organiser_id, seeded.session_id, 10, OWN, NOW)
    assert (changed.session.capacity, changed.session.seats_left) == (10, 7)
    with pytest.raises(BelowHeld) as refused:
        await change_capacity(uow, seeded.organiser_id, seeded.session_id, 2, OWN, NOW)
    assert refused.value.data == {"held": 3}
    with pytest.raises(BadCapacity):
        await change_capacity(uow, seeded.organiser_id, seeded.session_id, 0, OWN, NOW)
    assert uow.state.sessions[seeded.session_id].capacity == 10
    [entry] = [e for e in uow.state.audit if e.action == "session.capacity_changed"]
    assert entry.actor == f"organiser:{ORGANISER_CHAT_ID}"
    assert (entry.before["capacity"], entry.after["capacity"], entry.after["seats_left"]) == (20, 10, 7)


async def test_stopped_sales_sell_nothing_more(world) -> None:
    uow, seeded = world
    await book(uow, seeded, 2)
    stopped = await stop_sales(uow, seeded.organiser_id, seeded.session_id, OWN, NOW)
    assert (stopped.session.capacity, stopped.session.seats_left, stopped.session.sales_stopped) == (20, 18, True)
    add_user(uow.state, 78)
    order = PlaceOrder(78, seeded.session_id, {"adult": 1}, {"pickup": "x", "lunch": "veg"})
    with pytest.raises(SessionNotBookable) as refused:
        await place_order(uow, order, NOW)
    assert refused.value.data["reason"] == SALES_STOPPED
    again = await stop_sales(uow, seeded.organiser_id, seeded.session_id, OWN, NOW)  # a double tap: no second entry
    assert again.session.sales_stopped
    assert [e.action for e in uow.state.audit if e.action.startswith("session.")] == ["session.sales_stopped"]
    resumed = await resume_sales(uow, seeded.organiser_id, seeded.session_id, OWN, NOW)
    assert not resumed.session.sales_stopped and resumed.session.seats_left == 18
    assert uow.state.audit[-1].action == "session.sales_resumed"
    assert (uow.state.audit[-1].before["sales_stopped"], uow.state.audit[-1].after["sales_stopped"]) == (True, False)
    await place_order(uow, order, NOW)


async def test_only_the_organisers_chat_or_an_operator_may_act(world) -> None:
    uow, seeded = world
    with pytest.raises(NotAllowed):
        await stop_sales(uow, seeded.organiser_id, seeded.session_id, STRANGER, NOW)
    with pytest.raises(NotAllowed):  # another organiser's session under this organiser's id
        await stop_sales(uow, seeded.organiser_id, seeded.instant_session_id, OWN, NOW)
    with pytest.raises(NotAllowed):
        await add_session(uow, seeded.organiser_id, seeded.instant_event_id, NOW + timedelta(days=5), 5, OWN, NOW)
    assert uow.state.audit == []
    done = await stop_sales(uow, seeded.organiser_id, seeded.session_id, OPERATOR, NOW)
    assert done.session.sales_stopped
    assert uow.state.audit[-1].actor == "operator:4001"


async def test_a_new_session_is_checked(world) -> None:
    uow, seeded = world
    with pytest.raises(BadStart):
        await add_session(uow, seeded.organiser_id, seeded.event_id, NOW + timedelta(minutes=30), 5, OWN, NOW)
    with pytest.raises(BadStart):
        await add_session(uow, seeded.organiser_id, seeded.event_id, NOW + timedelta(days=800), 5, OWN, NOW)
    with pytest.raises(SessionTaken):
        await add_session(uow, seeded.organiser_id, seeded.event_id, NOW + timedelta(days=2), 5, OWN, NOW)
    added = await add_session(uow, seeded.organiser_id, seeded.event_id, NOW + timedelta(days=9), 5, OWN, NOW)
    assert (added.session.capacity, added.session.seats_left, added.session.bookable(NOW)) == (5, 5, True)
    assert [e.action for e in uow.state.audit] == ["session.added"]


async def test_session_changes_note_the_catalogs_capacity_for_the_import(world) -> None:
    """The catalog import keeps the organiser's capacity while the file still says the noted one
    (bot/catalog/changes.py); the first change's note stays, an added session's has no catalog value."""
    uow, seeded = world
    await book(uow, seeded, 3)
    with pytest.raises(BelowHeld):  # a refused change notes nothing
        await change_capacity(uow, seeded.organiser_id, seeded.session_id, 2, OWN, NOW)
    assert uow.state.organiser_changes == {}
    await change_capacity(uow, seeded.organiser_id, seeded.session_id, 12, OWN, NOW)
    await stop_sales(uow, seeded.organiser_id, seeded.session_id, OWN, NOW)  # a flag, not a capacity: no note
    added = await add_session(uow, seeded.organiser_id, seeded.event_id, NOW + timedelta(days=9), 5, OWN, NOW)
    assert uow.state.organiser_changes == {
        (seeded.organiser_id, capacity_key(seeded.session_id)): 20,
        (seeded.organiser_id, capacity_key(added.session.id)): None,
    }


async def test_a_cancel_request_is_one_card_for_the_operators_and_changes_nothing(world) -> None:
    uow, seeded = world
    await book(uow, seeded, 2)
    for _ in range(2):
        found, orders = await request_session_cancel(
            uow, seeded.organiser_id, seeded.session_id, CancelReason.WEATHER, "ignored", OWN, DESK, NOW
        )
    assert orders == 1 and found.session.seats_left == 18
    [card] = [m for m in uow.state.outbox if m.kind is OutboxKind.SESSION_CANCEL_REQUEST]
    assert card.chat_id == DESK and card.payload["reason"] == "weather" and card.payload["text"] is None
    assert uow.state.sessions[seeded.session_id].status.value == "scheduled"
    with pytest.raises(NoOperators):
        await request_session_cancel(
            uow, seeded.organiser_id, seeded.session_id, CancelReason.OTHER, "storm", OWN, None, NOW
        )
    with pytest.raises(SessionAlreadyStarted):
        await request_session_cancel(
            uow, seeded.organiser_id, seeded.past_session_id, CancelReason.BREAKDOWN, None, OWN, DESK, NOW
        )


async def test_the_next_booking_asks_the_questions_as_the_organiser_set_them(world) -> None:
    uow, seeded = world
    organiser = await add_question(uow, seeded.organiser_id, "en", "Shoe size?", None, OWN, NOW)
    new = organiser.questions[-1]
    await remove_question(uow, seeded.organiser_id, question_key("lunch"), OWN, NOW)
    add_user(uow.state, 77)
    with pytest.raises(InvalidAnswer):  # the new question is required
        await place_order(uow, PlaceOrder(77, seeded.session_id, {"adult": 1}, {"pickup": "Viru"}), NOW)
    with pytest.raises(InvalidAnswer):  # the removed one is no longer asked
        await place_order(
            uow, PlaceOrder(77, seeded.session_id, {"adult": 1}, {"pickup": "Viru", "lunch": "fish", new.id: "42"}), NOW
        )
    order = await place_order(
        uow, PlaceOrder(77, seeded.session_id, {"adult": 1}, {"pickup": "Viru", new.id: "42"}), NOW
    )
    assert order.answers == {"pickup": "Viru", new.id: "42"}
    kept = uow.state.organisers[seeded.organiser_id]
    assert [q.id for q in kept.all_questions] == ["pickup", new.id, "lunch"]


async def test_question_rules(world) -> None:
    uow, seeded = world
    with pytest.raises(QuestionRefused) as refused:
        await set_choice_texts(uow, seeded.organiser_id, question_key("pickup"), "de", "a\nb", OWN, NOW)
    assert refused.value.data["reason"] == "not_choice"
    with pytest.raises(NotFound):
        await move_question(uow, seeded.organiser_id, "00000000", True, OWN, NOW)
    with pytest.raises(NotAllowed):
        await add_question(uow, seeded.organiser_id, "en", "Hi?", None, STRANGER, NOW)
    for n in range(MAX_QUESTIONS - 2):
        await add_question(uow, seeded.organiser_id, "en", f"Question {n}?", None, OWN, NOW)
    with pytest.raises(QuestionRefused) as refused:
        await add_question(uow, seeded.organiser_id, "en", "One too many?", None, OWN, NOW)
    assert refused.value.data == {"reason": "too_many", "limit": MAX_QUESTIONS}
    assert len(uow.state.organisers[seeded.organiser_id].questions) == MAX_QUESTIONS
    assert [e.action for e in uow.state.audit] == ["question.added"] * (MAX_QUESTIONS - 2)
