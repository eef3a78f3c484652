"""The real bot process (issue 15): an operator composes ``/offer`` in the operator group (texts, event, code,
validity, segment), sees the preview and how many guests it reaches, and sends it; only the guests of the segment
get it, each in their language, under Telegram's flood limits: not a guest of another language or hotel, not one
who turned offers off in Profile. One of them then stops offers from the message itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from bot.storage.offer_tables import DiscountCodeRow, OfferRow
from bot.storage.tables import HotelRow, OutboxRow, UserRow
from handlers.operator.offer_screens import OfferSendAction, OfferSendCb
from handlers.tourist.offer_screens import OfferAction, OfferCb
from sandbox.world import World
from tests.e2e.conftest import Database
from tests.e2e.tourist import Tourist

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

HOTEL = "h15b-offer-inn"
RU_TEXT = "Скидка 15% на морскую прогулку для гостей отеля!"
EN_TEXT = "15% off the islands cruise for our hotel's guests!"
DELIVERY_WAIT = 20.0  # s: the delivery job and the outbox run every half second, the offers paced a few per second


def bot_messages(world: World, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in world.transcript(chat_id) if m["from"]["is_bot"] and not m["deleted"]]


async def operator_says(world: World, operators: int, operator: int, text: str, expect: str = "") -> dict[str, Any]:
    """The operator writes in the group; the bot's first message after it that contains ``expect``."""
    sent = await world.user_sends(operator, text, chat_id=operators)

    def answered() -> dict[str, Any] | None:
        newer = (m for m in bot_messages(world, operators) if m["message_id"] > sent["message_id"])
        return next((m for m in newer if expect in (m.get("text") or "")), None)

    try:
        return await world.wait_for(answered, 8.0)
    except TimeoutError:
        raise AssertionError(f"no answer to {text!r} with {expect!r}") from None


@pytest.mark.telegram_limits
async def test_an_offer_reaches_its_segment_only(
    tourist_factory: Callable[..., Awaitable[Tourist]], database: Database, world: World, operators: int
) -> None:
    sessions, seeded = database.sessions, database.seeded
    mark = len(world.calls)
    async with sessions() as db, db.begin():
        hotel_id = (
            await db.execute(
                insert(HotelRow)
                .values(code=HOTEL, region_id=seeded.region_id, name="Offer Inn", search_name="offer inn")
                .returning(HotelRow.id)
            )
        ).scalar_one()
    ivan = await tourist_factory("Ivan", "ru")
    olga = await tourist_factory("Olga", "ru")
    emma = await tourist_factory("Emma", "en")  # the hotel, but another language
    pavel = await tourist_factory("Pavel", "ru")  # the hotel, but turns offers off
    nina = await tourist_factory("Nina", "ru")  # not at the hotel
    for guest in (ivan, olga, emma, pavel, nina):
        await guest.send("/start")
    async with sessions() as db, db.begin():
        in_hotel = [g.id for g in (ivan, olga, emma, pavel)]
        await db.execute(update(UserRow).where(UserRow.id.in_(in_hotel)).values(hotel_id=hotel_id))
    await pavel.send("/profile")
    await pavel.press(OfferCb(action=OfferAction.LIST))
    screen = await pavel.press(OfferCb(action=OfferAction.OFF))
    assert OfferCb(action=OfferAction.ON).pack() in str(screen["reply_markup"])

    operator = next(iter(world.chat(operators).members))
    assert "English" in (await operator_says(world, operators, operator, "/offer"))["text"]
    await operator_says(world, operators, operator, EN_TEXT)
    await operator_says(world, operators, operator, "/skip")  # German
    await operator_says(world, operators, operator, "/skip")  # Estonian
    await operator_says(world, operators, operator, RU_TEXT)
    await operator_says(world, operators, operator, "islands-cruise")
    await operator_says(world, operators, operator, "HOTEL-15 15% 100")
    await operator_says(world, operators, operator, "7")
    summary = await operator_says(world, operators, operator, f"hotel:{HOTEL} lang:ru", "Send this offer?")
    assert "It reaches 2 guests right now." in summary["text"], summary["text"]
    previews = [m["text"] for m in bot_messages(world, operators) if (m.get("text") or "").startswith("👁")]
    assert any(RU_TEXT in p and "HOTEL-15" in p for p in previews)
    await world.user_presses(
        operator, operators, summary["message_id"], OfferSendCb(action=OfferSendAction.SEND).pack()
    )

    def offered(guest: Tourist) -> list[dict[str, Any]]:
        return [m for m in guest.bot_messages() if "HOTEL-15" in (m.get("text") or "")]

    await world.wait_for(lambda: offered(ivan) and offered(olga), DELIVERY_WAIT)
    for guest in (ivan, olga):
        (message,) = offered(guest)
        assert RU_TEXT in message["text"] and "Круиз по островам" in message["text"]
    async with sessions() as db:
        offer = (await db.scalars(select(OfferRow).order_by(OfferRow.id.desc()))).first()
        code = await db.scalar(select(DiscountCodeRow).where(DiscountCodeRow.code == "HOTEL-15"))
        enqueued = sorted(await db.scalars(select(OutboxRow.chat_id).where(OutboxRow.kind == "tourist.offer")))
    assert offer is not None and offer.status == "sent" and offer.recipients == 2
    assert code is not None and code.percent == 15 and code.max_uses == 100
    assert enqueued == sorted([ivan.id, olga.id])  # nothing else was ever queued (its "sent" mark may still be due)
    for other in (emma, pavel, nina):
        assert offered(other) == []
    throttled = [c for c in world.calls[mark:] if c.method == "sendMessage" and c.status == 429]
    assert throttled == []  # paced below Telegram's limits

    # Ivan stops offers from the message itself
    (message,) = offered(ivan)
    below = await ivan.press(OfferCb(action=OfferAction.STOP), message)
    assert "HOTEL-15" in below["text"]  # the Offers screen below, the offer on it
    async with sessions() as db:
        assert await db.scalar(select(UserRow.offers_opt_out).where(UserRow.id == ivan.id)) is True
