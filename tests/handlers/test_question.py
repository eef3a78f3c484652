"""/question through the real Dispatcher: one message to our team, stored as an outbox row for the operator chat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.storage.tables import AuditRow, OutboxRow
from domain.questions import QUESTION_MAX_LENGTH
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import Seeded

THANKS = "✅ Thanks! Our team will answer here in this chat."


async def questions(sessions: async_sessionmaker) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).where(OutboxRow.kind == "operator.tourist_question")))


async def test_question_reaches_the_operators(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/question")
    assert "Write your question in one message" in chat.last_text()
    assert chat.buttons() == ["✖️ Cancel"]

    await chat.send("Is lunch included on the cruise?\nAnd is there a toilet?")
    assert chat.last_text() == THANKS
    assert "🗺 Events" in chat.buttons()
    [row] = await questions(sessions)
    assert row.chat_id == OPERATOR_CHAT_ID
    assert row.payload == {
        "user_id": chat.user_id,
        "text": "Is lunch included on the cruise?\nAnd is there a toilet?",
        "language": "en",
    }
    assert row.status == "pending"
    async with sessions() as db:
        actions = list(await db.scalars(select(AuditRow.action)))
    assert actions == ["question.asked"]

    await chat.send("And one more thing")  # the form is over
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
