"""The desk as operators read it (issue 10): one labelled time zone, cards that say who has them, sentences that
read as sentences."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.storage.tables import DeskCardRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import format_order_code
from domain.use_cases import order_changes as oc
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, SECOND_OPERATOR_ID
from tests.handlers.test_desk_cards import Desk, desk, jobs  # noqa: F401  (the problem cards' world)
from tests.seed import seed_user


def second_operator(desk: Desk, dp, bot) -> Chat:
    return Chat(
        dp, bot, desk.recorder, SECOND_OPERATOR_ID, first_name="Piret", chat_id=OPERATOR_CHAT_ID, chat_type="supergroup"
    )


async def test_every_time_on_a_card_and_the_snooze_answer_is_in_the_desk_zone_and_says_which(
    desk: Desk, operator_chat: Chat
) -> None:
    _order, card = await desk.silent_order_card()  # opened at 09:11 UTC, 11:11 in Tallinn
    [post] = desk.posts()
    assert "open since 11:11 (Tallinn)" in post.params["text"]
    assert "(Tallinn)" in post.params["text"].split("\n")[1]  # the session's start, too
    await operator_chat.press("💤 15 min", message_id=card.message_id)
    [alert] = operator_chat.alerts()
    assert "11:26 (Tallinn)" in alert.text and "UTC" not in alert.text
    await desk.sender.deliver_due()
    assert "snoozed until 11:26 (Tallinn)" in desk.edits()[-1].params["text"]


async def test_take_on_a_card_someone_else_has_says_who_and_asks_before_taking_over(
    desk: Desk, operator_chat: Chat, dp, bot
) -> None:
    _order, card = await desk.silent_order_card()
    await operator_chat.press("🙋 Take", message_id=card.message_id)
    await desk.sender.deliver_due()
    edited = desk.edits()[-1]
    assert "taken by Olga" in edited.params["text"]
    labels = [b["text"] for row in edited.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "🙋 Take" not in labels and "🙋 Take over" in labels  # taken: no plain Take on it
    piret = second_operator(desk, dp, bot)
    await piret.press("🙋 Take over", message_id=card.message_id)
    [alert] = piret.alerts()
    assert "Olga has taken this card" in alert.text
    async with desk.sessions() as db:
        row = await db.scalar(select(DeskCardRow).where(DeskCardRow.id == card.id))
    assert row is not None and row.taken_by == OPERATOR_ID  # not stolen silently
    await piret.press("🙋 Yes, take it over", message_id=card.message_id)
    async with desk.sessions() as db:
        row = await db.scalar(select(DeskCardRow).where(DeskCardRow.id == card.id))
    assert row is not None and row.taken_by == SECOND_OPERATOR_ID


async def test_a_resolved_card_reads_as_a_sentence(desk: Desk, operator_chat: Chat) -> None:
    _order, card = await desk.silent_order_card()
    await operator_chat.press("✔️ Resolve", message_id=card.message_id)
    await desk.sender.deliver_due()
    text = desk.edits()[-1].params["text"]
    assert "Olga resolved it within a minute." in text
    assert "0 min" not in text and "—" not in text.split("\n")[-1]


async def test_order_and_audit_history_read_in_words_with_local_labelled_times(
    operator_chat: Chat, sessions, seeded, clock
) -> None:
    from domain.use_cases.payments import record_payment
    from tests.handlers.test_desk_orders import TOURIST, book

    order = await book(sessions, seeded, clock)
    await seed_user(sessions, OPERATOR_ID, language="en", now=clock.now(), first_name="Olga")  # she wrote to the bot
    await oc.confirm_for_organiser(SqlUnitOfWork(sessions), order.id, f"operator:{OPERATOR_ID}", clock.now(), True)
    await record_payment(
        SqlUnitOfWork(sessions), order.id, TOURIST, "tg-1", "prov-1", order.total_minor, "EUR", clock.now()
    )
    for command in ("/order", "/audit"):
        await operator_chat.send(f"{command} {format_order_code(order.code)}")
        text = operator_chat.last_text()
        assert "(Tallinn)" in text and "· Olga ·" in text
        for internal in ("awaiting_organiser", "not_due", "_minor", "T09:00", "operator 4001", "['"):
            assert internal not in text, (internal, text)
        assert "booking: awaiting the organiser → confirmed" in text and "amount: €90.00" in text


async def test_problems_usage_and_the_order_card_buttons_are_words(
    operator_chat: Chat, sessions, seeded, clock
) -> None:
    from tests.handlers.test_desk_orders import book

    await operator_chat.send("/problems nonsense")
    usage = operator_chat.last_text()
    assert "organiser_silent" not in usage and "_" not in usage
    order = await book(sessions, seeded, clock)
    await operator_chat.send(f"/order {format_order_code(order.code)}")
    assert "🔄 Refresh" in operator_chat.buttons()


async def test_a_relayed_question_is_marked_answered_by_whom_and_when_and_loses_its_buttons(
    desk: Desk, operator_chat: Chat, chat: Chat
) -> None:
    await chat.send("/question")
    await chat.send("Is there a toilet on the boat?")
    await desk.sender.deliver_due()
    [relay] = [r for r in desk.posts() if "toilet" in r.params["text"]]
    question_id = relay.result.message_id
    assert operator_chat.keyboard(question_id) != []
    desk.clock.advance(minutes=3)  # 09:03 UTC, 11:03 in Tallinn
    await operator_chat.send("Yes, at the back.", reply_to=question_id)
    [edited] = [e for e in desk.edits() if e.params["message_id"] == question_id]
    assert "toilet" in edited.params["text"]
    assert "Answered by Olga at 11:03 (Tallinn)" in edited.params["text"]
    assert operator_chat.keyboard(question_id) == []


async def test_the_answered_button_marks_the_question_too(desk: Desk, operator_chat: Chat, chat: Chat) -> None:
    await chat.send("/question")
    await chat.send("Can I bring my dog?")
    await desk.sender.deliver_due()
    [relay] = [r for r in desk.posts() if "dog" in r.params["text"]]
    await operator_chat.press("✅ Answered", message_id=relay.result.message_id)
    [edited] = [e for e in desk.edits() if e.params["message_id"] == relay.result.message_id]
    assert "Answered by Olga at 11:00 (Tallinn)" in edited.params["text"] and "dog" in edited.params["text"]
    assert operator_chat.keyboard(relay.result.message_id) == []


async def test_masking_is_one_rule_everywhere(
    desk: Desk, operator_chat: Chat, chat: Chat, sessions, seeded, clock
) -> None:
    """Tourists' phones are masked on every desk screen (until Reveal); organisers' phones, business contacts, are
    shown in full on every desk screen; a username searched for is shown as searched; a guest sees their own phone."""
    from tests.seed import ORGANISER_PHONE

    await seed_user(sessions, 5002, language="en", now=clock.now(), first_name="Anna", phone="+37251234567")
    async with sessions() as db, db.begin():
        await db.execute(update(UserRow).where(UserRow.id == 5002).values(username="anna_travels"))
    order, _card = await desk.silent_order_card()
    problem_card = desk.posts()[-1].params["text"]
    await operator_chat.send(f"/order {format_order_code(order.code)}")
    order_card = operator_chat.last_text()
    for text in (problem_card, order_card):
        assert ORGANISER_PHONE in text, text
    await operator_chat.send("/find @anna_travels")
    found = operator_chat.last_text()
    assert "@anna_travels" in found and "+37251234567" not in found and "+372•" in found
    await chat.send("/start")
    await chat.send_contact("+37251234567", own=True)
    await chat.send("/profile")
    assert "+37251234567" in chat.last_text()


def test_desk_timezone_is_checked_and_reaches_the_cards() -> None:
    from bot.config import ConfigError, load_settings

    assert load_settings(bot_token=None, desk_timezone="America/New_York").desk_timezone == "America/New_York"
    assert load_settings(bot_token=None, desk_timezone=" ").desk_timezone is None  # blank: the first region's
    with pytest.raises(ConfigError, match="DESK_TIMEZONE"):
        load_settings(bot_token=None, desk_timezone="Atlantis/Capital")


async def test_a_configured_desk_timezone_is_used_on_the_card(
    desk: Desk, operator_chat: Chat, bot, sessions, dp
) -> None:
    from bot.outbox import OutboxSender
    from bot.ratelimit import Limits

    desk.sender = OutboxSender(
        bot, sessions, dp["i18n"], desk.clock, limits=Limits.unlimited(), desk_timezone="America/New_York"
    )
    await desk.silent_order_card()  # 09:11 UTC is 04:11 in New York
    assert "open since 04:11 (New York)" in desk.posts()[-1].params["text"]
