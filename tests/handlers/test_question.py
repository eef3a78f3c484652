"""/question through the real Dispatcher: one message to our team, stored as an outbox row for the operator chat
with the tourist's question thread; and the fallback's offer to send free text to our team."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.storage.tables import AuditRow, OutboxRow, QuestionThreadRow
from domain.model.questions import QUESTION_MAX_LENGTH
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import Seeded

THANKS = "✅ Thanks! Our team will answer here in this chat."


async def questions(sessions: async_sessionmaker) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).where(OutboxRow.kind == "operator.tourist_question")))


async def threads(sessions: async_sessionmaker) -> list[QuestionThreadRow]:
    async with sessions() as db:
        return list(await db.scalars(select(QuestionThreadRow)))


async def test_question_reaches_the_operators(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/question")
    assert "Write your question in one message" in chat.last_text()
    assert chat.buttons() == ["✖️ Cancel"]

    await chat.send("Is lunch included on the cruise?\nAnd is there a toilet?")
    assert chat.last_text() == THANKS
    assert "🗺 Events" in chat.buttons()
    [row] = await questions(sessions)
    assert row.chat_id == OPERATOR_CHAT_ID
    [thread] = await threads(sessions)
    assert row.payload == {
        "user_id": chat.user_id,
        "text": "Is lunch included on the cruise?\nAnd is there a toilet?",
        "language": "en",
        "thread": thread.id,
    }
    assert (thread.user_id, thread.status, thread.asked_at, thread.desk_check_at) == (
        chat.user_id,
        "open",
        clock.now(),
        clock.now() + timedelta(minutes=15),
    )
    assert row.status == "pending"
    async with sessions() as db:
        actions = list(await db.scalars(select(AuditRow.action)))
    assert actions == ["question.asked"]

    await chat.send("And one more thing")  # the form is over: the fallback offers to send it
    assert "I didn't catch that" in chat.last_text()
    assert len(await questions(sessions)) == 1


async def test_question_from_the_main_menu(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start")
    await chat.press("Ask a question")
    assert "Write your question in one message" in chat.last_text()
    await chat.send("Can I bring a dog?")
    assert chat.last_text() == THANKS
    assert len(await questions(sessions)) == 1


async def test_too_long_question_asks_to_shorten(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    await chat.send("a" * (QUESTION_MAX_LENGTH + 1))
    assert f"That is {QUESTION_MAX_LENGTH + 1} characters — please shorten your question to 2000" in chat.last_text()
    assert await questions(sessions) == []
    await chat.send("a" * QUESTION_MAX_LENGTH)  # still in the form; the limit itself is fine
    assert chat.last_text() == THANKS
    assert len((await questions(sessions))[0].payload["text"]) == QUESTION_MAX_LENGTH


async def test_sticker_and_photo_ask_for_text(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    await chat.send_sticker()
    assert "Please write your question in words." in chat.last_text()
    await chat.send_photo(caption="what is this?")
    assert "Please write your question in words." in chat.last_text()
    assert await questions(sessions) == []
    await chat.send("Where is pier 3?")
    assert chat.last_text() == THANKS


async def test_whitespace_only_asks_again(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    await chat.send("   \n  ")
    assert "Your message is empty. Please write your question." in chat.last_text()
    await chat.send("Hello?")
    assert chat.last_text() == THANKS


async def test_cancel_button_leaves_the_form(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    await chat.press("Cancel")
    assert "What would you like to do?" in chat.last_text()
    await chat.send("never mind")
    assert "I didn't catch that" in chat.last_text()
    assert await questions(sessions) == []


async def test_commands_are_not_swallowed(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    await chat.send("/profile")
    assert "Your profile" in chat.last_text()
    await chat.send("/question")
    await chat.send("/whatever")
    assert "I don't know that command" in chat.last_text()
    await chat.send("so, a question")  # the unknown command left the form too
    assert "I didn't catch that" in chat.last_text()
    assert await questions(sessions) == []


async def test_no_operator_chat_says_so_honestly(chat: Chat, seeded: Seeded, sessions, settings: Settings) -> None:
    settings.operator_chat_id = None
    await chat.send("/question")
    assert "questions cannot be received right now" in chat.last_text()
    await chat.send("Hello?")
    assert "I didn't catch that" in chat.last_text()
    await chat.send("/start")
    await chat.press("Ask a question")
    assert "questions cannot be received right now" in chat.last_text()
    assert await questions(sessions) == []


async def test_operator_chat_gone_while_writing(chat: Chat, seeded: Seeded, sessions, settings: Settings) -> None:
    await chat.send("/question")
    settings.operator_chat_id = None  # configuration changed between the prompt and the answer
    await chat.send("Hello?")
    assert "questions cannot be received right now" in chat.last_text()
    assert await questions(sessions) == []


async def test_a_second_question_reopens_the_one_thread(
    chat: Chat, seeded: Seeded, sessions, clock, settings: Settings
) -> None:
    settings.question_answer_within = timedelta(minutes=5)
    await chat.send("/question")
    await chat.send("First?")
    clock.advance(minutes=2)
    await chat.send("/question")
    await chat.send("Second?")
    assert [r.payload["text"] for r in await questions(sessions)] == ["First?", "Second?"]
    [thread] = await threads(sessions)
    assert (thread.status, thread.asked_at, thread.desk_check_at) == (
        "open",
        clock.now(),
        clock.now() + timedelta(minutes=5),
    )


OFFER = "💬 Send this to our team"


async def test_free_text_is_offered_to_our_team(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start")
    await chat.send("Do you have <kayak> tours?")
    assert "I didn't catch that" in chat.last_text()
    assert chat.buttons()[0] == OFFER and "🗺 Events" in chat.buttons()  # the menu stays
    assert await questions(sessions) == []
    offer = chat.last_message().message_id

    await chat.press(OFFER)
    assert chat.last_text() == THANKS
    assert chat.last_message().message_id == offer  # the offer turned into the thanks
    [row] = await questions(sessions)
    assert row.payload["text"] == "Do you have <kayak> tours?" and row.chat_id == OPERATOR_CHAT_ID
    async with sessions() as db:
        assert list(await db.scalars(select(AuditRow.action))) == ["question.asked"]

    await chat.press_data("qo:1", message_id=offer)  # pressed again (a double tap): sent once
    assert "This offer has expired" in chat.alerts()[0].text
    assert len(await questions(sessions)) == 1


async def test_only_the_newest_offer_sends_and_it_sends_its_own_text(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start")
    await chat.send("first words")
    first = chat.last_message().message_id
    await chat.send("second words")
    await chat.press(OFFER, message_id=first)
    assert chat.alerts()[0].show_alert and "expired" in chat.alerts()[0].text
    assert await questions(sessions) == []
    await chat.press(OFFER)
    assert [r.payload["text"] for r in await questions(sessions)] == ["second words"]


async def test_no_offer_without_operators_or_for_a_huge_text(
    chat: Chat, seeded: Seeded, sessions, settings: Settings
) -> None:
    await chat.send("a" * (QUESTION_MAX_LENGTH + 1))
    assert OFFER not in chat.buttons()
    settings.operator_chat_id = None
    await chat.send("hello there")
    assert "I didn't catch that" in chat.last_text() and OFFER not in chat.buttons()
    await chat.press_data("qo:1")  # an old offer after the operator chat went away: nothing is accepted
    assert chat.alerts()
    assert await questions(sessions) == []


async def test_an_offer_in_the_middle_of_a_flow_keeps_the_flow(chat: Chat, seeded: Seeded, sessions) -> None:
    """Free text during the question form is the question itself, never an offer."""
    await chat.send("/question")
    await chat.send("Is there parking?")
    assert chat.last_text() == THANKS and OFFER not in chat.buttons()


async def test_a_text_too_long_for_a_question_gets_the_limit_and_a_way_forward(
    chat: Chat, seeded: Seeded, sessions
) -> None:
    """Not bounced between "use Ask a question" and "too long": the answer names both lengths, and a shorter
    version sent next is offered to our team as usual."""
    await chat.send("a" * (QUESTION_MAX_LENGTH + 500))
    answer = chat.last_text()
    assert f"{QUESTION_MAX_LENGTH + 500}" in answer and f"{QUESTION_MAX_LENGTH}" in answer
    assert "Ask a question" not in answer
    await chat.send("b" * QUESTION_MAX_LENGTH)
    await chat.press(OFFER)
    assert chat.last_text() == THANKS
    assert [r.payload["text"] for r in await questions(sessions)] == ["b" * QUESTION_MAX_LENGTH]
