"""``/questions`` through the real dispatcher (issue 14): add (free text, with choices), edit per language,
required or not, the longest answer, reorder, remove; every refusal; only the organiser's own chat or an operator;
orders keep the answers they gave."""

from __future__ import annotations

import pytest

from bot.storage.uow import SqlUnitOfWork
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_questions import question_key
from handlers.organiser.callbacks import OrgQuestionAction, OrgQuestionCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_ID
from tests.handlers.organiser_wiring import audit_actions, organiser_chat, organiser_row, wire_organiser_routers
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_user

ORGANISER = f"organiser:{ORGANISER_CHAT_ID}"


@pytest.fixture(autouse=True)
def _routers(monkeypatch: pytest.MonkeyPatch, operator_members: set[int]) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def org(dp, bot, recorder) -> Chat:
    return organiser_chat(dp, bot, recorder)


async def stored(sessions, seeded: Seeded) -> list[dict]:
    return list((await organiser_row(sessions, seeded.organiser_id)).questions)


async def test_the_list_shows_the_questions_in_order(org, seeded) -> None:
    await org.send("/questions")
    text = org.last_text()
    assert "Booking questions of Baltic Boats" in text
    assert "1. Where shall we pick you up?" in text and "free text, up to 200 characters · required" in text
    assert "2. Which lunch would you like?" in text and "choices: Fish, Vegetarian" in text
    assert "orders keep the answers they gave" in text
    assert org.buttons()[-2:] == ["➕ Free text", "➕ With choices"]


async def test_someone_who_is_not_an_organiser_is_refused(chat, sessions, seeded) -> None:
    await chat.send("/questions")
    assert "This command is for organisers" in chat.last_text()
    forged = OrgQuestionCb(action=OrgQuestionAction.REMOVE_YES, org=seeded.organiser_id, q=question_key("pickup"))
    await chat.press_data(forged.pack())
    assert "Only the organiser's own chat" in chat.alerts()[0].text
    assert [q["id"] for q in await stored(sessions, seeded)] == ["pickup", "lunch"]
    assert await audit_actions(sessions) == []


async def test_an_operator_edits_an_organisers_questions_by_code(dp, bot, recorder, sessions, seeded) -> None:
    operator = Chat(dp, bot, recorder, OPERATOR_ID, language_code="en", first_name="Olga")
    await operator.send("/questions baltic-boats")
    await operator.press("1. Where shall we pick you up?")
    await operator.press("Make it optional")
    assert "optional" in operator.last_text()
    assert (await stored(sessions, seeded))[0]["required"] is False
    assert (f"operator:{OPERATOR_ID}", "question.required_changed") in await audit_actions(sessions)


async def test_adding_a_free_text_question(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("Free text")
    assert "Send the question in English" in org.last_text()
    await org.send("   ")
    assert "The text is empty" in org.last_text()
    await org.send("x" * 501)
    assert "at most 500 characters" in org.last_text()
    await org.send("How tall are you?")
    assert "Saved" in org.last_text() and "How tall are you?" in org.last_text()
    questions = await stored(sessions, seeded)
    assert questions[-1]["text"] == {"en": "How tall are you?"} and questions[-1]["kind"] == "text"
    assert (ORGANISER, "question.added") in await audit_actions(sessions)


async def test_adding_a_question_with_choices_refuses_bad_choices(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("With choices")
    assert "one choice per line" in org.last_text()
    await org.send("Do you need a life jacket?\nYes")
    assert "2 to 10 of them" in org.last_text()
    await org.send("Do you need a life jacket?\nYes\nyes")
    assert "Two choices are the same" in org.last_text()
    await org.send("Do you need a life jacket?\nYes\n" + "N" * 65)
    assert "at most 64 characters" in org.last_text()
    await org.send("Do you need a life jacket?\nYes\nNo")
    question = (await stored(sessions, seeded))[-1]
    assert question["kind"] == "choice"
    assert question["choices"] == [{"id": "c1", "text": {"en": "Yes"}}, {"id": "c2", "text": {"en": "No"}}]


async def test_each_text_per_language(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("2. Which lunch would you like?")
    await org.press("✏️ de")
    assert "Send the question in German" in org.last_text()
    await org.send("Was möchten Sie essen?")
    assert "de: Was möchten Sie essen?" in org.last_text()
    await org.press("🔘 de")
    assert "Send the 2 choices in German" in org.last_text()
    await org.send("Fisch")
    assert "Send exactly 2 choices" in org.last_text()
    await org.send("Fisch\nVegan")
    lunch = (await stored(sessions, seeded))[1]
    assert lunch["text"]["de"] == "Was möchten Sie essen?"
    assert [c["text"]["de"] for c in lunch["choices"]] == ["Fisch", "Vegan"]
    assert lunch["choices"][0]["text"]["en"] == "Fish"  # the other languages stay
    await org.press("✏️ ru")
    await org.send("-")  # the language is removed: the default wording is shown instead
    assert "ru: — (the default wording is shown)" in org.last_text()
    assert "ru" not in (await stored(sessions, seeded))[1]["text"]


async def test_the_last_language_of_a_question_cannot_be_removed(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("Free text")
    await org.send("Any allergies?")
    await org.press("✏️ en")
    await org.send("-")
    assert "only language" in org.last_text()
    assert (await stored(sessions, seeded))[-1]["text"] == {"en": "Any allergies?"}


async def test_required_and_the_longest_answer(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("1. Where shall we pick you up?")
    await org.press("Make it optional")
    await org.press("Make it required")
    await org.press("Longest answer")
    assert "now 200" in org.last_text()
    for bad in ("0", "1001", "many"):
        await org.send(bad)
        assert "a number from 1 to 1000" in org.last_text()
    await org.send("80")
    assert "up to 80 characters" in org.last_text()
    pickup = (await stored(sessions, seeded))[0]
    assert (pickup["required"], pickup["max_length"]) == (True, 80)
    actions = [a for _, a in await audit_actions(sessions)]
    assert actions == ["question.required_changed", "question.required_changed", "question.limit_changed"]


async def test_reordering(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("2. Which lunch would you like?")
    await org.press("⬆️")
    assert "1. Which lunch would you like?" in org.last_text()
    assert [q["id"] for q in await stored(sessions, seeded)] == ["lunch", "pickup"]
    await org.press("1. Which lunch would you like?")
    await org.press("⬆️")  # the first stays first
    assert [q["id"] for q in await stored(sessions, seeded)] == ["lunch", "pickup"]
    await org.press("1. Which lunch would you like?")
    await org.press("⬇️")
    assert [q["id"] for q in await stored(sessions, seeded)] == ["pickup", "lunch"]


async def test_removing_asks_first_and_orders_keep_their_answers(org, sessions, seeded, clock) -> None:
    await seed_user(sessions, 5001, now=clock.now())
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(5001, seeded.session_id, {"adult": 1}, {"pickup": "Hotel Viru", "lunch": "veg"}),
        clock.now(),
    )
    await org.send("/questions")
    await org.press("2. Which lunch would you like?")
    await org.press("Remove")
    assert "Remove this question?" in org.last_text()
    await org.press("Back")
    assert len(await stored(sessions, seeded)) == 2
    await org.press("Remove")
    await org.press(lambda b: b.text == "🗑 Remove")
    assert "Which lunch" not in org.last_text()
    lunch = (await stored(sessions, seeded))[1]
    assert lunch["id"] == "lunch" and lunch["retired"] is True  # kept aside, no longer asked
    uow = SqlUnitOfWork(sessions)
    async with uow:
        organiser = await uow.catalog.organiser(seeded.organiser_id)
        kept = await uow.orders.get(order.id)
    assert organiser is not None and kept is not None
    assert [q.id for q in organiser.questions] == ["pickup"]
    assert [q.id for q in organiser.all_questions] == ["pickup", "lunch"]
    assert kept.answers == {"pickup": "Hotel Viru", "lunch": "veg"}
    # a new question never reuses the removed one's id
    await org.press("Free text")
    await org.send("Shoe size?")
    assert [q["id"] for q in await stored(sessions, seeded)] == ["pickup", "q1", "lunch"]


async def test_forged_and_stale_buttons(org, sessions, seeded) -> None:
    await org.send("/questions")
    unknown = OrgQuestionCb(action=OrgQuestionAction.REMOVE_YES, org=seeded.organiser_id, q="00000000")
    await org.press_data(unknown.pack())
    assert "no longer exists" in org.alerts()[0].text
    language = OrgQuestionCb(
        action=OrgQuestionAction.WORDING, org=seeded.organiser_id, q=question_key("pickup"), lang="xx"
    )
    await org.press_data(language.pack())
    assert org.alerts()[0].show_alert
    other = OrgQuestionCb(action=OrgQuestionAction.ADD_TEXT, org=seeded.instant_organiser_id)
    await org.press_data(other.pack())
    assert "Only the organiser's own chat" in org.alerts()[0].text
    assert await audit_actions(sessions) == []


async def test_a_photo_while_a_value_is_awaited_gets_a_hint(org, sessions, seeded) -> None:
    await org.send("/questions")
    await org.press("Free text")
    await org.send_photo()
    assert "as a text message" in org.last_text()
    await org.send("/questions")
    assert "Booking questions" in org.last_text()
    assert len(await stored(sessions, seeded)) == 2
