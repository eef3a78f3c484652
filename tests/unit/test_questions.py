"""Asking the operators a question: one outbox row and one audit entry in one transaction, or a clear refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidQuestion, NoOperators, NotFound
from domain.model.messages import OutboxKind
from domain.model.questions import QUESTION_MAX_LENGTH
from domain.use_cases.questions import ask_question, clean_question
from tests.fakes import FakeUnitOfWork, add_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OPERATORS = -100123
USER = 4242


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    add_user(uow.state, USER, language="de")
    return uow


async def test_question_goes_to_the_operator_chat_with_the_askers_language(uow: FakeUnitOfWork) -> None:
    number = await ask_question(uow, USER, "  Is there a toilet on board?\nThanks  ", NOW, operator_chat_id=OPERATORS)

    [message] = uow.state.outbox
    assert message.kind is OutboxKind.TOURIST_QUESTION
    assert message.chat_id == OPERATORS
    [thread] = uow.state.question_threads.values()
    assert message.payload == {
        "user_id": USER,
        "text": "Is there a toilet on board?\nThanks",
        "language": "de",
        "thread": thread.id,
    }
    assert (thread.user_id, thread.asked_at, thread.desk_check_at) == (USER, NOW, NOW + timedelta(minutes=15))
    assert message.due_at == NOW
    assert message.dedup_key == f"question:{USER}:{number}"
    assert number == int(NOW.timestamp() * 1000)
    [entry] = uow.state.audit
    assert entry.action == "question.asked"
    assert entry.at == NOW
    assert "text" not in entry.after  # the audit log outlives data deletion: no content in it
    assert uow.commits == 1


async def test_two_questions_are_two_messages(uow: FakeUnitOfWork) -> None:
    await ask_question(uow, USER, "First", NOW, operator_chat_id=OPERATORS)
    await ask_question(uow, USER, "Second", NOW + timedelta(seconds=1), operator_chat_id=OPERATORS)
    assert [m.payload["text"] for m in uow.state.outbox] == ["First", "Second"]


async def test_no_operator_chat_refuses_and_writes_nothing(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NoOperators):
        await ask_question(uow, USER, "Hello?", NOW, operator_chat_id=None)
    assert uow.state.outbox == [] and uow.state.audit == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
async def test_empty_question_is_refused(uow: FakeUnitOfWork, text: str) -> None:
    with pytest.raises(InvalidQuestion) as error:
        await ask_question(uow, USER, text, NOW, operator_chat_id=OPERATORS)
    assert error.value.data == {"reason": "empty"}
    assert uow.state.outbox == []


async def test_too_long_question_is_refused_with_the_limit(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidQuestion) as error:
        await ask_question(uow, USER, "x" * (QUESTION_MAX_LENGTH + 1), NOW, operator_chat_id=OPERATORS)
    assert error.value.data == {"reason": "too_long", "limit": QUESTION_MAX_LENGTH, "length": QUESTION_MAX_LENGTH + 1}
    assert uow.state.outbox == []


def test_the_limit_itself_is_accepted() -> None:
    assert clean_question(" " + "x" * QUESTION_MAX_LENGTH + " ") == "x" * QUESTION_MAX_LENGTH


async def test_unknown_user_is_not_found_and_nothing_is_kept(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound):
        await ask_question(uow, USER + 1, "Hello?", NOW, operator_chat_id=OPERATORS)
    assert uow.state.outbox == [] and uow.state.audit == []
