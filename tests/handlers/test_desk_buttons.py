"""The desk's buttons fit a phone (issue 10, item 12): in Russian, the desk's longest language here, every button
says what it does, whole, without a word cut in the middle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.config import Settings, load_settings
from domain.model.orders import format_order_code
from tests.handlers.chat import Chat
from tests.handlers.conftest import ADMIN_ID, OPERATOR_CHAT_ID, OPERATOR_ID
from tests.seed import seed_user


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        bot_token=None,
        database_url="sqlite+aiosqlite:///unused.db",
        operator_chat_id=OPERATOR_CHAT_ID,
        admin_ids=(ADMIN_ID,),
        catalog_refresh_seconds=0,  # tests change the catalog between updates: read its version every time
        default_locale="ru",
    )


BUTTON_WIDTH = 34  # what a phone shows whole on a full-width button


async def test_events_send_buttons_say_when_each_differs_and_nothing_is_cut_mid_word(
    operator_chat: Chat, sessions, seeded, clock
) -> None:
    from bot.storage.tables import RelayMessageRow
    from tests.handlers.conftest import OPERATOR_CHAT_ID as GROUP

    await seed_user(sessions, 1002, language="ru", now=clock.now(), first_name="Ivan")
    relayed = await operator_chat.send("(a tourist's question, as relayed)")
    async with sessions() as db, db.begin():
        db.add(
            RelayMessageRow(
                chat_id=GROUP,
                message_id=relayed.message_id,
                user_id=1002,
                direction="to_operators",
                created_at=clock.now(),
            )
        )
    await operator_chat.send("/events tallinn", reply_to=relayed.message_id)
    send = [b for b in operator_chat.buttons() if b.startswith("📤")]
    assert len(send) == 3 and len(set(send)) == 3
    for label in send:
        assert len(label) <= BUTTON_WIDTH, label
        assert re.search(r"\d{1,2}:\d{2}", label), label  # says when


async def test_the_change_session_buttons_fit_a_phone_in_russian(operator_chat: Chat, sessions, seeded, clock) -> None:
    from tests.handlers.test_desk_orders import book
    from tests.handlers.test_desk_tools import add_sessions

    await add_sessions(sessions, seeded.event_id, clock.now() + timedelta(days=3, minutes=30), 3)
    order = await book(sessions, seeded, clock)
    ru_operator = Chat(
        operator_chat.dp,
        operator_chat.bot,
        operator_chat.recorder,
        OPERATOR_ID,
        first_name="Olga",
        language_code="ru",
        chat_id=OPERATOR_CHAT_ID,
        chat_type="supergroup",
    )
    await ru_operator.send(f"/order {format_order_code(order.code)}")
    await ru_operator.press(lambda b: b.text.startswith("🗓"))
    choices = [b for b in ru_operator.buttons() if re.search(r"\d{1,2}:\d{2}", b)]
    assert choices
    for label in choices:
        assert len(label) <= BUTTON_WIDTH and "…" not in label, label
