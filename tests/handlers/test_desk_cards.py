"""Problem cards in the operator group: each problem raises exactly one card, edited in place as the order changes;
its buttons act (audited), strangers are refused, a flood becomes a digest, a forgotten card is raised once more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.outbox import OutboxSender
from bot.storage.tables import AuditRow, DeskCardRow, OrderRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, format_order_code
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
def jobs(sessions, clock, settings) -> DeskJobs:
    return DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk)


@dataclass
class Desk:
    """The problem cards' world: the database, the clock, the desk's jobs, the outbox sender and what the bot sent;
    with the steps and looks these tests take again and again."""

    sessions: async_sessionmaker
    seeded: Seeded
    clock: Any
    jobs: DeskJobs
    sender: OutboxSender
    recorder: RecordingSession

    async def book(self, user_id: int = TOURIST, session: str = "session_id", payments: bool = True) -> Order:
        await seed_user(self.sessions, user_id, language="ru", now=self.clock.now())
        return await place_order(
            SqlUnitOfWork(self.sessions),
            PlaceOrder(
                user_id=user_id,
                session_id=getattr(self.seeded, session),
                quantities={"adult": 2},
                answers={"pickup": "Hotel Viru", "lunch": "veg"},
                payments_enabled=payments,
            ),
            self.clock.now(),
        )

    async def check_orders(self) -> None:
        """The desk looks at the orders, and what it raised is delivered."""
        await self.jobs.check_orders()
        await self.sender.deliver_due()

    async def cards(self) -> list[DeskCardRow]:
        async with self.sessions() as db:
            return list(await db.scalars(select(DeskCardRow).order_by(DeskCardRow.id)))

    async def audit_actions(self, order_id: int) -> list[str]:
        async with self.sessions() as db:
            return list(
                await db.scalars(select(AuditRow.action).where(AuditRow.order_id == order_id).order_by(AuditRow.id))
            )

    async def set_order(self, order_id: int, **values: Any) -> None:
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(OrderRow).where(OrderRow.id == order_id).values(**values, version=OrderRow.version + 1)
            )

    def posts(self, since: int = 0) -> list:
        """The messages sent to the operator group since request number ``since``."""
        return self._group_requests("sendMessage", since)

    def edits(self, since: int = 0) -> list:
        """The operator group's messages edited since request number ``since``."""
        return self._group_requests("editMessageText", since)

    def _group_requests(self, method: str, since: int) -> list:
        requests = self.recorder.requests[since:]
        return [r for r in requests if r.method == method and r.params["chat_id"] == OPERATOR_CHAT_ID]

    async def silent_order_card(self) -> tuple[Order, DeskCardRow]:
        """An order whose organiser stays silent past the deadline: its one card."""
        order = await self.book()
        await self.jobs.check_orders()
        assert await self.cards() == []  # in time: normal
        self.clock.advance(minutes=11)
        await self.check_orders()
        [card] = await self.cards()
        return order, card


@pytest.fixture
def desk(sessions, seeded: Seeded, clock, jobs: DeskJobs, sender: OutboxSender, recorder: RecordingSession) -> Desk:
    return Desk(sessions, seeded, clock, jobs, sender, recorder)


async def test_a_silent_organiser_raises_one_card_with_the_fitting_buttons(desk: Desk, operator_chat: Chat) -> None:
    order, card = await desk.silent_order_card()
    [post] = desk.posts()
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
    desk.clock.advance(minutes=1)
    for _ in range(3):
        await desk.jobs.check_orders()
    assert await desk.sender.deliver_due() == 0
    assert len(await desk.cards()) == 1 and len(desk.posts()) == 1


async def test_confirm_from_the_card_acts_audits_and_resolves_the_card_in_place(
    desk: Desk, operator_chat: Chat
) -> None:
    order, card = await desk.silent_order_card()
    mark = len(desk.recorder.requests)
    await operator_chat.press("✅ Confirm", message_id=card.message_id)
    [alert] = operator_chat.alerts()
    assert "confirmed for the organiser" in alert.text
    async with desk.sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.booking, row.payment) == ("confirmed", "on_site")  # no payment provider in these tests
    await desk.check_orders()
    assert desk.posts(mark) == []  # never a second card
    final = desk.edits(mark)[-1]
    assert final.params["message_id"] == card.message_id
    assert "Olga confirmed for the organiser within a minute." in final.params["text"]
    assert operator_chat.keyboard(card.message_id) == []
    [closed] = await desk.cards()
    assert closed.status == "resolved" and closed.resolved_by == f"operator:{OPERATOR_ID}"
    actions = await desk.audit_actions(order.id)
    assert "problem.opened" in actions and "problem.resolved" in actions
    assert any(a.startswith("order.") and "confirm" in a for a in actions)
    async with desk.sessions() as db:
        told = list(await db.scalars(select(OutboxRow.kind).where(OutboxRow.chat_id == TOURIST)))
    assert "tourist.order_confirmed" in told


async def test_a_stranger_s_press_is_refused_and_changes_nothing(
    desk: Desk, operator_chat: Chat, stranger: Chat
) -> None:
    order, card = await desk.silent_order_card()
    for action in (CardAction.CONFIRM, CardAction.RESOLVE, CardAction.TAKE, CardAction.DECLINE):
        await stranger.press_data(CardCb(action=action, card=card.id).pack(), message_id=card.message_id)
        [alert] = stranger.alerts()
        assert alert.show_alert and "Not allowed" in alert.text
    async with desk.sessions() as db:
        row = await db.get(OrderRow, order.id)
        card_row = await db.get(DeskCardRow, card.id)
    assert row.booking == "awaiting_organiser" and card_row.status == "open" and card_row.taken_by is None
    assert await desk.audit_actions(order.id) == ["order.placed", "problem.opened"]


async def test_take_snooze_and_the_reraise(desk: Desk, operator_chat: Chat, dp, bot) -> None:
    order, card = await desk.silent_order_card()
    await operator_chat.press("🙋 Take", message_id=card.message_id)
    await desk.sender.deliver_due()
    assert "taken by Olga" in desk.edits()[-1].params["text"]
    second = Chat(
        dp, bot, desk.recorder, SECOND_OPERATOR_ID, first_name="Piret", chat_id=OPERATOR_CHAT_ID, chat_type="supergroup"
    )
    await second.press("💤 15 min", message_id=card.message_id)
    await desk.sender.deliver_due()
    assert "snoozed until" in desk.edits()[-1].params["text"]
    mark = len(desk.recorder.requests)
    desk.clock.advance(minutes=14)
    await desk.jobs.reraise_cards()
    assert await desk.sender.deliver_due() == 0
    desk.clock.advance(minutes=2)
    assert len((await desk.jobs.reraise_cards()).done) == 1
    await desk.sender.deliver_due()
    [reraise] = desk.posts(mark)
    assert "Still open" in reraise.params["text"] and f"tg://user?id={OPERATOR_ID}" in reraise.params["text"]
    assert reraise.params["reply_parameters"]["message_id"] == card.message_id
    desk.clock.advance(hours=5)
    assert (await desk.jobs.reraise_cards()).done == []  # once
    assert {"problem.taken", "problem.snoozed", "problem.reraised"} <= set(await desk.audit_actions(order.id))


async def test_resolve_closes_and_the_same_problem_does_not_come_back(desk: Desk, operator_chat: Chat) -> None:
    order, card = await desk.silent_order_card()
    await operator_chat.press("✔️ Resolve", message_id=card.message_id)
    await desk.sender.deliver_due()
    assert "Olga resolved it within a minute." in desk.edits()[-1].params["text"]
    await desk.set_order(order.id, unclear_reply="maybe tomorrow?")  # the order changes, a new kind
    await desk.check_orders()
    first, second = await desk.cards()
    assert first.status == "resolved" and second.status == "open" and second.kinds == ["unclear_reply"]
    assert "maybe tomorrow?" in desk.posts()[-1].params["text"]
    # a press on the old, resolved card is answered with who resolved it
    await operator_chat.press_data(CardCb(action=CardAction.CONFIRM, card=first.id).pack(), message_id=first.message_id)
    [alert] = operator_chat.alerts()
    assert "already resolved by Olga" in alert.text


async def test_refund_from_the_card_asks_first(desk: Desk, operator_chat: Chat) -> None:
    order = await desk.book()
    await desk.set_order(
        order.id,
        booking="cancelled",
        payment="refund_due",
        ticket="voided",
        paid_at=desk.clock.now(),
        ticket_code="TKT-ACD-EFH-JKM",
    )
    await desk.check_orders()
    [card] = await desk.cards()
    assert card.kinds == ["refund_due"]
    await operator_chat.press("💸 Refund", message_id=card.message_id)
    assert operator_chat.keyboard(card.message_id) == [["💸 Refunded €90.00 in full", "↩️ Back"]]
    await operator_chat.press("↩️ Back", message_id=card.message_id)
    assert "💸 Refund" in operator_chat.buttons(card.message_id)
    await operator_chat.press("💸 Refund", message_id=card.message_id)
    await operator_chat.press("💸 Refunded €90.00 in full", message_id=card.message_id)
    async with desk.sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.payment, row.refunded_minor) == ("refunded", 9000)
    await desk.check_orders()
    [closed] = await desk.cards()
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
    values: dict, kind: ProblemKind, desk: Desk, operator_chat: Chat
) -> None:
    order = await desk.book()
    await desk.jobs.check_orders()
    moments = {"past": desk.clock.now() - timedelta(minutes=1), "now": desk.clock.now()}
    await desk.set_order(order.id, **{k: moments.get(v, v) if isinstance(v, str) else v for k, v in values.items()})
    for _ in range(2):
        await desk.check_orders()
    [card] = await desk.cards()
    assert card.kinds == [kind.value]
    [post] = desk.posts()
    assert KIND_TITLES[kind] in post.params["text"] and format_order_code(order.code) in post.params["text"]
    assert {"🙋 Take", "✔️ Resolve", "💤 15 min", "💤 1 hour"} <= set(operator_chat.buttons(card.message_id))


async def test_a_cancelled_session_with_orders_on_it(desk: Desk, operator_chat: Chat) -> None:
    order = await desk.book()
    async with desk.sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == desk.seeded.session_id).values(status="cancelled"))
    await desk.set_order(order.id)  # the desk looks again when the order (or its deadline) changes
    await desk.check_orders()
    [card] = await desk.cards()
    assert card.kinds == ["session_cancelled"]
    assert operator_chat.buttons(card.message_id)[0] == "🚫 Cancel the order"


async def test_a_burst_of_100_problems_stays_within_the_group_limit(desk: Desk, bot, dp, operator_chat: Chat) -> None:
    limited = OutboxSender(bot, desk.sessions, dp["i18n"], desk.clock)  # the production limits: 20 a minute for a group
    async with desk.sessions() as db, db.begin():
        await db.execute(update(SessionRow).values(capacity=1000, seats_left=1000))
    orders = [await desk.book(user_id=9000 + i) for i in range(100)]
    desk.clock.advance(minutes=11)
    await desk.jobs.check_orders()
    for _ in range(7):  # a minute and more: the digest goes out when its minute is over
        await limited.drain(budget=60)  # stops when nothing more is due; the fake clock paces the group
        desk.clock.advance(seconds=10)
    opened = await desk.cards()
    assert len(opened) == 100 and all(c.status == "open" for c in opened)
    posts = desk.posts()
    assert len(posts) <= 20
    singles = [p for p in posts if "Organiser silent" in p.params["text"] and "too many" not in p.params["text"]]
    digests = [p for p in posts if "too many to post one by one" in p.params["text"]]
    assert len(singles) == 10 and len(digests) == 1
    assert "90 more problems" in digests[0].params["text"]
    assert sum(format_order_code(o.code) in digests[0].params["text"] for o in orders) == 30  # the first 30 listed
    # an operator opens one of them from the digest: it gets its own card
    digested = next(c for c in opened if c.digest_id is not None)
    mark = len(desk.recorder.requests)
    await operator_chat.press_data(
        CardCb(action=CardAction.SHOW, card=digested.id).pack(), message_id=digests[0].result.message_id
    )
    for _ in range(6):  # the organiser's 100 requests (1 a second to their chat) are due too: drain as time passes
        desk.clock.advance(seconds=20)
        await limited.drain(budget=60)  # stops when nothing more is due; the fake clock paces the group
        if desk.posts(mark):
            break
    [own] = desk.posts(mark)
    assert "Organiser silent" in own.params["text"]


async def test_a_message_that_cannot_be_delivered_becomes_a_problem(desk: Desk, operator_chat: Chat) -> None:
    from tests.telegram.recorder import forbidden

    order = await desk.book()
    desk.recorder.fail_next("sendMessage", forbidden())  # the organiser blocked the bot: the booking request bounces
    await desk.sender.deliver_due()
    await desk.check_orders()
    [card] = await desk.cards()
    assert card.kinds == ["undelivered"]
    text = desk.posts()[-1].params["text"]
    assert "A message to the organiser could not be delivered." in text and format_order_code(order.code) in text
    await operator_chat.press("✔️ Resolve", message_id=card.message_id)
    async with desk.sessions() as db:
        assert (await db.get(OrderRow, order.id)).undelivered is None


async def test_problems_lists_filters_and_pages(desk: Desk, operator_chat: Chat, stranger: Chat) -> None:
    async with desk.sessions() as db, db.begin():
        await db.execute(update(SessionRow).values(capacity=100, seats_left=100))
    orders = [await desk.book(user_id=9000 + i) for i in range(12)]
    await desk.set_order(orders[0].id, booking="declined", payment="refund_due", paid_at=desk.clock.now())
    desk.clock.advance(minutes=11)
    await desk.check_orders()

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

    mark = len(desk.recorder.requests)
    await stranger.send("/problems")  # not an operator: silence in a busy group, nothing listed
    assert [r for r in desk.recorder.requests[mark:] if r.method == "sendMessage"] == []


async def test_in_a_forum_cards_go_to_the_problems_topic(desk: Desk, operator_chat: Chat) -> None:
    info = desk.recorder.example("ChatFullInfo")
    info.update(id=OPERATOR_CHAT_ID, type="supergroup", title="Tripdesk operators", is_forum=True)
    desk.recorder.stub("getChat", info)
    desk.recorder.stub("createForumTopic", {"message_thread_id": 77, "name": "Problems", "icon_color": 7322096})
    _order, card = await desk.silent_order_card()
    [created] = desk.recorder.calls("createForumTopic")
    assert created.params["name"] == "Problems"
    [post] = desk.posts()
    assert post.params["message_thread_id"] == 77 and card.thread_id == 77
    # a second card goes to the same topic without creating another
    second = await desk.book(user_id=TOURIST + 1)
    desk.clock.advance(minutes=11)
    await desk.check_orders()
    assert len(desk.recorder.calls("createForumTopic")) == 1
    assert desk.posts()[-1].params["message_thread_id"] == 77
    assert format_order_code(second.code) in desk.posts()[-1].params["text"]


async def test_an_unanswered_question_becomes_a_card_and_the_answer_closes_it(
    desk: Desk, operator_chat: Chat, chat: Chat
) -> None:
    await chat.send("/question")
    await chat.send("Is there a toilet on the boat?")
    await desk.sender.deliver_due()
    [relay] = [r for r in desk.posts() if "toilet" in r.params["text"]]
    desk.clock.advance(minutes=14)
    await desk.jobs.check_questions()
    assert await desk.cards() == []  # still within QUESTION_ANSWER_WITHIN
    desk.clock.advance(minutes=2)
    await desk.jobs.check_questions()
    await desk.sender.deliver_due()
    [card] = await desk.cards()
    assert card.kinds == ["question_unanswered"] and card.user_id == chat.user_id
    text = desk.posts()[-1].params["text"]
    assert "Question waiting for an answer" in text and "Anna" in text
    assert "✍️ Write to the tourist" in operator_chat.buttons(card.message_id)
    await operator_chat.send("Yes, at the back.", reply_to=relay.result.message_id)
    await desk.sender.deliver_due()
    assert "Yes, at the back." in chat.last_text()
    await desk.jobs.check_questions()
    await desk.sender.deliver_due()
    [closed] = await desk.cards()
    assert closed.status == "resolved"
    assert "Resolved within a minute: the question was answered." in desk.edits()[-1].params["text"]
    assert operator_chat.keyboard(card.message_id) == []


async def test_the_question_card_shows_the_question_and_when_it_was_asked(desk: Desk, chat: Chat) -> None:
    question = "Is <lunch> included? " + "Tell me more. " * 60
    await chat.send("/question")
    await chat.send(question)
    asked = desk.clock.now()
    desk.clock.advance(minutes=16)  # past QUESTION_ANSWER_WITHIN
    await desk.jobs.check_questions()
    await desk.sender.deliver_due()
    text = desk.posts()[-1].params["text"]
    assert "Question waiting for an answer" in text
    assert "Is &lt;lunch&gt; included? Tell me more." in text  # quoted: the tags show as typed
    assert question.strip() not in text and "…" in text  # a long question is cut
    [when] = [line for line in text.split("\n") if line.startswith("Asked at ")]
    assert asked.astimezone(ZoneInfo("Europe/Tallinn")).strftime("%H:%M") in when and when.endswith("(Tallinn)")


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


async def test_write_to_the_tourist_and_open_the_order_from_a_card(desk: Desk, operator_chat: Chat, dp, bot) -> None:
    tourist = Chat(dp, bot, desk.recorder, TOURIST, language_code="ru", first_name="Ivan")
    order, card = await desk.silent_order_card()
    await operator_chat.press("✍️ Write to the tourist", message_id=card.message_id)
    assert "Your next message here goes to the tourist" in operator_chat.last_text()
    await operator_chat.send("The organiser is on the water, we will confirm within the hour.")
    await desk.sender.deliver_due()
    assert "we will confirm within the hour" in tourist.last_text()
    assert "operator.wrote" in await desk.audit_actions(order.id)

    await operator_chat.press("📄 Order", message_id=card.message_id)
    text = operator_chat.last_text()
    assert format_order_code(order.code) in text and "Islands cruise" in text  # the full /order card
