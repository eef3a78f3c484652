"""The operator desk with the real bot process (``python -m bot run``) against the emulator: a silent organiser
raises one problem card in the operator group, an operator confirms from it and the card is edited in place into
"resolved"; a tourist's question reaches the group and the operator's reply comes back to the tourist.

This module has its own emulator, SQLite database and bot (scheduler every half second, a 2-second confirm window
so the organiser is "silent" quickly). Every wait is bounded and event-driven on the emulator's chats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from bot.i18n import I18n
from bot.storage.tables import AuditRow, DeskCardRow, OrganiserRow
from domain.model.orders import format_order_code
from handlers.operator.cards import CardAction, CardCb
from handlers.tourist.callbacks import BookAction, BookCb
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.booking import book_cruise, orders_of
from tests.e2e.conftest import BotProcess, Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import order_row, running_bot, wait_db

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_S = 15.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("desk"))) as database:
        async with database.sessions() as db, db.begin():
            await db.execute(update(OrganiserRow).values(confirm_within_s=2))
        yield database


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    log_path = tmp_path_factory.mktemp("desk-bot") / "bot.log"
    async with running_bot(emulator, database.url, operators, log_path, SCHEDULER_INTERVAL_S="0.5") as process:
        yield process


def group_messages(world: World, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in world.transcript(chat_id) if m["from"]["is_bot"] and not m["deleted"]]


def operator_id(world: World, chat_id: int) -> int:
    return next(iter(world.chat(chat_id).members))


async def wait_for(world: World, predicate, what: str) -> Any:
    try:
        return await world.wait_for(predicate, WAIT_S)
    except TimeoutError:
        raise AssertionError(f"no {what} within {WAIT_S} s") from None


async def test_a_silent_organiser_raises_one_card_that_an_operator_resolves(world, database, operators, bot) -> None:
    sessions = database.sessions
    anna = Tourist(world, world.add_user(first_name="Anna", language_code="en"))
    summary, _menu = await book_cruise(anna, database.seeded)
    await anna.press(BookCb(action=BookAction.CONFIRM, session=database.seeded.session_id), summary)
    [order] = await orders_of(sessions, anna.id)
    code = format_order_code(order.code)

    def cards() -> list[dict[str, Any]]:
        return [
            m
            for m in group_messages(world, operators)
            if code in (m.get("text") or "") and "Organiser silent" in (m.get("text") or "")
        ]

    [card] = await wait_for(world, cards, "problem card in the operator group")
    await asyncio.sleep(1.5)  # a few more passes of the desk job: still one card
    assert len(cards()) == 1

    olga = operator_id(world, operators)
    confirm = CardCb(action=CardAction.CONFIRM, card=await _card_id(database, order.id)).pack()
    await world.user_presses(olga, operators, card["message_id"], confirm)

    def resolved() -> dict[str, Any] | None:
        message = next(m for m in world.transcript(operators) if m["message_id"] == card["message_id"])
        return message if "✔️" in (message.get("text") or "") else None  # resolved

    final = await wait_for(world, resolved, "the card edited into resolved")
    assert "confirmed for the organiser" in final["text"] and not final.get("reply_markup")
    assert len(cards()) == 1  # edited in place, never a second card
    row = await order_row(sessions, order.id)
    assert row.booking == "confirmed"
    async with sessions() as db:
        actions = list(await db.scalars(select(AuditRow.action).where(AuditRow.order_id == order.id)))
    assert "problem.opened" in actions and "problem.resolved" in actions


async def _card_id(database: Database, order_id: int) -> int:
    rows = await wait_db(
        lambda: _cards_of(database, order_id), f"the card row of order {order_id}", until=lambda rows: bool(rows)
    )
    return rows[0].id


async def _cards_of(database: Database, order_id: int) -> list[DeskCardRow]:
    async with database.sessions() as db:
        return list(await db.scalars(select(DeskCardRow).where(DeskCardRow.order_id == order_id)))


async def test_a_question_reaches_the_group_and_the_reply_comes_back(world, database, operators, bot) -> None:
    dmitri = Tourist(world, world.add_user(first_name="Dmitri", language_code="ru"))
    await dmitri.send("/start")
    await dmitri.send("/question")
    await dmitri.send("Можно ли взять собаку на круиз?")

    def relayed() -> list[dict[str, Any]]:
        return [m for m in group_messages(world, operators) if "собаку" in (m.get("text") or "")]

    [relay] = await wait_for(world, relayed, "the question in the operator group")
    assert "Dmitri" in relay["text"]
    olga = operator_id(world, operators)
    await world.user_sends(olga, "Yes, dogs on a lead are welcome.", chat_id=operators, reply_to=relay["message_id"])

    def answered() -> list[dict[str, Any]]:
        return [m for m in dmitri.bot_messages() if "dogs on a lead" in (m.get("text") or "")]

    [answer] = await wait_for(world, answered, "the operator's answer in the tourist's chat")
    ru = I18n("en").translator("ru")
    assert answer["text"] == f"💬 {ru.gettext('Our team answers:')}\n\nYes, dogs on a lead are welcome."
    assert ru.gettext("Our team answers:") != "Our team answers:"  # the header is in Dmitri's language
