"""Organisers get booking requests through the outbox and answer by replying (+ / −) or with the buttons; the tourist
hears the outcome in their own language. The sender's failure handling lives here too (it talks to the same fake
Telegram)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.tables import OrderRow, OutboxRow, SessionRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, PaymentStatus, format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.order_changes import confirm_for_organiser
from domain.use_cases.session_cancel import cancel_session
from domain.use_cases.support import tell_organiser
from handlers.organiser.callbacks import RequestAction, RequestCb
from scheduler.jobs import DeskJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import Seeded, seed_user
from tests.telegram.recorder import (
    RecordingSession,
    bad_request,
    forbidden,
    retry_after,
    server_error,
)

ORGANISER_CHAT = 700001  # the seeded organiser's private chat
TOURIST = 5001


async def book(sessions, seeded: Seeded, clock, user_id: int = TOURIST, language: str = "ru", seats: int = 2):
    await seed_user(sessions, user_id, language=language, now=clock.now())
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


async def order_row(sessions, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def outbox(sessions) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def sent_to(recorder: RecordingSession, chat_id: int) -> list:
    return [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == chat_id]


async def request_message(sender: OutboxSender, recorder: RecordingSession, organiser: Chat):
    assert await sender.deliver_due() == 1
    [request] = sent_to(recorder, ORGANISER_CHAT)
    return request


async def test_the_organiser_gets_the_request_in_their_language(
    sender, recorder, organiser, sessions, seeded, clock, dp
) -> None:
    order = await book(sessions, seeded, clock)
    request = await request_message(sender, recorder, organiser)
    et = dp["i18n"].translator("et")
    text = organiser.last_text()
    assert format_order_code(order.code) in text
    assert "Saarte kruiis" in text and "Hotel Viru" in text and "Taimetoit" in text  # event, answers in Estonian
    assert (
        et.gettext("Reply to this message with + to confirm, or − and a reason to decline.") in request.params["text"]
    )
    assert organiser.buttons() == ["✅ " + et.gettext("Confirm"), "❌ " + et.gettext("Decline")]
    assert [r.status for r in await outbox(sessions)] == ["sent"]
    assert await sender.deliver_due() == 0  # nothing twice


@pytest.mark.parametrize("answer", ["+", "ok", "Jah, ootame", "Да!", "👍"])
async def test_a_yes_reply_confirms_and_the_tourist_is_told(
    answer, sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="ru")
    order = await book(sessions, seeded, clock)
    request = await request_message(sender, recorder, organiser)
    await organiser.send(answer, reply_to=request.result.message_id)
    row = await order_row(sessions, order.id)
    assert (row.booking, row.payment) == (BookingStatus.CONFIRMED, PaymentStatus.ON_SITE)
    assert any(t.startswith("✅") for t in organiser.texts())
    assert organiser.keyboard(request.result.message_id) == []  # the request's buttons are gone
    assert await sender.deliver_due() == 1
    [_told] = [r for r in recorder.calls("sendPhoto") if r.params["chat_id"] == TOURIST]  # with its check-in QR
    ru = dp["i18n"].translator("ru")
    assert (
        ru.gettext("Your booking <b>{code}</b> is confirmed!")
        .format(code=format_order_code(order.code))
        .replace("<b>", "")
        .replace("</b>", "")
        in tourist.last_text()
    )


async def test_a_no_reply_declines_with_the_reason_and_frees_the_seats(
    sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    order = await book(sessions, seeded, clock, language="en")
    request = await request_message(sender, recorder, organiser)
    await organiser.send("- no boat today, storm", reply_to=request.result.message_id)
    row = await order_row(sessions, order.id)
    assert row.booking == BookingStatus.DECLINED
    async with sessions() as db:
        assert await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == seeded.session_id)) == 20
    await sender.deliver_due()
    assert "no boat today, storm" in tourist.last_text()
    assert "Other dates" in tourist.buttons()[0]


async def test_an_unclear_reply_changes_nothing_and_reaches_the_operators(
    sender, recorder, organiser, sessions, seeded, clock, dp, bot, settings
) -> None:
    order = await book(sessions, seeded, clock)
    request = await request_message(sender, recorder, organiser)
    await organiser.send("maybe tomorrow?", reply_to=request.result.message_id)
    assert (await order_row(sessions, order.id)).booking == BookingStatus.AWAITING_ORGANISER
    assert organiser.keyboard(request.result.message_id) != []  # still answerable
    operators = Chat(dp, bot, recorder, 1, chat_id=OPERATOR_CHAT_ID, chat_type="supergroup", title="Operators")
    desk_jobs = DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk)
    await desk_jobs.check_orders()  # the desk sees the order changed
    await sender.deliver_due()
    card = operators.last_text()
    assert "Unclear answer from the organiser" in card and "maybe tomorrow?" in card and "+3725550001" in card
    assert "✅ Confirm" in operators.buttons()


async def test_a_reply_to_an_order_no_longer_waiting_gets_its_state(
    sender, recorder, organiser, sessions, seeded, clock
) -> None:
    order = await book(sessions, seeded, clock)
    request = await request_message(sender, recorder, organiser)
    await organiser.send("+", reply_to=request.result.message_id)
    await organiser.send("-", reply_to=request.result.message_id)
    assert format_order_code(order.code) in organiser.last_text()
    assert (await order_row(sessions, order.id)).booking == BookingStatus.CONFIRMED


async def test_buttons_confirm_and_decline(sender, recorder, organiser, sessions, seeded, clock) -> None:
    first = await book(sessions, seeded, clock)
    second = await book(sessions, seeded, clock, user_id=TOURIST + 1)
    await sender.deliver_due()
    requests = sent_to(recorder, ORGANISER_CHAT)
    await organiser.press("✅", message_id=requests[0].result.message_id)
    await organiser.press("❌", message_id=requests[1].result.message_id)
    assert (await order_row(sessions, first.id)).booking == BookingStatus.CONFIRMED
    assert (await order_row(sessions, second.id)).booking == BookingStatus.DECLINED
    assert organiser.keyboard(requests[0].result.message_id) == []


async def test_nobody_else_can_answer(sender, recorder, organiser, dp, bot, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    await sender.deliver_due()
    stranger = Chat(dp, bot, recorder, 6001)
    await stranger.send("/start")
    await stranger.press_data(RequestCb(action=RequestAction.CONFIRM, order=order.id).pack())
    [alert] = stranger.alerts()
    assert alert.show_alert and "organiser" in alert.text
    assert (await order_row(sessions, order.id)).booking == BookingStatus.AWAITING_ORGANISER


async def test_a_reply_to_another_bot_message_is_not_an_answer(organiser, sessions, seeded, clock) -> None:
    await organiser.send("/start")
    menu = organiser.last_message().message_id
    await organiser.send("+", reply_to=menu)
    assert organiser.replies("sendMessage")  # the ordinary hint, not a booking answer
    async with sessions() as db:
        assert list(await db.scalars(select(OrderRow))) == []


# ---- the sender's failure handling ------------------------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_not_messaged_again(
    sender, recorder, organiser, sessions, seeded, clock
) -> None:
    recorder.fail_next("sendMessage", forbidden())  # the organiser has no profile with us: never wrote to the bot
    await book(sessions, seeded, clock)
    assert await sender.deliver_due() == 0
    await book(sessions, seeded, clock, user_id=TOURIST + 1)
    calls = len(recorder.calls("sendMessage"))
    assert await sender.deliver_due() == 0
    assert len(recorder.calls("sendMessage")) == calls  # no request at all
    assert [r.status for r in await outbox(sessions)] == ["dead", "dead"]
    async with sessions() as db:
        assert await db.scalar(select(UserRow.blocked_bot).where(UserRow.id == ORGANISER_CHAT))
    await organiser.send("/start")  # writing to us again unblocks
    async with sessions() as db:
        assert not await db.scalar(select(UserRow.blocked_bot).where(UserRow.id == ORGANISER_CHAT))


async def test_flood_control_postpones_without_counting_a_failure(sender, recorder, organiser, sessions, seeded, clock):
    await book(sessions, seeded, clock)
    recorder.fail_next("sendMessage", retry_after(7))
    assert await sender.deliver_due() == 0
    [row] = await outbox(sessions)
    assert (row.status, row.attempts) == ("pending", 0)
    assert (row.due_at - clock.now()).total_seconds() == 7
    assert await sender.deliver_due() == 0  # not due yet
    clock.advance(seconds=7)
    assert await sender.deliver_due() == 1


async def test_server_errors_retry_then_dead_letter(sender, recorder, organiser, sessions, seeded, clock) -> None:
    await book(sessions, seeded, clock)
    for _ in range(sender.max_attempts):
        recorder.fail_next("sendMessage", server_error())
    for _ in range(sender.max_attempts):
        await sender.deliver_due()
        clock.advance(minutes=10)
    [row] = await outbox(sessions)
    assert (row.status, row.attempts) == ("dead", sender.max_attempts)


async def test_a_refused_message_is_closed_with_the_reason(sender, recorder, organiser, sessions, seeded, clock):
    await book(sessions, seeded, clock)
    recorder.fail_next("sendMessage", bad_request("Bad Request: chat not found"))
    await sender.deliver_due()
    [row] = await outbox(sessions)
    assert (row.status, row.last_error) == ("dead", "Bad Request: chat not found")


async def test_a_crashed_sender_s_rows_are_taken_again_after_the_lease(sender, organiser, sessions, seeded, clock):
    await book(sessions, seeded, clock)
    claimed = await sender.queue.claim(clock.now(), ["organiser.booking_request"], 10)  # ... and then it died
    assert len(claimed) == 1
    assert await sender.deliver_due() == 0  # leased
    clock.advance(minutes=2)
    assert await sender.deliver_due() == 1


async def test_the_tourist_question_reaches_the_operator_group(dp, bot, recorder, sender, seeded) -> None:
    tourist = Chat(dp, bot, recorder, 7001, language_code="de", first_name="Jonas", username="jonas_b")
    operators = Chat(dp, bot, recorder, 1, chat_id=OPERATOR_CHAT_ID, chat_type="supergroup", title="Operators")
    await tourist.send("/question")
    await tourist.send("Is the cruise <ok> for a wheelchair?")
    assert await sender.deliver_due() == 1
    text = operators.last_text()
    assert "Is the cruise <ok> for a wheelchair?" in text and "@jonas_b" in text and "Deutsch" not in text


async def test_a_busy_chat_waits_while_other_chats_go_on(bot, dp, sessions, clock, recorder, seeded) -> None:
    """Three booking requests to one organiser and one question to the operators: the organiser's chat gets its
    burst, its fourth message waits for the chat's limit, and the operators' message is not held up."""
    from bot.ratelimit import Rate

    ticks = [0.0]
    sender = OutboxSender(
        bot, sessions, dp["i18n"], clock, limits=Limits(per_chat=Rate(1.0, 2), clock=lambda: ticks[0])
    )
    for user in range(4):
        await book(sessions, seeded, clock, user_id=TOURIST + user, seats=1)
    Chat(dp, bot, recorder, 1, chat_id=OPERATOR_CHAT_ID, chat_type="supergroup", title="Operators")
    tourist = Chat(dp, bot, recorder, 7002)
    await tourist.send("/question")
    await tourist.send("Can I bring a dog?")
    assert await sender.deliver_due() == 3  # two to the organiser, one to the operators
    assert [r.params["chat_id"] for r in recorder.calls("sendMessage")][-3:].count(ORGANISER_CHAT) == 2
    pending = [r for r in await outbox(sessions) if r.status == "pending"]
    assert len(pending) == 2 and all(r.attempts == 0 for r in pending)  # waiting is not failing
    ticks[0] += 2
    clock.advance(seconds=2)
    assert await sender.deliver_due() == 2


async def test_a_reply_before_the_request_is_recorded_still_counts(
    sender, recorder, organiser, sessions, seeded, clock
) -> None:
    """The organiser answers faster than the sender records the request's message id: the code in it decides."""
    order = await book(sessions, seeded, clock)
    request = await request_message(sender, recorder, organiser)
    async with sessions() as db, db.begin():
        await db.execute(update(OutboxRow).values(sent_message_id=None))
    await organiser.send("+", reply_to=request.result.message_id)
    assert (await order_row(sessions, order.id)).booking == BookingStatus.CONFIRMED


async def test_a_tourist_replying_to_their_order_card_is_not_taken_for_the_organiser(
    dp, bot, recorder, sessions, seeded, clock
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    order = await book(sessions, seeded, clock, language="en")
    await tourist.send("/orders")
    await tourist.press(format_order_code(order.code))
    await tourist.send("+", reply_to=tourist.last_message().message_id)
    assert "organiser" not in tourist.last_text()
    assert (await order_row(sessions, order.id)).booking == BookingStatus.AWAITING_ORGANISER


async def test_one_drain_delivers_more_than_a_batch(bot, sessions, dp, clock, recorder, seeded) -> None:
    sender = OutboxSender(bot, sessions, dp["i18n"], clock, batch=2, limits=Limits.unlimited())
    for user in range(5):
        await book(sessions, seeded, clock, user_id=TOURIST + user, seats=1)
    assert await sender.drain() == 5


async def test_an_unexpected_error_backs_off_instead_of_sticking(sender, recorder, organiser, sessions, seeded, clock):
    from aiogram.exceptions import TelegramNotFound

    await book(sessions, seeded, clock)
    recorder.fail_next("sendMessage", lambda method: TelegramNotFound(method=method, message="Not Found"))
    assert await sender.deliver_due() == 0
    [row] = await outbox(sessions)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "Not Found")
    clock.advance(seconds=5)
    assert await sender.deliver_due() == 1


async def test_stopping_returns_the_rest_of_the_batch_to_the_queue(sender, organiser, sessions, seeded, clock):
    for user in range(3):
        await book(sessions, seeded, clock, user_id=TOURIST + user, seats=1)
    await sender.stop()
    assert await sender.deliver_due() == 0
    assert {r.status for r in await outbox(sessions)} == {"pending"}


async def test_other_dates_under_a_decline_opens_below_and_keeps_the_reason(
    sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    await book(sessions, seeded, clock, language="en")
    request = await request_message(sender, recorder, organiser)
    await organiser.send("- no boat today, storm", reply_to=request.result.message_id)
    await sender.deliver_due()
    notice = tourist.last_message()
    await tourist.press("Other dates")
    assert tourist.replies("editMessageText") == []  # the decline with its reason stays as it was
    assert "no boat today, storm" in next(m.text for m in tourist.messages() if m.message_id == notice.message_id)
    assert tourist.last_message().message_id != notice.message_id
    assert "Islands cruise" in tourist.last_text()  # the event card, below


async def test_an_operator_s_confirm_disarms_the_request_and_its_reminder(
    sender, recorder, organiser, sessions, seeded, clock
) -> None:
    """Once the booking is answered elsewhere, the organiser's request and its reminder say so, without buttons."""
    order = await book(sessions, seeded, clock, language="en")
    request = await request_message(sender, recorder, organiser)
    uow = SqlUnitOfWork(sessions)
    async with uow:
        organiser_ = await uow.catalog.organiser(seeded.organiser_id)
        await tell_organiser(uow, OutboxKind.CONFIRM_NUDGE, organiser_, order, clock.now())
        await uow.commit()
    assert await sender.deliver_due() == 1
    nudge = sent_to(recorder, ORGANISER_CHAT)[-1]
    assert organiser.keyboard(nudge.result.message_id) != []

    await confirm_for_organiser(SqlUnitOfWork(sessions), order.id, "operator:1", clock.now(), payments_enabled=False)
    await sender.deliver_due()
    for message_id in (request.result.message_id, nudge.result.message_id):
        assert organiser.keyboard(message_id) == []
        shown = next(m.text for m in organiser.messages() if m.message_id == message_id)
        assert format_order_code(order.code) in shown and "✅" in shown.split("\n")[-1]


async def test_booking_another_date_from_a_cancellation_notice_keeps_the_notice(
    sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    await book(sessions, seeded, clock, language="en")
    await sender.deliver_due()
    await cancel_session(SqlUnitOfWork(sessions), seeded.session_id, "operator:1", "engine failure", clock.now())
    await sender.deliver_due()
    notice = next(m for m in tourist.messages() if m.text and "engine failure" in m.text)
    await tourist.press(lambda b: b.text.startswith("🗓") and b.callback_data != "", message_id=notice.message_id)
    assert tourist.replies("editMessageText") == []
    assert tourist.last_message().message_id != notice.message_id  # the first booking screen, below
    assert "engine failure" in next(m.text for m in tourist.messages() if m.message_id == notice.message_id)
