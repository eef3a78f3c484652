"""Offers through the Dispatcher (issue 15): ``/offer`` in the operator group step by step (texts, event, code,
validity, segment, preview, summary, send), its refusals (a stranger, bad input, an empty segment, a taken code, a
colleague pressing Send), the delivery job and the sender (the segment only: not the opted-out, not the blocked, never
twice), and the guests' side: the offer message, its "Stop offers", Profile → Offers and the toggle, an expired
offer gone from the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.storage.offer_tables import DiscountCodeRow, OfferDeliveryRow, OfferRow
from bot.storage.tables import AuditRow, OutboxRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.use_cases.offers import deliver_offers
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_ID, SECOND_OPERATOR_ID, in_operator_group
from tests.seed import Seeded, seed_user
from tests.telegram.recorder import RecordingSession

EN, RU, DE, RU_OFF, RU_BLOCKED, RU_TARTU = 5001, 5002, 5003, 5004, 5005, 5006
RU_TEXT = "Осенняя скидка на морскую прогулку!"
EN_TEXT = "Autumn discount on the islands cruise!"


@pytest.fixture
async def guests(sessions, seeded: Seeded, clock) -> None:
    now = clock.now()
    await seed_user(sessions, EN, "en", now, region_id=seeded.region_id)
    await seed_user(sessions, RU, "ru", now, region_id=seeded.region_id)
    await seed_user(sessions, DE, "de", now, seeded.hotel_id)
    await seed_user(sessions, RU_OFF, "ru", now, region_id=seeded.region_id)
    await seed_user(sessions, RU_BLOCKED, "ru", now, region_id=seeded.region_id)
    await seed_user(sessions, RU_TARTU, "ru", now, region_id=seeded.other_region_id)
    async with sessions() as db, db.begin():
        await db.execute(update(UserRow).where(UserRow.id == RU_OFF).values(offers_opt_out=True))
        await db.execute(update(UserRow).where(UserRow.id == RU_BLOCKED).values(blocked_bot=True))


def guest(dp: Dispatcher, bot: Bot, recorder: RecordingSession, user_id: int, language: str) -> Chat:
    return Chat(dp, bot, recorder, user_id, language_code=language, first_name=f"Guest {user_id}")


async def compose(operator_chat: Chat, segment: str, code: str = "/skip", event: str = "islands-cruise") -> None:
    await operator_chat.send("/offer")
    assert "English" in operator_chat.last_text()
    await operator_chat.send(EN_TEXT)
    assert "German" in operator_chat.last_text()  # then each other language, in the bot's order
    await operator_chat.send("/skip")
    await operator_chat.send("/skip")
    assert "Russian" in operator_chat.last_text()
    await operator_chat.send(RU_TEXT)
    assert "event" in operator_chat.last_text()
    await operator_chat.send(event)
    assert "discount code" in operator_chat.last_text()
    await operator_chat.send(code)
    assert "how many days" in operator_chat.last_text()
    await operator_chat.send("14")
    assert "Who gets it?" in operator_chat.last_text()
    await operator_chat.send(segment)


async def outbox_chats(sessions) -> list[int]:
    async with sessions() as db:
        return sorted(await db.scalars(select(OutboxRow.chat_id).where(OutboxRow.kind == "tourist.offer")))


@pytest.mark.usefixtures("guests")
async def test_an_operator_sends_an_offer_to_a_segment_and_only_it_receives_it(
    operator_chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions, clock, sender: OutboxSender
) -> None:
    await compose(operator_chat, "lang:ru region:tallinn", code="autumn-10 10% 50")
    texts = operator_chat.texts()
    previews = [t for t in texts if t.startswith("👁")]
    assert len(previews) == 4  # one per language
    assert any("Russian" in t and RU_TEXT in t for t in previews)
    assert any("German" in t and "the English one" in t and EN_TEXT in t for t in previews)
    assert all("AUTUMN-10" in t for t in previews)
    assert any("English" in t and "10% off" in t for t in previews)
    assert any("Russian" in t and "скидка 10%" in t for t in previews)  # the bot's own words in their language too
    summary = operator_chat.last_text()
    assert "It reaches 1 guest right now." in summary  # RU only: not the opted-out, the blocked, the one in Tartu
    await operator_chat.press("Send to 1 guest")
    assert "sent the offer" in operator_chat.last_text()
    async with sessions() as db:
        offer = (await db.scalars(select(OfferRow))).one()
        code = (await db.scalars(select(DiscountCodeRow))).one()
        audit = (await db.scalars(select(AuditRow).where(AuditRow.action == "offer.sent"))).one()
    assert (code.code, code.percent, code.max_uses, code.offer_id) == ("AUTUMN-10", 10, 50, offer.id)
    assert code.valid_until == offer.valid_until == clock.now() + timedelta(days=14)
    assert audit.actor == f"operator:{OPERATOR_ID}" and audit.after["reach"] == 1

    swept = await deliver_offers(SqlUnitOfWork(sessions), clock.now())
    assert swept.done == [RU]
    assert await outbox_chats(sessions) == [RU]
    assert (await deliver_offers(SqlUnitOfWork(sessions), clock.now())).done == []  # never twice

    ivan = guest(dp, bot, recorder, RU, "ru")
    assert await sender.deliver_due() == 1
    sent = [r for r in recorder.requests if r.method == "sendMessage" and int(r.params["chat_id"]) == RU]
    assert len(sent) == 1 and RU_TEXT in sent[0].params["text"] and "AUTUMN-10" in sent[0].params["text"]
    for other in (EN, DE, RU_OFF, RU_BLOCKED, RU_TARTU):
        assert not [r for r in recorder.requests if r.method == "sendMessage" and int(r.params["chat_id"]) == other]

    # the guest's side: Stop offers under the message turns them off; the list and the toggle in Profile
    await ivan.press("Не присылать предложения")  # "Stop offers", in Russian
    assert ivan.alerts()[0].text.startswith("Предложения выключены")
    async with sessions() as db:
        assert await db.scalar(select(UserRow.offers_opt_out).where(UserRow.id == RU)) is True
    assert "AUTUMN-10" in ivan.last_text()  # the Offers screen below, with the offer
    await ivan.press("Включить предложения")  # "Turn offers on"
    assert "Предложения: вкл." in ivan.last_text()
    async with sessions() as db:
        assert await db.scalar(select(UserRow.offers_opt_out).where(UserRow.id == RU)) is False


async def test_a_stranger_cannot_start_an_offer(stranger: Chat, sessions) -> None:
    await stranger.send("/offer")
    assert stranger.texts() == []  # silence for a stranger in a busy group
    await stranger.send("Free cruise for all!")
    assert stranger.texts() == []
    async with sessions() as db:
        assert (await db.scalars(select(OfferRow))).all() == []


@pytest.mark.usefixtures("guests")
async def test_bad_input_at_each_step_is_explained_and_changes_nothing(operator_chat: Chat, sessions) -> None:
    await operator_chat.send("/offer")
    await operator_chat.send("/skip")
    assert "English text is required" in operator_chat.last_text()
    await operator_chat.send("x" * 2001)
    assert "2001 characters" in operator_chat.last_text()
    for text in (EN_TEXT, "/skip", "/skip", "/skip"):
        await operator_chat.send(text)
    await operator_chat.send("no-such-event")
    assert "No event with the code" in operator_chat.last_text()
    await operator_chat.send("/skip")
    for bad, answer in (
        ("SALE", "Write the code and its discount"),
        ("SALE 120%", "not a percentage"),
        ("SALE five EUR", "not an amount"),
        ("S! 10%", "cannot be a code"),
        ("SALE 10% many", "not a number of uses"),
    ):
        await operator_chat.send(bad)
        assert answer in operator_chat.last_text(), bad
    await operator_chat.send("SALE 5 EUR")
    await operator_chat.send("0")
    assert "from 1 to 90" in operator_chat.last_text()
    await operator_chat.send("7")
    for bad, answer in (
        ("everyone", "I do not understand"),
        ("lang:xx", "no language"),
        ("region:atlantis", "No region with the code"),
        ("days:9999", "not a number of days"),
    ):
        await operator_chat.send(bad)
        assert answer in operator_chat.last_text(), bad
    await operator_chat.send("/cancel")
    assert "nothing was sent" in operator_chat.last_text()
    async with sessions() as db:
        assert (await db.scalars(select(OfferRow))).all() == []
        assert (await db.scalars(select(DiscountCodeRow))).all() == []


@pytest.mark.usefixtures("guests")
async def test_an_empty_segment_is_refused_and_another_can_be_given(operator_chat: Chat, sessions) -> None:
    await compose(operator_chat, "lang:de region:tartu", event="/skip")
    assert "No guest matches this segment" in operator_chat.last_text()
    await operator_chat.send("all")
    assert "It reaches 4 guests right now." in operator_chat.last_text()  # EN, RU, DE, RU_TARTU


@pytest.mark.usefixtures("guests")
async def test_a_taken_code_is_refused_and_only_the_author_can_send(
    operator_chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions
) -> None:
    await compose(operator_chat, "all", code="TAKEN-1 10%")
    summary_id = operator_chat.last_message().message_id
    colleague = in_operator_group(dp, bot, recorder, SECOND_OPERATOR_ID, "Pille")
    await colleague.press("Send to 4 guests", message_id=summary_id)
    assert "Only the operator who wrote this offer" in colleague.alerts()[0].text
    await operator_chat.press("Send to 4 guests")
    await operator_chat.press_data("dof:y", message_id=summary_id)  # a double tap sends nothing twice
    assert operator_chat.alerts()[0].show_alert
    await operator_chat.send("/offer")
    for text in (EN_TEXT, "/skip", "/skip", "/skip", "/skip"):
        await operator_chat.send(text)
    await operator_chat.send("taken-1 15%")
    assert "exists already" in operator_chat.last_text()
    async with sessions() as db:
        assert len((await db.scalars(select(OfferRow))).all()) == 1


@pytest.mark.usefixtures("guests")
async def test_an_offer_that_expired_is_not_listed_nor_sent(
    operator_chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions, clock, sender: OutboxSender
) -> None:
    await compose(operator_chat, "lang:en", code="/skip", event="/skip")
    await operator_chat.press("Send to 1 guest")
    await deliver_offers(SqlUnitOfWork(sessions), clock.now())
    emma = guest(dp, bot, recorder, EN, "en")
    await emma.send("/profile")
    await emma.press("Offers: on")
    assert EN_TEXT in emma.last_text()
    await emma.press("Turn offers off")
    assert "Offers: off" in emma.last_text() and EN_TEXT in emma.last_text()  # what she received stays listed
    await emma.press("Turn offers on")
    clock.advance(days=15)
    await emma.send("/profile")
    await emma.press("Offers: on")
    assert EN_TEXT not in emma.last_text() and "No current offers." in emma.last_text()
    assert await sender.deliver_due() == 0  # the message still queued is not sent: the offer is over
    async with sessions() as db:
        assert (await db.scalars(select(OfferDeliveryRow.user_id))).all() == [EN]
