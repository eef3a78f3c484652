"""The question repository through SqlUnitOfWork, on SQLite and on PostgreSQL (the ``engine`` fixture): threads
upserted per tourist (with the latest question's text, forgotten with the tourist's data; migration 0005), the
relay map both ways, forum topics; and the question use cases on real storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.migrate import alembic_config
from bot.storage.tables import AuditRow, OutboxRow, QuestionThreadRow, RelayMessageRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import NotFound
from domain.model.questions import (
    CannedReply,
    DeskTopic,
    RelayDirection,
    RelayMessage,
    TeamMessage,
    ThreadStatus,
    WriteTarget,
)
from domain.use_cases.profile import delete_personal_data
from domain.use_cases.questions import (
    answer_question,
    ask_question,
    close_question,
    send_canned_reply,
    write_to,
)
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
DESK = -100500


@pytest.fixture
async def seeded(sessions: async_sessionmaker) -> Seeded:
    return await seed_catalog(sessions, NOW)


async def count(sessions: async_sessionmaker, column, *where) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count(column)).where(*where))


async def test_a_thread_is_one_row_per_tourist_reopened_by_each_question(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        first = await uow.questions.open_thread(TOURIST, NOW, NOW + timedelta(minutes=15))
        await uow.commit()
    assert (first.status, first.asked_at, first.desk_check_at, first.answered_by) == (
        ThreadStatus.OPEN,
        NOW,
        NOW + timedelta(minutes=15),
        None,
    )
    later = NOW + timedelta(minutes=3)
    async with uow:
        answered = await uow.questions.mark_answered(TOURIST, "operator:7", later)
        await uow.commit()
    assert (answered.status, answered.answered_by, answered.answered_at, answered.desk_check_at) == (
        ThreadStatus.ANSWERED,
        "operator:7",
        later,
        later,
    )
    again = NOW + timedelta(hours=1)
    async with uow:
        reopened = await uow.questions.open_thread(TOURIST, again, again + timedelta(minutes=15))
        await uow.commit()
    assert reopened.id == first.id
    assert (reopened.status, reopened.asked_at, reopened.answered_by, reopened.answered_at) == (
        ThreadStatus.OPEN,
        again,
        None,
        None,
    )
    assert await count(sessions, QuestionThreadRow.id) == 1
    async with uow:
        assert await uow.questions.mark_answered(TOURIST + 1, "operator:7", later) is None
        assert [t.user_id for t in await uow.questions.due_threads(again + timedelta(minutes=15), 10)] == [TOURIST]
        assert await uow.questions.due_threads(again, 10) == []


async def test_relays_are_remembered_once_per_message(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    relay = RelayMessage(DESK, 10, TOURIST, RelayDirection.TO_OPERATORS, NOW, None)
    async with uow:
        await uow.questions.add_relay(relay)
        await uow.questions.add_relay(relay)  # the same message twice (a retried delivery): one row
        await uow.questions.add_relay(RelayMessage(DESK, 11, TOURIST, RelayDirection.TO_TOURIST, NOW, None))
        await uow.commit()
    async with uow:
        assert await uow.questions.relay(DESK, 10) == relay
        assert (await uow.questions.relay(DESK, 11)).direction is RelayDirection.TO_TOURIST
        assert await uow.questions.relay(DESK, 12) is None
        assert await uow.questions.relay(DESK - 1, 10) is None
    assert await count(sessions, RelayMessageRow.id) == 2


async def test_topics_are_saved_replaced_and_forgotten(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        await uow.questions.save_topic(DeskTopic("user:42", DESK, 101, NOW))
        await uow.questions.save_topic(DeskTopic("problems", DESK, 7, NOW))
        await uow.commit()
    async with uow:
        assert (await uow.questions.topic("user:42")).thread_id == 101
        assert (await uow.questions.topic_by_thread(DESK, 7)).key == "problems"
        await uow.questions.save_topic(DeskTopic("user:42", DESK, 102, NOW + timedelta(hours=1)))  # recreated
        await uow.commit()
    async with uow:
        assert (await uow.questions.topic("user:42")).thread_id == 102
        assert await uow.questions.topic_by_thread(DESK, 101) is None
        await uow.questions.forget_topic("user:42")
        await uow.commit()
    async with uow:
        assert await uow.questions.topic("user:42") is None
        assert await uow.questions.topic("problems") is not None


async def test_ask_answer_canned_close_and_write_on_real_storage(sessions: async_sessionmaker, seeded: Seeded) -> None:
    await seed_user(sessions, TOURIST, language="ru", now=NOW, first_name="Иван")
    uow = SqlUnitOfWork(sessions)
    await ask_question(uow, TOURIST, "  Где причал?  ", NOW, operator_chat_id=DESK, answer_within=timedelta(minutes=10))
    async with uow:
        thread = await uow.questions.thread(TOURIST)
    assert thread.desk_check_at == NOW + timedelta(minutes=10)

    later = NOW + timedelta(minutes=2)
    name = await answer_question(uow, TOURIST, TeamMessage(DESK, 55, "Pier 3"), "operator:7", later)
    assert name == "Иван"
    photo = TeamMessage(DESK, 56, None)  # not text: a header and a copy
    await answer_question(uow, TOURIST, photo, "operator:7", later)
    await answer_question(uow, TOURIST, photo, "operator:7", later)  # the same update twice: no second copy
    async with sessions() as db:
        sent = [
            (r.kind, r.chat_id, r.payload)
            for r in await db.scalars(select(OutboxRow).where(OutboxRow.chat_id == TOURIST).order_by(OutboxRow.id))
        ]
    assert sent == [
        ("tourist.team_answer", TOURIST, {"user_id": TOURIST, "text": "Pier 3"}),
        ("tourist.team_answer", TOURIST, {"user_id": TOURIST}),
        ("team.copy", TOURIST, {"from_chat": DESK, "message_id": 56}),
    ]
    async with uow:
        assert (await uow.questions.relay(DESK, 55)).user_id == TOURIST

    await send_canned_reply(uow, TOURIST, CannedReply.REFUNDED, "operator:8", later, about_message=9)
    await send_canned_reply(uow, TOURIST, CannedReply.REFUNDED, "operator:8", later, about_message=9)
    assert await count(sessions, OutboxRow.id, OutboxRow.kind == "tourist.canned_reply") == 1
    assert await close_question(uow, TOURIST, "operator:8", later) is False  # answered already
    await ask_question(uow, TOURIST, "Ещё вопрос", later + timedelta(seconds=1), operator_chat_id=DESK)
    assert await close_question(uow, TOURIST, "operator:8", later) is True
    with pytest.raises(NotFound):
        await close_question(uow, TOURIST + 1, "operator:8", later)

    await write_to(
        uow,
        WriteTarget("organiser", 0, organiser_id=seeded.organiser_id),
        TeamMessage(DESK, 60, "Hi"),
        "operator:9",
        later,
    )
    async with sessions() as db:
        [row] = await db.scalars(select(OutboxRow).where(OutboxRow.kind == "team.message"))
        actions = list(await db.scalars(select(AuditRow.action).order_by(AuditRow.id)))
    assert row.chat_id == ORGANISER_CHAT_ID and row.payload["organiser_id"] == seeded.organiser_id
    assert actions == [
        "question.asked",
        "question.answered",
        "question.answered",
        "question.answered",
        "question.canned",
        "question.canned",
        "question.asked",
        "question.closed",
        "operator.wrote",
    ]
    with pytest.raises(NotFound):
        await write_to(uow, WriteTarget("tourist", 999), TeamMessage(DESK, 61, "Hi"), "operator:9", later)


async def test_the_thread_keeps_the_latest_question_until_the_tourist_s_data_is_deleted(
    engine: AsyncEngine, sessions: async_sessionmaker, seeded: Seeded
) -> None:
    await seed_user(sessions, TOURIST, language="ru", now=NOW)
    uow = SqlUnitOfWork(sessions)
    await ask_question(uow, TOURIST, "  Где причал?  ", NOW, operator_chat_id=DESK)
    await answer_question(uow, TOURIST, TeamMessage(DESK, 55, "Pier 3"), "operator:7", NOW)
    async with uow:
        assert (await uow.questions.thread(TOURIST)).last_question == "Где причал?"  # kept once answered
    await ask_question(uow, TOURIST, "А обед?", NOW + timedelta(minutes=1), operator_chat_id=DESK)
    async with uow:
        thread = await uow.questions.thread(TOURIST)
        assert (await uow.desk.question_thread(thread.id)).last_question == "А обед?"  # the latest one

    def migrate(connection: Connection, revision: str, down: bool) -> None:
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)

    async with engine.begin() as connection:  # 0005 goes down (the text with it) and up again (no text)
        await connection.run_sync(migrate, "0004", True)
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("question_threads")}
        )
        assert "last_question" not in columns and "asked_at" in columns
        await connection.run_sync(migrate, "head", False)
    async with uow:
        assert (await uow.questions.thread(TOURIST)).last_question is None
    await ask_question(uow, TOURIST, "А обед?", NOW + timedelta(minutes=2), operator_chat_id=DESK)
    await delete_personal_data(uow, TOURIST, NOW + timedelta(minutes=3))
    async with sessions() as db:
        assert list(await db.scalars(select(QuestionThreadRow.last_question))) == [None]
