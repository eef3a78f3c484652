"""An organiser learns their commands from /start and /help in their own chat (and their chat's command menu:
tests/handlers/test_organiser_menus.py); a tourist's /start and /help do not name them."""

from __future__ import annotations

import pytest

from tests.handlers.chat import Chat
from tests.handlers.organiser_wiring import organiser_chat, wire_organiser_routers

LINE = (
    "Your organiser commands: /sessions — your sessions and seats, /questions — the booking questions, "
    "/settings — booking terms and texts"
)


@pytest.fixture(autouse=True)
def _routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def org(dp, bot, recorder) -> Chat:
    return organiser_chat(dp, bot, recorder)


async def test_the_organisers_start_and_help_name_their_commands(org: Chat, seeded) -> None:
    await org.send("/start")
    text = org.last_text()
    assert text.startswith("Hello, Kapten!") and text.endswith("🧭 " + LINE)
    await org.send("/help")
    text = org.last_text()
    assert "/events — browse excursions" in text and text.endswith("🧭 " + LINE)
    await org.send("/start ev-nope")  # a dead link's greeting too
    assert org.last_text().endswith(LINE)


async def test_a_tourists_start_and_help_do_not(chat: Chat, seeded) -> None:
    await chat.send("/start")
    assert chat.last_text().startswith("Hello, Anna!") and "/sessions" not in chat.last_text()
    await chat.send("/help")
    assert "/events — browse excursions" in chat.last_text() and "/sessions" not in chat.last_text()


async def test_the_line_is_in_the_organisers_language(organiser: Chat, seeded) -> None:
    await organiser.send("/help")
    text = organiser.last_text()
    assert text.endswith(
        "🧭 Teie korraldaja käsud: /sessions — teie toimumisajad ja kohad, /questions — "
        "broneerimisküsimused, /settings — broneerimistingimused ja tekstid"
    )
