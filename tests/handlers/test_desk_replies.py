"""Tourist questions through the operator group and back: relayed (forum topic or header), answered by reply,
canned replies, "Answered", and "write to the tourist / organiser". Real updates, the real sender, and every
request checked against the Bot API."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.outbox import OutboxSender
from bot.storage.tables import (
    AuditRow,
    DeskTopicRow,
    OutboxRow,
    QuestionThreadRow,
    RelayMessageRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, format_order_code
from domain.model.questions import CannedReply
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.operator.replies import CANNED, QuestionAction, QuestionCb, WriteAction, WriteCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, TOURIST_ID
from tests.seed import ORGANISER_CHAT_ID, Seeded
from tests.telegram.recorder import RecordingSession, bad_request

QUESTION = "Is lunch <included> on the cruise?"
PHOTO = [{"file_id": "photo-m", "file_unique_id": "u-photo-m", "width": 800, "height": 600}]


@pytest.fixture
def forum(recorder: RecordingSession) -> list[int]:
    """The operator group is a forum: getChat says so; createForumTopic makes topics 101, 102, ... (their ids)."""
    created: list[int] = []
    ids = itertools.count(101)

    def chat(params: dict) -> dict:
        info = recorder.example("ChatFullInfo")
        info.update(id=int(params["chat_id"]), type="supergroup", title="Tripdesk operators", is_forum=True)
        return info

    def topic(params: dict) -> dict:
        created.append(next(ids))
        return {"message_thread_id": created[-1], "name": params["name"], "icon_color": 7322096}

    recorder.stub("getChat", chat)
    recorder.stub("createForumTopic", topic)
    return created


async def ask(tourist: Chat, text: str = QUESTION) -> None:
    await tourist.send("/question")
    await tourist.send(text)
    assert tourist.last_text().startswith("✅")  # thanked, in their language


def sent(recorder: RecordingSession, chat_id: int, method: str = "sendMessage") -> list:
    return [r for r in recorder.calls(method) if r.params["chat_id"] == chat_id and r.error is None]


async def rows(sessions: async_sessionmaker, table: Any, *where: Any) -> list:
    async with sessions() as db:
        return list(await db.scalars(select(table).where(*where)))


async def thread_of(sessions: async_sessionmaker, user_id: int) -> QuestionThreadRow:
    [thread] = await rows(sessions, QuestionThreadRow, QuestionThreadRow.user_id == user_id)
    return thread


async def audit(sessions: async_sessionmaker, action: str) -> list[AuditRow]:
    return await rows(sessions, AuditRow, AuditRow.action == action)


async def anna_books(chat: Chat, sessions: async_sessionmaker, seeded: Seeded, clock: Any) -> Order:
    """Anna (the ``chat`` tourist) starts the bot and books one adult on the seeded cruise."""
    await chat.send("/start")
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST_ID,
            session_id=seeded.session_id,
            quantities={"adult": 1},
            answers={"pickup": "Hotel Viru", "lunch": "veg"},
        ),
        clock.now(),
    )


async def relayed_question(sender: OutboxSender, recorder: RecordingSession) -> int:
    """Deliver what is due; the id of the (newest) question the operator group got."""
    await sender.drain()
    questions = [r for r in sent(recorder, OPERATOR_CHAT_ID) if "Question from a tourist" in (r.text or "")]
    return questions[-1].result.message_id


async def test_the_question_arrives_with_its_context_and_a_reply_goes_back(
    chat: Chat,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded: Seeded,
    clock,
) -> None:
    order = await anna_books(chat, sessions, seeded, clock)
    await ask(chat)
    thread = await thread_of(sessions, TOURIST_ID)
    assert thread.status == "open" and thread.desk_check_at == clock.now() + timedelta(minutes=15)

    relay_id = await relayed_question(sender, recorder)
    [request] = [r for r in sent(recorder, OPERATOR_CHAT_ID) if r.result.message_id == relay_id]
    assert "message_thread_id" not in request.params  # not a forum: a message with a header
    text = operator_chat.last_text()
    assert "Question from a tourist" in text and "Anna" in text and "English" in text
    assert format_order_code(order.code) in text and "Islands cruise" in text and "awaiting the organiser" in text
    assert text.endswith(QUESTION)  # escaped on the way: the tags show as typed
    assert operator_chat.buttons(relay_id) == ["📋 Canned reply", "✅ Answered"]
    [relay] = await rows(sessions, RelayMessageRow)
    assert (relay.chat_id, relay.message_id, relay.user_id, relay.direction, relay.thread_id) == (
        OPERATOR_CHAT_ID,
        relay_id,
        TOURIST_ID,
        "to_operators",
        thread.id,
    )

    clock.advance(minutes=3)
    bold = [{"type": "bold", "offset": 14, "length": 8}]
    answer = await operator_chat._send(
        {"text": "Yes, lunch is included. <Really>", "entities": bold}, reply_to=relay_id
    )
    [ack] = operator_chat.replies("sendMessage")
    assert ack.text == "✅ Sent to Anna." and ack.params["reply_parameters"]["message_id"] == answer.message_id
    thread = await thread_of(sessions, TOURIST_ID)
    assert (thread.status, thread.answered_by, thread.desk_check_at) == (
        "answered",
        f"operator:{OPERATOR_ID}",
        clock.now(),
    )
    [entry] = await audit(sessions, "question.answered")
    assert entry.actor == f"operator:{OPERATOR_ID}" and entry.after["user"] == TOURIST_ID
    assert "Our team answers" not in chat.last_text()  # nothing to the tourist yet: the outbox sends it

    await sender.drain()
    assert chat.last_text() == "💬 Our team answers:\n\nYes, lunch is included. <Really>"
    assert "<b>included</b>. &lt;Really&gt;" in sent(recorder, TOURIST_ID)[-1].params["text"]  # formatting kept
    back = await rows(sessions, RelayMessageRow, RelayMessageRow.direction == "to_tourist")
    assert [(r.message_id, r.user_id) for r in back] == [(answer.message_id, TOURIST_ID)]

    # a photo in reply goes as a header and a copy; a reply to the operator's own answer reaches the tourist too
    photo = await operator_chat._send({"photo": PHOTO, "caption": "The pier"}, reply_to=answer.message_id)
    await sender.drain()
    assert sent(recorder, TOURIST_ID)[-1].text == "💬 Our team answers:"
    [copy] = sent(recorder, TOURIST_ID, "copyMessage")
    assert (copy.params["from_chat_id"], copy.params["message_id"]) == (OPERATOR_CHAT_ID, photo.message_id)


async def test_the_next_question_gets_a_new_relay_and_reopens_the_thread(
    chat: Chat, operator_chat: Chat, sender: OutboxSender, recorder: RecordingSession, sessions, seeded, clock
) -> None:
    await ask(chat, "First?")
    first = await relayed_question(sender, recorder)
    await operator_chat.send("Answer one", reply_to=first)
    clock.advance(minutes=1)
    await ask(chat, "Second?")
    second = await relayed_question(sender, recorder)
    assert second != first and operator_chat.last_text().endswith("Second?")
    thread = await thread_of(sessions, TOURIST_ID)
    assert thread.status == "open" and thread.answered_by is None and thread.asked_at == clock.now()
    await operator_chat.send("Answer two", reply_to=second)
    await sender.drain()
    assert chat.last_text() == "💬 Our team answers:\n\nAnswer two"


async def test_a_stranger_s_reply_does_nothing(
    chat: Chat, stranger: Chat, operator_chat: Chat, sender: OutboxSender, recorder, sessions, seeded
) -> None:
    await ask(chat)
    relay_id = await relayed_question(sender, recorder)
    await stranger.send("I will answer that!", reply_to=relay_id)
    assert stranger.replies("getChatMember")  # asked Telegram, not trusted
    assert [r.method for r in stranger.replies()] == ["getChatMember"]  # and said nothing in the busy group
    assert (await thread_of(sessions, TOURIST_ID)).status == "open"
    assert await rows(sessions, OutboxRow, OutboxRow.chat_id == TOURIST_ID) == []
    assert await audit(sessions, "question.answered") == []


async def test_talk_and_replies_to_other_messages_fall_through(
    chat: Chat, operator_chat: Chat, sender: OutboxSender, recorder, sessions, seeded
) -> None:
    await ask(chat)
    await relayed_question(sender, recorder)
    note = await operator_chat.send("Who takes the Anna question?")
    await operator_chat.send("Me", reply_to=note.message_id)
    assert operator_chat.replies() == []  # not a relay: nobody answers, nothing is sent
    assert await rows(sessions, OutboxRow, OutboxRow.chat_id == TOURIST_ID) == []
    assert (await thread_of(sessions, TOURIST_ID)).status == "open"


async def test_a_forum_gets_a_topic_per_tourist_and_answers_inside_it(
    chat: Chat,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded,
    forum: list[int],
    dp: Dispatcher,
    bot: Bot,
    clock,
) -> None:
    await ask(chat)
    relay_id = await relayed_question(sender, recorder)
    [create] = recorder.calls("createForumTopic")
    assert create.params["name"] == f"Anna · en · #{TOURIST_ID}"
    [request] = [r for r in sent(recorder, OPERATOR_CHAT_ID) if r.result.message_id == relay_id]
    assert request.params["message_thread_id"] == forum[0] == 101
    [topic] = await rows(sessions, DeskTopicRow)
    assert (topic.key, topic.chat_id, topic.thread_id) == (f"user:{TOURIST_ID}", OPERATOR_CHAT_ID, 101)

    # an operator writes inside the topic, without replying to anything: it goes to the tourist
    await operator_chat._send({"text": "Hello Anna, yes it is.", "message_thread_id": 101, "is_topic_message": True})
    await sender.drain()
    assert chat.last_text() == "💬 Our team answers:\n\nHello Anna, yes it is."

    # the next question lands in the same topic; getChat was asked once
    clock.advance(minutes=1)
    await ask(chat, "And dinner?")
    await relayed_question(sender, recorder)
    assert len(recorder.calls("createForumTopic")) == 1 and len(recorder.calls("getChat")) == 1
    assert sent(recorder, OPERATOR_CHAT_ID)[-1].params["message_thread_id"] == 101

    # a second tourist gets a topic of their own
    other = Chat(dp, bot, recorder, 1002, language_code="ru", first_name="Иван")
    await ask(other, "Где причал?")
    await relayed_question(sender, recorder)
    assert recorder.calls("createForumTopic")[-1].params["name"] == "Иван · ru · #1002"
    assert sent(recorder, OPERATOR_CHAT_ID)[-1].params["message_thread_id"] == 102


@pytest.mark.parametrize(
    "reason", ["Bad Request: message thread not found", "Bad Request: TOPIC_DELETED", "Bad Request: TOPIC_CLOSED"]
)
async def test_a_deleted_topic_is_made_again(
    chat: Chat,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded,
    forum: list[int],
    reason: str,
    clock,
) -> None:
    await ask(chat)
    await relayed_question(sender, recorder)
    clock.advance(minutes=1)
    await ask(chat, "Hello? Anyone?")
    recorder.fail_next("sendMessage", bad_request(reason))  # someone deleted (or closed) the topic meanwhile
    await sender.drain()  # refused: the topic is forgotten, the row retried
    await relayed_question(sender, recorder)
    assert forum == [101, 102]
    assert sent(recorder, OPERATOR_CHAT_ID)[-1].params["message_thread_id"] == 102
    [topic] = await rows(sessions, DeskTopicRow)
    assert topic.thread_id == 102
    await operator_chat._send({"text": "Here!", "message_thread_id": 102, "is_topic_message": True})
    await sender.drain()
    assert chat.last_text() == "💬 Our team answers:\n\nHere!"


async def test_without_the_right_to_make_topics_it_posts_into_the_group(
    chat: Chat,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded,
    forum: list[int],
) -> None:
    recorder.fail_next("createForumTopic", bad_request("Bad Request: not enough rights to create a topic"))
    await ask(chat)
    relay_id = await relayed_question(sender, recorder)
    [request] = [r for r in sent(recorder, OPERATOR_CHAT_ID) if r.result.message_id == relay_id]
    assert "message_thread_id" not in request.params
    assert await rows(sessions, DeskTopicRow) == []


async def test_a_canned_reply_goes_in_the_tourist_s_language(
    dp: Dispatcher,
    bot: Bot,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded,
    clock,
) -> None:
    tourist = Chat(dp, bot, recorder, 1002, language_code="ru", first_name="Иван")
    await ask(tourist, "Где место встречи?")
    relay_id = await relayed_question(sender, recorder)
    await operator_chat.press("Canned reply", message_id=relay_id)
    buttons = operator_chat.buttons(relay_id)
    assert len(buttons) == len(CANNED) + 1 and "📍 Meeting point" in buttons and buttons[-1] == "↩️ Back"
    await operator_chat.press("Meeting point", message_id=relay_id)
    assert [a.text for a in operator_chat.alerts()] == ["Sent to Иван: 📍 Meeting point"]
    assert operator_chat.keyboard(relay_id) == []  # answered: marked so, its buttons gone
    thread = await thread_of(sessions, 1002)
    assert thread.status == "answered" and thread.answered_by == f"operator:{OPERATOR_ID}"
    [entry] = await audit(sessions, "question.canned")
    assert entry.after["reply"] == CannedReply.MEETING_POINT.value

    await sender.drain()
    ru = dp["i18n"].translator("ru")
    expected = "💬 " + ru.gettext("Our team answers:") + "\n\n" + ru.gettext(CANNED[CannedReply.MEETING_POINT][2])
    assert tourist.last_text() == expected
    # pressed twice by two operators (the second on a copy of the buttons it still had): the tourist gets it once
    again = QuestionCb(action=QuestionAction.PICK, user=1002, reply=CannedReply.MEETING_POINT).pack()
    await operator_chat.press_data(again, message_id=relay_id)
    assert len(await rows(sessions, OutboxRow, OutboxRow.kind == "tourist.canned_reply")) == 1


async def test_answered_marks_without_writing_and_a_stranger_may_not(
    chat: Chat, operator_chat: Chat, stranger: Chat, sender: OutboxSender, recorder, sessions, seeded
) -> None:
    await ask(chat)
    relay_id = await relayed_question(sender, recorder)
    await stranger.press("Answered", message_id=relay_id)
    assert stranger.alerts()[0].show_alert and "Not allowed" in stranger.alerts()[0].text
    assert (await thread_of(sessions, TOURIST_ID)).status == "open"

    await operator_chat.press("Answered", message_id=relay_id)
    assert operator_chat.alerts()[0].text == "Marked as answered."
    assert (await thread_of(sessions, TOURIST_ID)).status == "answered"
    assert await rows(sessions, OutboxRow, OutboxRow.chat_id == TOURIST_ID) == []
    assert len(await audit(sessions, "question.closed")) == 1
    assert operator_chat.keyboard(relay_id) == []  # marked answered, its buttons gone
    answered = QuestionCb(action=QuestionAction.ANSWERED, user=TOURIST_ID).pack()
    await operator_chat.press_data(answered, message_id=relay_id)  # an older copy of the buttons
    assert operator_chat.alerts()[0].text == "It was answered already."
    assert len(await audit(sessions, "question.closed")) == 1

    await operator_chat.press_data("dq:p:999999:meeting", message_id=relay_id)  # a forged tourist id
    assert "no longer in our records" in operator_chat.alerts()[0].text
    await operator_chat.press_data("dq:p:1001:nonsense", message_id=relay_id)  # not a template: the catch-all
    assert operator_chat.alerts()[0].show_alert


async def test_write_to_the_tourist_sends_the_next_message(
    chat: Chat, operator_chat: Chat, sender: OutboxSender, recorder: RecordingSession, sessions, seeded, clock
) -> None:
    order = await anna_books(chat, sessions, seeded, clock)
    note = await operator_chat.send("Anna's order looks odd")
    data = WriteCb(action=WriteAction.TOURIST, id=TOURIST_ID, order=order.id).pack()
    await operator_chat.press_data(data, message_id=note.message_id)
    assert "Your next message here goes to the tourist Anna" in operator_chat.last_text()
    assert operator_chat.buttons() == ["✖️ Cancel"]
    prompt = operator_chat.last_message().message_id

    message = await operator_chat.send("Hello Anna, the boat leaves at 10 sharp.")
    assert operator_chat.last_text() == "✅ Sent to Anna."
    assert operator_chat.keyboard(prompt) == []  # the prompt's Cancel is gone once the message went
    [entry] = await audit(sessions, "operator.wrote")
    assert (entry.actor, entry.order_id, entry.after["to"]) == (f"operator:{OPERATOR_ID}", order.id, "tourist")
    await operator_chat.send("and this is just for us")  # writing is over
    assert operator_chat.replies() == []

    await sender.drain()
    code = format_order_code(order.code)
    assert chat.last_text() == (
        f"💬 A message from our team\nAbout booking {code}\n\nHello Anna, the boat leaves at 10 sharp."
    )
    assert len(await rows(sessions, OutboxRow, OutboxRow.kind == "team.message")) == 1
    # a reply to what the operator wrote reaches the tourist too
    assert [r.message_id for r in await rows(sessions, RelayMessageRow)] == [message.message_id]


async def test_write_to_the_organiser_in_their_language_with_a_voice_note(
    dp: Dispatcher,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded: Seeded,
    clock,
) -> None:
    note = await operator_chat.send("Baltic Boats is slow today")
    await operator_chat.press_data(
        WriteCb(action=WriteAction.ORGANISER, id=seeded.organiser_id).pack(), message_id=note.message_id
    )
    assert "the organiser Baltic Boats" in operator_chat.last_text()
    voice = await operator_chat.send_voice()
    assert operator_chat.last_text() == "✅ Sent to Baltic Boats."
    [entry] = await audit(sessions, "operator.wrote")
    assert entry.after == {"to": "organiser", "chat": ORGANISER_CHAT_ID, "message": voice.message_id}

    await sender.drain()
    et = dp["i18n"].translator("et")
    [header] = sent(recorder, ORGANISER_CHAT_ID)
    assert header.text == "💬 " + et.gettext("A message from our team")
    [copy] = sent(recorder, ORGANISER_CHAT_ID, "copyMessage")
    assert (copy.params["from_chat_id"], copy.params["message_id"]) == (OPERATOR_CHAT_ID, voice.message_id)


async def test_writing_ends_with_cancel_or_a_command(
    chat: Chat, operator_chat: Chat, stranger: Chat, sessions, seeded
) -> None:
    await chat.send("/start")
    note = await operator_chat.send("note")
    start = WriteCb(action=WriteAction.TOURIST, id=TOURIST_ID).pack()

    await stranger.press_data(start, message_id=note.message_id)
    assert "Not allowed" in stranger.alerts()[0].text
    await stranger.send("hello Anna")  # not in writing mode, not an operator: nothing
    assert await rows(sessions, OutboxRow) == []

    await operator_chat.press_data(start, message_id=note.message_id)
    await operator_chat.press("Cancel")
    assert operator_chat.alerts()[0].text == "Cancelled: nothing was sent."
    assert operator_chat.last_text() == "✖️ Cancelled: nothing was sent."
    await operator_chat.send("this stays here")
    await operator_chat.press_data(start, message_id=note.message_id)
    prompt = operator_chat.last_message().message_id
    await operator_chat.send("/nonsense")
    assert operator_chat.keyboard(prompt) == []  # a command ended the writing: its Cancel goes
    await operator_chat.send("this stays here too")
    assert await rows(sessions, OutboxRow) == []
    assert await audit(sessions, "operator.wrote") == []
    await operator_chat.press_data(WriteCb(action=WriteAction.CANCEL).pack(), message_id=note.message_id)
    assert operator_chat.alerts()[0].text == "Nothing to cancel."

    await operator_chat.press_data(WriteCb(action=WriteAction.TOURIST, id=999999).pack(), message_id=note.message_id)
    assert "no longer in our records" in operator_chat.alerts()[0].text


async def test_a_reply_before_the_relay_is_recorded_still_reaches_the_tourist(
    chat: Chat,
    operator_chat: Chat,
    sender: OutboxSender,
    recorder: RecordingSession,
    sessions,
    seeded,
) -> None:
    """The operator answers the moment the question shows up, before the sender recorded which message it is."""
    await ask(chat)
    relay_id = await relayed_question(sender, recorder)
    async with sessions() as db, db.begin():
        await db.execute(delete(RelayMessageRow))  # as if after_send had not run yet
    await operator_chat.send("Yes, there is one at the back.", reply_to=relay_id)
    await sender.drain()
    assert chat.last_text() == "💬 Our team answers:\n\nYes, there is one at the back."
