"""Rating after the session through the real Dispatcher: the request arrives through the outbox, the tourist taps a
star once; strangers, forged stars and a second tap change nothing; a low rating reaches the operators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.outbox import OutboxSender
from bot.storage.tables import OrderRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.checkin import check_in_ticket
from handlers.tourist.callbacks import RateCb
from scheduler.jobs import DeadlineJobs, DeskJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, TOURIST_ID
from tests.seed import INSTANT_ORGANISER_CHAT_ID, INSTANT_SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

WALK_LASTS = timedelta(hours=2)


@pytest.fixture
async def walked(sessions, seeded: Seeded, clock, sender: OutboxSender) -> Order:
    """Tourist 1001 booked the instant walk (tomorrow, two hours), was checked in, and it has taken place."""
    await seed_user(sessions, TOURIST_ID, language="en", now=clock.now())
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(user_id=TOURIST_ID, session_id=seeded.instant_session_id, quantities={"adult": 2}),
        clock.now(),
    )
    assert await sender.deliver_due() == 1  # its confirmation with the check-in QR (paid on site)
    walk_starts = clock.now() + INSTANT_SESSION_IN
    await check_in_ticket(SqlUnitOfWork(sessions), order.stored_id, INSTANT_ORGANISER_CHAT_ID, None, walk_starts)
    clock.advance(seconds=(INSTANT_SESSION_IN + WALK_LASTS + timedelta(hours=1)).total_seconds())
    return order


async def rating_message(sender: OutboxSender, sessions, clock, chat: Chat) -> int:
    swept = await DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock).send_due_reminders()
    assert len(swept.done) == 1  # the rating request (the reminders before were skipped: too late)
    assert await sender.deliver_due() == 1
    return chat.last_message().message_id


async def rating(sessions, order_id: int) -> int | None:
    async with sessions() as db:
        return (await db.get(OrderRow, order_id)).rating


async def test_the_tourist_rates_with_a_star_once(chat, sender, sessions, clock, walked, dp) -> None:
    message_id = await rating_message(sender, sessions, clock, chat)
    assert "Old Town walk" in chat.last_text()
    assert chat.buttons() == ["⭐1", "⭐2", "⭐3", "⭐4", "⭐5"]

    await chat.press("⭐4", message_id=message_id)
    [alert] = chat.alerts()
    assert alert.text == "Thank you for your rating!" and not alert.show_alert
    assert await rating(sessions, walked.id) == 4
    assert chat.keyboard(message_id) == []  # the buttons are gone
    assert "Your rating: ⭐⭐⭐⭐" in chat.last_text()

    await chat.press_data(RateCb(order=walked.id, stars=1).pack(), message_id=message_id)  # an old screen, a retry
    [alert] = chat.alerts()
    assert "already rated" in alert.text and "⭐⭐⭐⭐" in alert.text
    assert await rating(sessions, walked.id) == 4
    assert await sender.deliver_due() == 0  # and nothing for the operators


async def test_a_low_rating_becomes_a_problem_card(
    chat,
    sender,
    sessions,
    clock,
    walked,
    dp,
    bot,
    recorder,
    settings,
) -> None:
    operators = Chat(dp, bot, recorder, 1, chat_id=OPERATOR_CHAT_ID, chat_type="supergroup", title="Operators")
    message_id = await rating_message(sender, sessions, clock, chat)
    jobs = DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk)
    await jobs.check_orders()  # a normal order after its session: no card
    await chat.press("⭐2", message_id=message_id)
    assert await rating(sessions, walked.id) == 2
    assert (await jobs.check_orders()).done == [walked.id]
    assert await sender.deliver_due() == 1
    text = operators.last_text()
    assert format_order_code(walked.code) in text and "Low rating" in text and "⭐⭐" in text
    assert "Old Town Guides" in text and "Old Town walk" in text
    assert "✍️ Write to the tourist" in operators.buttons() and "✔️ Resolve" in operators.buttons()


async def test_a_stranger_cannot_rate_someone_else_s_order(
    chat,
    sender,
    sessions,
    clock,
    walked,
    dp,
    bot,
    recorder: RecordingSession,
) -> None:
    await rating_message(sender, sessions, clock, chat)
    stranger = Chat(dp, bot, recorder, 6001, first_name="Eve")
    await stranger.send("/start")
    await stranger.press_data(RateCb(order=walked.id, stars=1).pack())
    [alert] = stranger.alerts()
    assert alert.show_alert
    assert await rating(sessions, walked.id) is None
    assert await sender.deliver_due() == 0


@pytest.mark.parametrize("stars", [0, 6, 99, -3])
async def test_stars_outside_one_to_five_are_refused(
    chat,
    sender,
    sessions,
    clock,
    walked,
    stars: int,
) -> None:
    message_id = await rating_message(sender, sessions, clock, chat)
    await chat.press_data(RateCb(order=walked.id, stars=stars).pack(), message_id=message_id)
    [alert] = chat.alerts()
    assert alert.show_alert
    assert await rating(sessions, walked.id) is None
    assert len(chat.keyboard(message_id)[0]) == 5  # still there to rate properly


async def test_rating_data_that_does_not_parse_falls_through(
    chat,
    sender,
    sessions,
    clock,
    walked,
) -> None:
    message_id = await rating_message(sender, sessions, clock, chat)
    await chat.press_data("rt:x:5", message_id=message_id)
    [alert] = chat.alerts()
    assert "no longer valid" in alert.text
    assert await rating(sessions, walked.id) is None


async def test_an_order_cannot_be_rated_before_its_session(chat, sessions, seeded, clock) -> None:
    await chat.send("/start")
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(user_id=TOURIST_ID, session_id=seeded.instant_session_id, quantities={"adult": 1}),
        clock.now(),
    )
    await chat.press_data(RateCb(order=order.id, stars=5).pack())
    [alert] = chat.alerts()
    assert alert.show_alert
    assert await rating(sessions, order.id) is None
