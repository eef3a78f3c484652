"""Problem cards in the operator group: each problem raises exactly one card, edited in place as the order changes;
its buttons act (audited), strangers are refused, a flood becomes a digest, a forgotten card is raised once more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.tables import AuditRow, DeskCardRow, OrderRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import format_order_code
from domain.rules.problems import ProblemKind
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.operator.cards import KIND_TITLES, CardAction, CardCb
from scheduler.jobs import DeskJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, SECOND_OPERATOR_ID
from tests.seed import Seeded, seed_user
from tests.telegram.recorder import RecordingSession

TOURIST = 5001


@pytest.fixture
def sender(bot: Bot, sessions, dp: Dispatcher, clock) -> OutboxSender:
    return OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited())


@pytest.fixture
def jobs(sessions, clock, settings) -> DeskJobs:
    return DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk)


async def book(
    sessions,
    seeded: Seeded,
    clock,
    user_id: int = TOURIST,
    session: str = "session_id",
    payments: bool = True,
):
    await seed_user(sessions, user_id, language="ru", now=clock.now())
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=user_id,
            session_id=getattr(seeded, session),
            quantities={"adult": 2},
            answers={"pickup": "Hotel Viru", "lunch": "veg"},
            payments_enabled=payments,
        ),
        clock.now(),
    )


async def cards(sessions) -> list[DeskCardRow]:
    async with sessions() as db:
        return list(await db.scalars(select(DeskCardRow).order_by(DeskCardRow.id)))


async def audit_actions(sessions, order_id: int) -> list[str]:
    async with sessions() as db:
        return list(
            await db.scalars(select(AuditRow.action).where(AuditRow.order_id == order_id).order_by(AuditRow.id))
        )


async def set_order(sessions, order_id: int, **values) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == order_id).values(**values, version=OrderRow.version + 1))


def group_posts(recorder: RecordingSession, since: int = 0) -> list:
    return [
        r for r in recorder.requests[since:] if r.method == "sendMessage" and r.params["chat_id"] == OPERATOR_CHAT_ID
    ]


def group_edits(recorder: RecordingSession, since: int = 0) -> list:
    return [
        r
        for r in recorder.requests[since:]
        if r.method == "editMessageText" and r.params["chat_id"] == OPERATOR_CHAT_ID
    ]


async def silent_order_card(sessions, seeded, clock, jobs, sender, recorder):
    order = await book(sessions, seeded, clock)
    await jobs.check_orders()
    assert await cards(sessions) == []  # in time: normal
    clock.advance(minutes=11)
    await jobs.check_orders()
    await sender.deliver_due()
    [card] = await cards(sessions)
    return order, card


async def test_a_silent_organiser_raises_one_card_with_the_fitting_buttons(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    [post] = group_posts(recorder)
    text = post.params["text"]
    assert format_order_code(order.code) in text and "Organiser silent" in text
    assert "Islands cruise" in text and "Baltic Boats" in text and "Call the organiser" in text
    assert card.message_id is not None and card.kinds == ["organiser_silent"]
    assert operator_chat.buttons(card.message_id) == [
        "✅ Confirm",
        "❌ Decline",
        "✍️ Write to the organiser",
        "✍️ Write to the tourist",
        "📄 Order",
        "🙋 Take",
        "✔️ Resolve",
        "💤 15 min",
        "💤 1 hour",
        "📞 Organiser on WhatsApp",
    ]
    # the job runs again and again: still one card, no second message
    clock.advance(minutes=1)
    for _ in range(3):
        await jobs.check_orders()
    assert await sender.deliver_due() == 0
    assert len(await cards(sessions)) == 1 and len(group_posts(recorder)) == 1


async def test_confirm_from_the_card_acts_audits_and_resolves_the_card_in_place(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    mark = len(recorder.requests)
    await operator_chat.press("✅ Confirm", message_id=card.message_id)
    [alert] = operator_chat.alerts()
    assert "confirmed for the organiser" in alert.text
    async with sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.booking, row.payment) == ("confirmed", "on_site")  # no payment provider in these tests
    await jobs.check_orders()
    await sender.deliver_due()
    assert group_posts(recorder, mark) == []  # never a second card
    final = group_edits(recorder, mark)[-1]
    assert final.params["message_id"] == card.message_id
    assert "Resolved: Olga — confirmed for the organiser" in final.params["text"]
    assert operator_chat.keyboard(card.message_id) == []
    [closed] = await cards(sessions)
    assert closed.status == "resolved" and closed.resolved_by == f"operator:{OPERATOR_ID}"
    actions = await audit_actions(sessions, order.id)
    assert "problem.opened" in actions and "problem.resolved" in actions
    assert any(a.startswith("order.") and "confirm" in a for a in actions)
    async with sessions() as db:
        told = list(await db.scalars(select(OutboxRow.kind).where(OutboxRow.chat_id == TOURIST)))
    assert "tourist.order_confirmed" in told


async def test_a_stranger_s_press_is_refused_and_changes_nothing(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
    stranger: Chat,
) -> None:
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    for action in (CardAction.CONFIRM, CardAction.RESOLVE, CardAction.TAKE, CardAction.DECLINE):
        await stranger.press_data(CardCb(action=action, card=card.id).pack(), message_id=card.message_id)
        [alert] = stranger.alerts()
        assert alert.show_alert and "Not allowed" in alert.text
    async with sessions() as db:
        row = await db.get(OrderRow, order.id)
        card_row = await db.get(DeskCardRow, card.id)
    assert row.booking == "awaiting_organiser" and card_row.status == "open" and card_row.taken_by is None
    assert await audit_actions(sessions, order.id) == ["order.placed", "problem.opened"]


async def test_take_snooze_and_the_reraise(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
    dp,
    bot,
) -> None:
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    await operator_chat.press("🙋 Take", message_id=card.message_id)
    await sender.deliver_due()
    assert "taken by Olga" in group_edits(recorder)[-1].params["text"]
    second = Chat(
        dp, bot, recorder, SECOND_OPERATOR_ID, first_name="Piret", chat_id=OPERATOR_CHAT_ID, chat_type="supergroup"
    )
    await second.press("💤 15 min", message_id=card.message_id)
    await sender.deliver_due()
    assert "snoozed until" in group_edits(recorder)[-1].params["text"]
    mark = len(recorder.requests)
    clock.advance(minutes=14)
    await jobs.reraise_cards()
    assert await sender.deliver_due() == 0
    clock.advance(minutes=2)
    assert len((await jobs.reraise_cards()).done) == 1
    await sender.deliver_due()
    [reraise] = group_posts(recorder, mark)
    assert "Still open" in reraise.params["text"] and f"tg://user?id={OPERATOR_ID}" in reraise.params["text"]
    assert reraise.params["reply_parameters"]["message_id"] == card.message_id
    clock.advance(hours=5)
    assert (await jobs.reraise_cards()).done == []  # once
    assert {"problem.taken", "problem.snoozed", "problem.reraised"} <= set(await audit_actions(sessions, order.id))


async def test_resolve_closes_and_the_same_problem_does_not_come_back(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    await operator_chat.press("✔️ Resolve", message_id=card.message_id)
    await sender.deliver_due()
    assert "Resolved: Olga — resolved it" in group_edits(recorder)[-1].params["text"]
    await set_order(sessions, order.id, unclear_reply="maybe tomorrow?")  # the order changes, a new kind
    await jobs.check_orders()
    await sender.deliver_due()
    first, second = await cards(sessions)
    assert first.status == "resolved" and second.status == "open" and second.kinds == ["unclear_reply"]
    assert "maybe tomorrow?" in group_posts(recorder)[-1].params["text"]
    # a press on the old, resolved card is answered with who resolved it
    await operator_chat.press_data(CardCb(action=CardAction.CONFIRM, card=first.id).pack(), message_id=first.message_id)
    [alert] = operator_chat.alerts()
    assert "already resolved by Olga" in alert.text


async def test_refund_from_the_card_asks_first(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order = await book(sessions, seeded, clock)
    await set_order(
        sessions,
        order.id,
        booking="cancelled",
        payment="refund_due",
        ticket="voided",
        paid_at=clock.now(),
        ticket_code="TKT-ACD-EFH-JKM",
    )
    await jobs.check_orders()
    await sender.deliver_due()
    [card] = await cards(sessions)
    assert card.kinds == ["refund_due"]
    await operator_chat.press("💸 Refund", message_id=card.message_id)
    assert operator_chat.keyboard(card.message_id) == [["💸 Refunded €90.00 in full", "↩️ Back"]]
    await operator_chat.press("↩️ Back", message_id=card.message_id)
    assert "💸 Refund" in operator_chat.buttons(card.message_id)
    await operator_chat.press("💸 Refund", message_id=card.message_id)
    await operator_chat.press("💸 Refunded €90.00 in full", message_id=card.message_id)
    async with sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.payment, row.refunded_minor) == ("refunded", 9000)
    await jobs.check_orders()
    await sender.deliver_due()
    [closed] = await cards(sessions)
    assert closed.status == "resolved" and closed.resolution == "refund"


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"booking": "confirmed", "payment": "awaiting", "pay_by": "past"}, ProblemKind.UNPAID),
        ({"booking": "declined", "payment": "refund_due", "paid_at": "now"}, ProblemKind.REFUND_DUE),
        ({"booking": "expired", "payment": "refund_due"}, ProblemKind.LATE_PAYMENT),
        ({"booking": "confirmed", "payment": "paid", "ticket": "none", "paid_at": "now"}, ProblemKind.PAID_NO_TICKET),
        ({"unclear_reply": "hmm?"}, ProblemKind.UNCLEAR_REPLY),
        (
            {
                "booking": "confirmed",
                "payment": "paid",
                "ticket": "issued",
                "partial_refund_minor": 900,
                "paid_at": "now",
                "ticket_code": "TKT-ACD-EFH-JKM",
            },
            ProblemKind.PARTIAL_REFUND_DUE,
        ),
        (
            {
                "booking": "confirmed",
                "payment": "paid",
                "ticket": "issued",
                "stray_minor": 9000,
                "paid_at": "now",
                "ticket_code": "TKT-ACD-EFH-JKM",
            },
            ProblemKind.LATE_PAYMENT,
        ),
        ({"undelivered": "tourist.ticket"}, ProblemKind.UNDELIVERED),
        ({"booking": "declined", "ticket": "issued"}, ProblemKind.INCONSISTENT),
    ],
)
async def test_each_problem_kind_raises_exactly_one_card(
    values: dict,
    kind: ProblemKind,
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order = await book(sessions, seeded, clock)
    await jobs.check_orders()
    moments = {"past": clock.now() - timedelta(minutes=1), "now": clock.now()}
    await set_order(
        sessions, order.id, **{k: moments.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    )
    for _ in range(2):
        await jobs.check_orders()
        await sender.deliver_due()
    [card] = await cards(sessions)
    assert card.kinds == [kind.value]
    [post] = group_posts(recorder)
    assert KIND_TITLES[kind] in post.params["text"] and format_order_code(order.code) in post.params["text"]
    assert {"🙋 Take", "✔️ Resolve", "💤 15 min", "💤 1 hour"} <= set(operator_chat.buttons(card.message_id))


async def test_a_cancelled_session_with_orders_on_it(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    order = await book(sessions, seeded, clock)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(status="cancelled"))
    await set_order(sessions, order.id)  # the desk looks again when the order (or its deadline) changes
    await jobs.check_orders()
    await sender.deliver_due()
    [card] = await cards(sessions)
    assert card.kinds == ["session_cancelled"]
    assert operator_chat.buttons(card.message_id)[0] == "🚫 Cancel the order"


async def test_a_burst_of_100_problems_stays_within_the_group_limit(
    sessions,
    seeded,
    clock,
    jobs,
    bot,
    dp,
    recorder,
    operator_chat: Chat,
) -> None:
    sender = OutboxSender(bot, sessions, dp["i18n"], clock)  # the production limits: 20 a minute for a group
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).values(capacity=1000, seats_left=1000))
    orders = [await book(sessions, seeded, clock, user_id=9000 + i) for i in range(100)]
    clock.advance(minutes=11)
    await jobs.check_orders()
    for _ in range(7):  # a minute and more: the digest goes out when its minute is over
        await sender.drain(budget=1)
        clock.advance(seconds=10)
    opened = await cards(sessions)
    assert len(opened) == 100 and all(c.status == "open" for c in opened)
    posts = group_posts(recorder)
    assert len(posts) <= 20
    singles = [p for p in posts if "Organiser silent" in p.params["text"] and "too many" not in p.params["text"]]
    digests = [p for p in posts if "too many to post one by one" in p.params["text"]]
    assert len(singles) == 10 and len(digests) == 1
    assert "90 more problems" in digests[0].params["text"]
    assert sum(format_order_code(o.code) in digests[0].params["text"] for o in orders) == 30  # the first 30 listed
    # an operator opens one of them from the digest: it gets its own card
    digested = next(c for c in opened if c.digest_id is not None)
    mark = len(recorder.requests)
    await operator_chat.press_data(
        CardCb(action=CardAction.SHOW, card=digested.id).pack(), message_id=digests[0].result.message_id
    )
    clock.advance(minutes=1)
    await sender.drain(budget=1)
    [own] = group_posts(recorder, mark)
    assert "Organiser silent" in own.params["text"]


async def test_a_message_that_cannot_be_delivered_becomes_a_problem(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    from tests.telegram.recorder import forbidden

    order = await book(sessions, seeded, clock)
    recorder.fail_next("sendMessage", forbidden())  # the organiser blocked the bot: the booking request bounces
    await sender.deliver_due()
    await jobs.check_orders()
    await sender.deliver_due()
    [card] = await cards(sessions)
    assert card.kinds == ["undelivered"]
    text = group_posts(recorder)[-1].params["text"]
    assert "A message to the organiser could not be delivered." in text and format_order_code(order.code) in text
    await operator_chat.press("✔️ Resolve", message_id=card.message_id)
    async with sessions() as db:
        assert (await db.get(OrderRow, order.id)).undelivered is None


async def test_problems_lists_filters_and_pages(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
    stranger: Chat,
) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).values(capacity=100, seats_left=100))
    orders = [await book(sessions, seeded, clock, user_id=9000 + i) for i in range(12)]
    await set_order(sessions, orders[0].id, booking="declined", payment="refund_due", paid_at=clock.now())
    clock.advance(minutes=11)
    await jobs.check_orders()
    await sender.deliver_due()

    await operator_chat.send("/problems")
    text = operator_chat.last_text()
    assert "12 open problems" in text and "newest first" in text and "Page 1 of 2" in text
    assert text.index(format_order_code(orders[11].code)) < text.index(format_order_code(orders[2].code))
    assert "Refund due" in operator_chat.buttons() and "➡️" in operator_chat.buttons()
    await operator_chat.press("➡️")
    assert "Page 2 of 2" in operator_chat.last_text()
    await operator_chat.press("Refund due")
    text = operator_chat.last_text()
    assert "1 open problem" in text and format_order_code(orders[0].code) in text
    await operator_chat.send("/problems oldest organiser_silent")
    text = operator_chat.last_text()
    assert "11 open problems" in text and "oldest first" in text
    assert text.index(format_order_code(orders[1].code)) < text.index(format_order_code(orders[5].code))
    await operator_chat.send("/problems everything please")
    assert "Usage: /problems" in operator_chat.last_text()

    mark = len(recorder.requests)
    await stranger.send("/problems")  # not an operator: silence in a busy group, nothing listed
    assert [r for r in recorder.requests[mark:] if r.method == "sendMessage"] == []


async def test_in_a_forum_cards_go_to_the_problems_topic(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
) -> None:
    info = recorder.example("ChatFullInfo")
    info.update(id=OPERATOR_CHAT_ID, type="supergroup", title="Tripdesk operators", is_forum=True)
    recorder.stub("getChat", info)
    recorder.stub("createForumTopic", {"message_thread_id": 77, "name": "Problems", "icon_color": 7322096})
    _order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    [created] = recorder.calls("createForumTopic")
    assert created.params["name"] == "Problems"
    [post] = group_posts(recorder)
    assert post.params["message_thread_id"] == 77 and card.thread_id == 77
    # a second card goes to the same topic without creating another
    second = await book(sessions, seeded, clock, user_id=TOURIST + 1)
    clock.advance(minutes=11)
    await jobs.check_orders()
    await sender.deliver_due()
    assert len(recorder.calls("createForumTopic")) == 1
    assert group_posts(recorder)[-1].params["message_thread_id"] == 77
    assert format_order_code(second.code) in group_posts(recorder)[-1].params["text"]


async def test_an_unanswered_question_becomes_a_card_and_the_answer_closes_it(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
    chat: Chat,
) -> None:
    await chat.send("/question")
    await chat.send("Is there a toilet on the boat?")
    await sender.deliver_due()
    [relay] = [r for r in group_posts(recorder) if "toilet" in r.params["text"]]
    clock.advance(minutes=14)
    await jobs.check_questions()
    assert await cards(sessions) == []  # still within QUESTION_ANSWER_WITHIN
    clock.advance(minutes=2)
    await jobs.check_questions()
    await sender.deliver_due()
    [card] = await cards(sessions)
    assert card.kinds == ["question_unanswered"] and card.user_id == chat.user_id
    text = group_posts(recorder)[-1].params["text"]
    assert "Question waiting for an answer" in text and "Anna" in text
    assert "✍️ Write to the tourist" in operator_chat.buttons(card.message_id)
    await operator_chat.send("Yes, at the back.", reply_to=relay.result.message_id)
    await sender.deliver_due()
    assert "Yes, at the back." in chat.last_text()
    await jobs.check_questions()
    await sender.deliver_due()
    [closed] = await cards(sessions)
    assert closed.status == "resolved"
    assert "Resolved — the question was answered" in group_edits(recorder)[-1].params["text"]
    assert operator_chat.keyboard(card.message_id) == []


async def test_help_and_the_group_s_command_menu(operator_chat: Chat, stranger: Chat, recorder) -> None:
    menus = [r for r in recorder.calls("setMyCommands") if r.params["scope"]["type"] == "chat"]
    [menu] = menus
    assert menu.params["scope"]["chat_id"] == OPERATOR_CHAT_ID
    assert [c["command"] for c in menu.params["commands"]][:3] == ["problems", "order", "audit"]
    await operator_chat.send("/help")
    text = operator_chat.last_text()
    assert "The operator desk" in text and "/find — Find a tourist" in text and "/order — An order's card" in text
    mark = len(recorder.requests)
    await stranger.send("/help")
    assert [r for r in recorder.requests[mark:] if r.method == "sendMessage"] == []


async def test_write_to_the_tourist_and_open_the_order_from_a_card(
    sessions,
    seeded,
    clock,
    jobs,
    sender,
    recorder,
    operator_chat: Chat,
    dp,
    bot,
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="ru", first_name="Ivan")
    order, card = await silent_order_card(sessions, seeded, clock, jobs, sender, recorder)
    await operator_chat.press("✍️ Write to the tourist", message_id=card.message_id)
    assert "Your next message here goes to the tourist" in operator_chat.last_text()
    await operator_chat.send("The organiser is on the water, we will confirm within the hour.")
    await sender.deliver_due()
    assert "we will confirm within the hour" in tourist.last_text()
    assert "operator.wrote" in await audit_actions(sessions, order.id)

    await operator_chat.press("📄 Order", message_id=card.message_id)
    text = operator_chat.last_text()
    assert format_order_code(order.code) in text and "Islands cruise" in text  # the full /order card
